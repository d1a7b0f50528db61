using System.Collections.Concurrent;
using Appliance.Core;
using Appliance.Management.Traffic;

namespace Appliance.Management.Tests.WebConsole;

/// <summary>A traffic source whose counters a test sets (one data plane, every camera slot the same counters).</summary>
internal sealed class MutableTraffic : ITrafficSource
{
    public long Passed { get; set; }

    public long Dropped { get; set; }

    public DateTimeOffset? LastSeen { get; set; }

    public long CaptureDrops { get; set; } = 3;

    public long SyslogQueueDropped { get; set; }

    public SyslogShippingStatus? Syslog { get; set; }

    /// <summary>The tracked flows <see cref="Flows"/> pages through.</summary>
    public List<FlowView> FlowList { get; } = [];

    /// <summary>What the cameras learned from their DNS answers.</summary>
    public List<LearnedNameView> Names { get; } = [];

    public IReadOnlyList<DataPlaneStatus> DataPlanes() => [new("pair0", true, null, CaptureDrops, 2, 1024, 0)];

    public CameraTotals Camera(int slot) => new(Passed, Dropped, Passed * 100, Dropped * 100, LastSeen);

    public IReadOnlyList<KeyValuePair<Reason, long>> Reasons() => [new(Reason.RuleMatch, Passed), new(Reason.NoRuleMatched, Dropped)];

    public FlowPage Flows(int offset, int limit) => new(FlowList.Count, [.. FlowList.Skip(offset).Take(limit)]);

    public IReadOnlyList<LearnedNameView> LearnedNames() => Names;
}

/// <summary>An event feed a test appends to (thread-safe: the event stream reads it while the test writes).</summary>
internal sealed class ListFeed : IEventFeed
{
    private readonly ConcurrentQueue<ReportedEvent> _events = new();
    private long _next;

    public DateTimeOffset At { get; set; } = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    public long Total => _events.Count;

    public ReportedEvent Add(string kind, params (string Key, string Value)[] fields)
    {
        var e = new ReportedEvent(Interlocked.Increment(ref _next), At, kind, kind is "phone-home" or "ip-spoof" ? "Warning" : "Information", kind + " " + string.Join(" ", fields.Select(f => f.Key + "=" + f.Value)), fields.ToDictionary(f => f.Key, f => f.Value));
        _events.Enqueue(e);
        return e;
    }

    public IReadOnlyList<ReportedEvent> Recent(int max, long after = 0)
        => [.. _events.Reverse().Where(e => e.Sequence > after).Take(max)];

    /// <summary>A dropped egress flow of <paramref name="camera"/>, as the reporter writes it.</summary>
    public ReportedEvent Drop(string kind, string camera, string dst, int port, string reason = "no-rule-matched", string rule = "-")
        => Add(kind, ("camera", camera), ("mac", "02:00:00:00:00:01"), ("direction", "egress"), ("proto", "tcp"), ("src", "192.0.2.11"), ("sport", "40000"), ("dst", dst), ("dport", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("reason", reason), ("rule", rule), ("policy", "1"), ("action", "dropped"));
}
