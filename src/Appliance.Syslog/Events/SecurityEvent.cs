using Microsoft.Extensions.Logging;

namespace Appliance.Syslog.Events;

/// <summary>One reported security event as the management API lists it.</summary>
/// <param name="Sequence">Increasing number, unique for the process lifetime (for paging and de-duplication).</param>
/// <param name="Time">When it was reported.</param>
/// <param name="Kind">The MSGID, e.g. <c>phone-home</c> (see <see cref="SecurityEventIds"/>).</param>
/// <param name="Level">Its log level (Warning for phone-home, spoofing, unknown devices).</param>
/// <param name="Message">The human-readable text, as in syslog.</param>
/// <param name="Fields">The structured values, as in the syslog STRUCTURED-DATA.</param>
public sealed record SecurityEvent(
    long Sequence,
    DateTimeOffset Time,
    string Kind,
    LogLevel Level,
    string Message,
    IReadOnlyDictionary<string, string> Fields);

/// <summary>
/// The stable event ids and names (the names are the syslog MSGIDs) of security events. Never renumber or rename:
/// SIEM rules match on them.
/// </summary>
public static class SecurityEventIds
{
    /// <summary>A newly denied flow (default deny, blocked discovery, state violations...).</summary>
    public const string FlowDenied = "flow-denied";

    /// <summary>A camera opened, or tried to open, a connection to a public address.</summary>
    public const string PhoneHome = "phone-home";

    /// <summary>Periodic count of further frames of an already reported flow.</summary>
    public const string FlowRepeat = "flow-repeat";

    /// <summary>A frame the policy would drop, passed because the camera is in monitor mode.</summary>
    public const string MonitoredDrop = "monitored-drop";

    /// <summary>A connection matched a rule marked <c>log: true</c>.</summary>
    public const string RuleMatch = "rule-match";

    /// <summary>A device that is in no camera's policy.</summary>
    public const string UnknownDevice = "unknown-device";

    /// <summary>A camera's MAC with another IP address.</summary>
    public const string MacSpoof = "mac-spoof";

    /// <summary>A camera's IP address behind another MAC.</summary>
    public const string IpSpoof = "ip-spoof";

    /// <summary>ARP with a sender MAC/IP pair that is not one listed device.</summary>
    public const string ArpSpoof = "arp-spoof";

    /// <summary>A malformed frame (per source, then aggregated).</summary>
    public const string MalformedFrame = "malformed-frame";

    /// <summary>Drop events lost because an engine's event ring was full.</summary>
    public const string EventsLost = "events-lost";

    /// <summary>New flows not reported one by one because the reporter's flow table was full.</summary>
    public const string FlowsSuppressed = "flows-suppressed";

    /// <summary>A policy was compiled and put in force.</summary>
    public const string PolicyApplied = "policy-applied";

    /// <summary>A policy failed to load or validate; the previous one stays in force.</summary>
    public const string PolicyRejected = "policy-rejected";

    /// <summary>A policy was replaced by an earlier one (operator rollback or automatic revert).</summary>
    public const string PolicyRolledBack = "policy-rolled-back";
}
