using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog.Events;

/// <summary>
/// Security events as log messages, each kind with its own stable event id whose name is the syslog MSGID
/// (<see cref="SecurityEventIds"/>), and the most recent of them kept in memory, newest first, for the management
/// API. The <see cref="DropEventReporter"/> writes flow events; the host and management code call
/// <see cref="PolicyApplied"/>, <see cref="PolicyRejected"/> and <see cref="PolicyRolledBack"/>. Thread-safe.
/// </summary>
public sealed partial class SecurityEventLog
{
    private readonly RecordingLogger _logger;
    private readonly SecurityEvent?[] _recent;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private long _sequence;
    private int _next;

    /// <summary>Creates the log over <paramref name="logger"/>.</summary>
    public SecurityEventLog(ILogger<SecurityEventLog> logger, IOptions<SecurityEventOptions> options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(options);
        _time = time ?? TimeProvider.System;
        _recent = new SecurityEvent?[options.Value.RecentCapacity];
        _logger = new RecordingLogger(logger, this);
    }

    /// <summary>Events reported since start.</summary>
    public long Total => Interlocked.Read(ref _sequence);

    /// <summary>
    /// Up to <paramref name="max"/> recent events, newest first, optionally only those of one
    /// <paramref name="kind"/> (MSGID) or newer than sequence <paramref name="after"/>.
    /// </summary>
    public IReadOnlyList<SecurityEvent> Recent(int max = 100, string? kind = null, long after = 0)
    {
        var result = new List<SecurityEvent>(Math.Clamp(max, 0, _recent.Length));
        lock (_gate)
        {
            for (var i = 1; i <= _recent.Length && result.Count < max; i++)
            {
                var e = _recent[(_next - i + _recent.Length) % _recent.Length];
                if (e is null || e.Sequence <= after)
                {
                    break;
                }

                if (kind is null || e.Kind == kind)
                {
                    result.Add(e);
                }
            }
        }

        return result;
    }

    /// <summary>Reports a policy put in force.</summary>
    /// <param name="version">Its version.</param>
    /// <param name="sha256">Hash of its sources.</param>
    /// <param name="cameras">Cameras it lists.</param>
    /// <param name="rules">Rules it compiled to.</param>
    /// <param name="source">Where it came from (directory, API user...).</param>
    public void PolicyApplied(uint version, string sha256, int cameras, int rules, string source)
        => Log.PolicyApplied(_logger, version, sha256, cameras, rules, source);

    /// <summary>Reports a policy that failed to load, validate or compile; the previous one stays in force.</summary>
    /// <param name="errors">How many problems were found.</param>
    /// <param name="reason">The first problem(s), naming file, line and the camera or rule at fault.</param>
    /// <param name="source">Where it came from.</param>
    public void PolicyRejected(int errors, string reason, string source)
        => Log.PolicyRejected(_logger, errors, reason, source);

    /// <summary>Reports a rollback from <paramref name="fromVersion"/> to the earlier <paramref name="toVersion"/>.</summary>
    /// <param name="fromVersion">The version taken out of force.</param>
    /// <param name="toVersion">The version put back (it may carry a new version number; pass the one now in force).</param>
    /// <param name="reason">Why (operator request, failed health check...).</param>
    public void PolicyRolledBack(uint fromVersion, uint toVersion, string reason)
        => Log.PolicyRolledBack(_logger, fromVersion, toVersion, reason);

    internal void Flow(string kind, in FlowFields f)
    {
        switch (kind)
        {
            case SecurityEventIds.PhoneHome:
                Log.PhoneHome(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            case SecurityEventIds.MonitoredDrop:
                Log.MonitoredDrop(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            case SecurityEventIds.RuleMatch:
                Log.RuleMatch(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            case SecurityEventIds.UnknownDevice:
                Log.UnknownDevice(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            case SecurityEventIds.MacSpoof:
                Log.MacSpoof(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            case SecurityEventIds.IpSpoof:
                Log.IpSpoof(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            case SecurityEventIds.ArpSpoof:
                Log.ArpSpoof(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            case SecurityEventIds.MalformedFrame:
                Log.MalformedFrame(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
            default:
                Log.FlowDenied(_logger, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);
                break;
        }
    }

    internal void Repeat(long count, int seconds, string kind, in FlowFields f)
        => Log.FlowRepeat(_logger, count, seconds, kind, f.Camera, f.Mac, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Dns, f.Reason, f.Rule, f.PolicyVersion, f.Action);

    internal void EventsLost(long count, int ring) => Log.EventsLost(_logger, count, ring);

    internal void FlowsSuppressed(long count, int capacity) => Log.FlowsSuppressed(_logger, count, capacity);

    private void Record(EventId eventId, LogLevel level, string message, IReadOnlyList<KeyValuePair<string, object?>>? values)
    {
        var fields = new Dictionary<string, string>(values?.Count ?? 0, StringComparer.Ordinal);
        if (values is not null)
        {
            foreach (var (key, value) in values)
            {
                if (key != "{OriginalFormat}")
                {
                    fields[key] = value is IFormattable f ? f.ToString(null, System.Globalization.CultureInfo.InvariantCulture) : value?.ToString() ?? "";
                }
            }
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var e = new SecurityEvent(++_sequence, now, eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), level, message, fields);
            _recent[_next] = e;
            _next = (_next + 1) % _recent.Length;
        }
    }

    /// <summary>
    /// Passes every event to the real logger and keeps a copy for <see cref="Recent"/>. Always enabled, so the
    /// recent list is complete even when the console or syslog filters the event out.
    /// </summary>
    private sealed class RecordingLogger(ILogger inner, SecurityEventLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner.Record(eventId, logLevel, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>>);
            if (inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }

    private static partial class Log
    {
        private const string Tail = "camera {camera} ({mac}) {direction} {proto} {src}:{sport} -> {dst}:{dport}, dns name {dns}, reason {reason}, rule {rule}, policy v{policy}, {action}";

        [LoggerMessage(EventId = 1000, EventName = SecurityEventIds.FlowDenied, Level = LogLevel.Information, Message = "Denied flow: " + Tail)]
        public static partial void FlowDenied(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1001, EventName = SecurityEventIds.PhoneHome, Level = LogLevel.Warning, Message = "Phone-home attempt to a public address: " + Tail)]
        public static partial void PhoneHome(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1002, EventName = SecurityEventIds.FlowRepeat, Level = LogLevel.Information, Message = "{count} more frames of this {kind} flow in the last {seconds} s: " + Tail)]
        public static partial void FlowRepeat(ILogger logger, long count, int seconds, string kind, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1003, EventName = SecurityEventIds.MonitoredDrop, Level = LogLevel.Information, Message = "Monitor mode, would have dropped: " + Tail)]
        public static partial void MonitoredDrop(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1004, EventName = SecurityEventIds.RuleMatch, Level = LogLevel.Information, Message = "Logged rule match: " + Tail)]
        public static partial void RuleMatch(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1005, EventName = SecurityEventIds.UnknownDevice, Level = LogLevel.Warning, Message = "Unknown device seen: " + Tail)]
        public static partial void UnknownDevice(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1006, EventName = SecurityEventIds.MacSpoof, Level = LogLevel.Warning, Message = "MAC spoofing (a camera's MAC with another address): " + Tail)]
        public static partial void MacSpoof(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1007, EventName = SecurityEventIds.IpSpoof, Level = LogLevel.Warning, Message = "IP spoofing (a camera's address behind another MAC): " + Tail)]
        public static partial void IpSpoof(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1008, EventName = SecurityEventIds.ArpSpoof, Level = LogLevel.Warning, Message = "ARP spoofing (sender MAC/IP of no listed device): " + Tail)]
        public static partial void ArpSpoof(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1009, EventName = SecurityEventIds.MalformedFrame, Level = LogLevel.Information, Message = "Malformed frame dropped: " + Tail)]
        public static partial void MalformedFrame(ILogger logger, string camera, string mac, string direction, string proto, string src, int sport, string dst, int dport, string dns, string reason, string rule, uint policy, string action);

        [LoggerMessage(EventId = 1010, EventName = SecurityEventIds.EventsLost, Level = LogLevel.Warning, Message = "{count} drop events were lost because engine {ring}'s event ring was full")]
        public static partial void EventsLost(ILogger logger, long count, int ring);

        [LoggerMessage(EventId = 1011, EventName = SecurityEventIds.FlowsSuppressed, Level = LogLevel.Warning, Message = "{count} new flows were counted but not reported one by one: the reporter tracks at most {capacity} flows")]
        public static partial void FlowsSuppressed(ILogger logger, long count, int capacity);

        [LoggerMessage(EventId = 1100, EventName = SecurityEventIds.PolicyApplied, Level = LogLevel.Information, Message = "Policy v{version} applied (sha256 {sha256}): {cameras} cameras, {rules} rules, from {source}")]
        public static partial void PolicyApplied(ILogger logger, uint version, string sha256, int cameras, int rules, string source);

        [LoggerMessage(EventId = 1101, EventName = SecurityEventIds.PolicyRejected, Level = LogLevel.Error, Message = "Policy rejected with {errors} errors, the previous policy stays in force; from {source}: {reason}")]
        public static partial void PolicyRejected(ILogger logger, int errors, string reason, string source);

        [LoggerMessage(EventId = 1102, EventName = SecurityEventIds.PolicyRolledBack, Level = LogLevel.Warning, Message = "Policy rolled back from v{fromVersion} to v{toVersion}: {reason}")]
        public static partial void PolicyRolledBack(ILogger logger, uint fromVersion, uint toVersion, string reason);
    }
}

/// <summary>
/// The printable fields of one flow event. <see cref="Dns"/> is the name the camera last resolved to the peer's address
/// (the destination of egress, the source of ingress), or <c>-</c>.
/// </summary>
internal readonly record struct FlowFields(
    string Camera,
    string Mac,
    string Direction,
    string Protocol,
    string Source,
    int SourcePort,
    string Destination,
    int DestinationPort,
    string Dns,
    string Reason,
    string Rule,
    uint PolicyVersion,
    string Action);
