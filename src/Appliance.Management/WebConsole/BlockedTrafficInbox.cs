using System.Globalization;
using Appliance.Management.Traffic;

namespace Appliance.Management.WebConsole;

/// <summary>One line of the blocked-traffic inbox: every refused frame of one camera to one destination, port and reason.</summary>
/// <param name="Camera">The camera, or <c>unknown device ADDRESS</c> for a device in no camera's policy.</param>
/// <param name="Destination">The address it tried to reach.</param>
/// <param name="Port">The destination port (0 for protocols without one).</param>
/// <param name="Protocol">tcp, udp, icmp...</param>
/// <param name="Reason">The engine's reason, e.g. <c>no-rule-matched</c>, <c>ip-spoof</c>.</param>
/// <param name="Kind">The event kind that reported it first, e.g. <c>phone-home</c>.</param>
/// <param name="Critical">Phone-home, spoofing or an unknown device: listed first.</param>
/// <param name="Count">Frames refused (repeat counts included).</param>
/// <param name="FirstSeen">First report.</param>
/// <param name="LastSeen">Latest report.</param>
/// <param name="DnsName">The name the camera resolved for the destination, when the events carry one.</param>
/// <param name="Rule">The rule the event names (<c>-</c> when none matched).</param>
public sealed record BlockedGroup(string Camera, string Destination, int Port, string Protocol, string Reason, string Kind, bool Critical, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, string? DnsName, string Rule);

/// <summary>
/// Blocked traffic grouped like an inbox by (camera, destination, port, reason), read off the data path from the
/// reported security events (one per new refused flow, then periodic repeat counts), so a camera hammering one
/// address is one line with a count, not ten thousand. Bounded: at most <c>maxGroups</c> lines; when full, the
/// least recently seen quarter of the routine lines goes first, the security-critical ones last.
/// </summary>
public sealed class BlockedTrafficInbox(int maxGroups = 4096)
{
    /// <summary>Event kinds a security officer wants to see before routine denials.</summary>
    public static readonly IReadOnlySet<string> CriticalKinds = new HashSet<string>(StringComparer.Ordinal)
    {
        "phone-home", "unknown-device", "mac-spoof", "ip-spoof", "arp-spoof",
    };

    /// <summary>Event kinds that report spoofing (the cameras page shows a badge for them).</summary>
    public static readonly IReadOnlySet<string> SpoofKinds = new HashSet<string>(StringComparer.Ordinal) { "mac-spoof", "ip-spoof", "arp-spoof" };

    private readonly Dictionary<Key, Entry> _groups = [];
    private readonly Lock _gate = new();
    private long _lastSequence;

    /// <summary>Lines held.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _groups.Count;
            }
        }
    }

    /// <summary>Reads the events reported since the last call (the console calls it before it renders).</summary>
    public void CatchUp(IEventFeed feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        lock (_gate)
        {
            var batch = feed.Recent(4096, _lastSequence);
            for (var i = batch.Count - 1; i >= 0; i--)
            {
                Observe(batch[i]);
            }

            if (batch.Count > 0)
            {
                _lastSequence = Math.Max(_lastSequence, batch[0].Sequence);
            }
        }
    }

    /// <summary>Counts one event if it reports frames the engine dropped.</summary>
    public void Observe(ReportedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var f = e.Fields;
        var kind = e.Kind;
        long count = 1;
        if (kind == "flow-repeat"
            && (!f.TryGetValue("kind", out kind!) || !f.TryGetValue("count", out var c) || !long.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out count)))
        {
            return;
        }

        if (!f.TryGetValue("action", out var action) || action != DeniedDestinationTracker.DroppedAction
            || !f.TryGetValue("dst", out var dst)
            || !f.TryGetValue("reason", out var reason))
        {
            return;
        }

        var port = f.TryGetValue("dport", out var dportText) && int.TryParse(dportText, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
        var camera = f.TryGetValue("camera", out var cam) && cam.Length > 0 && cam != "-"
            ? cam
            : "unknown device " + (f.TryGetValue("src", out var src) ? src : "?");
        // The reporter's name is the peer's: the destination's only when the camera sent the frame.
        var egress = !f.TryGetValue("direction", out var direction) || direction != "ingress";
        var dns = egress && f.TryGetValue(DeniedDestinationTracker.DnsNameField, out var n) && n.Length > 0 && n != "-" ? n : null;

        var key = new Key(camera, dst, port, reason);
        lock (_gate)
        {
            if (_groups.TryGetValue(key, out var entry))
            {
                entry.Count += count;
                entry.LastSeen = e.At > entry.LastSeen ? e.At : entry.LastSeen;
                entry.DnsName = dns ?? entry.DnsName;
                entry.Critical |= CriticalKinds.Contains(kind);
                return;
            }

            if (_groups.Count >= maxGroups)
            {
                Evict();
            }

            _groups.Add(key, new Entry
            {
                Protocol = f.TryGetValue("proto", out var proto) ? proto : "",
                Kind = kind,
                Critical = CriticalKinds.Contains(kind),
                Count = count,
                FirstSeen = e.At,
                LastSeen = e.At,
                DnsName = dns,
                Rule = f.TryGetValue("rule", out var rule) ? rule : "-",
            });
        }
    }

    /// <summary>Every line: security-critical first, then most recently seen first.</summary>
    public IReadOnlyList<BlockedGroup> List(string? camera = null)
    {
        lock (_gate)
        {
            return [.. _groups
                .Where(kv => camera is null || kv.Key.Camera == camera)
                .Select(kv => new BlockedGroup(kv.Key.Camera, kv.Key.Destination, kv.Key.Port, kv.Value.Protocol, kv.Key.Reason, kv.Value.Kind, kv.Value.Critical, kv.Value.Count, kv.Value.FirstSeen, kv.Value.LastSeen, kv.Value.DnsName, kv.Value.Rule))
                .OrderByDescending(g => g.Critical)
                .ThenByDescending(g => g.LastSeen)
                .ThenBy(g => g.Camera, StringComparer.Ordinal)
                .ThenBy(g => g.Destination, StringComparer.Ordinal)
                .ThenBy(g => g.Port)];
        }
    }

    // Drops the least recently seen quarter, routine lines before critical ones; one sort per quarter, not per event.
    private void Evict()
    {
        foreach (var key in _groups.OrderBy(kv => kv.Value.Critical).ThenBy(kv => kv.Value.LastSeen).Take(Math.Max(1, maxGroups / 4)).Select(kv => kv.Key).ToList())
        {
            _groups.Remove(key);
        }
    }

    private readonly record struct Key(string Camera, string Destination, int Port, string Reason);

    private sealed class Entry
    {
        public required string Protocol { get; init; }

        public required string Kind { get; init; }

        public required string Rule { get; init; }

        public bool Critical { get; set; }

        public long Count { get; set; }

        public DateTimeOffset FirstSeen { get; init; }

        public DateTimeOffset LastSeen { get; set; }

        public string? DnsName { get; set; }
    }
}
