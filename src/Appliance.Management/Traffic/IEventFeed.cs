namespace Appliance.Management.Traffic;

/// <summary>
/// One reported security event (a new denied flow, a phone-home attempt, a repeat count, spoofing...), as the
/// syslog reporter produced it from the engines' drop events.
/// </summary>
/// <param name="Sequence">Increasing, unique for the process lifetime.</param>
/// <param name="At">When it was reported.</param>
/// <param name="Kind">Its syslog MSGID, e.g. <c>flow-denied</c>, <c>phone-home</c>, <c>flow-repeat</c>.</param>
/// <param name="Level">Log level name.</param>
/// <param name="Message">The human-readable text.</param>
/// <param name="Fields">Structured values: <c>camera, mac, direction, proto, src, sport, dst, dport, dns, reason, rule, policy, action</c> (<c>dns</c>: the name the camera last resolved to the peer's address, <c>-</c> when none); <c>count, kind</c> for repeats.</param>
public sealed record ReportedEvent(long Sequence, DateTimeOffset At, string Kind, string Level, string Message, IReadOnlyDictionary<string, string> Fields);

/// <summary>Recent security events, newest first. The host adapts the syslog reporter's list.</summary>
public interface IEventFeed
{
    /// <summary>Events reported since start.</summary>
    long Total { get; }

    /// <summary>Up to <paramref name="max"/> events newer than sequence <paramref name="after"/>, newest first.</summary>
    IReadOnlyList<ReportedEvent> Recent(int max, long after = 0);
}

/// <summary>No events, for tests that run the management server without a syslog reporter.</summary>
internal sealed class NullEventFeed : IEventFeed
{
    public static NullEventFeed Instance { get; } = new();

    public long Total => 0;

    public IReadOnlyList<ReportedEvent> Recent(int max, long after = 0) => [];
}
