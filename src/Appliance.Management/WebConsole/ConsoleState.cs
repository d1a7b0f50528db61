using Appliance.Management.Api;

namespace Appliance.Management.WebConsole;

/// <summary>What the console's handlers share: its clock, sessions, per-minute samples and blocked-traffic inbox.</summary>
/// <param name="Time">The clock of session expiry and of "3 min ago".</param>
/// <param name="Sessions">Server-side login sessions.</param>
/// <param name="Sampler">Per-minute camera and total counters.</param>
/// <param name="Inbox">Blocked traffic grouped by camera, destination, port and reason.</param>
/// <param name="Options">The management options (confirm limits, listen address).</param>
public sealed record ConsoleState(TimeProvider Time, ConsoleSessions Sessions, TrafficSampler Sampler, BlockedTrafficInbox Inbox, ManagementOptions Options);
