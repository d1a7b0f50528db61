using System.Globalization;

namespace Appliance.Management.Traffic;

/// <summary>
/// A destination a camera tried to reach and was refused, with how often and when last, and the name the camera had
/// resolved to it (the latest event that carried one), or null.
/// </summary>
public sealed record DeniedDestination(string Address, int Port, string Protocol, long Count, DateTimeOffset LastSeen, string? Name = null);

/// <summary>
/// Per camera, the destinations it was denied most often, kept off the data path from the reported events (one
/// event per new denied flow, then periodic repeat counts). Memory is bounded whatever the traffic: at most
/// <c>trackedPerCamera</c> destinations per camera and <c>maxCameras</c> cameras.
/// </summary>
/// <remarks>
/// The field names and values read here are those the syslog drop-event reporter writes (its
/// <c>SecurityEventLog</c> message templates): <c>direction</c> is <c>egress</c>/<c>ingress</c>, <c>action</c> is
/// <c>dropped</c>, <c>monitored</c> or <c>passed</c>, and a <c>flow-repeat</c> carries the original
/// <c>kind</c> and a <c>count</c>. Host tests feed the real reporter's output through this class, so a rename on
/// either side fails a test instead of leaving the column blank.
/// </remarks>
public sealed class DeniedDestinationTracker(int trackedPerCamera = 32, int maxCameras = 131_072)
{
    /// <summary>The reporter's <c>action</c> for a frame the engine dropped (not monitor mode, not a logged pass).</summary>
    internal const string DroppedAction = "dropped";

    /// <summary>
    /// The reporter's field with the name the camera last resolved to the peer's address (<c>-</c> when none); the peer
    /// is the destination of egress events and the source of ingress ones.
    /// </summary>
    internal const string DnsNameField = "dns";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, TopN> _perCamera = new(StringComparer.Ordinal);
    private long _lastSequence;

    /// <summary>Reads the events reported since the last call. The host calls it every second.</summary>
    public void CatchUp(IEventFeed feed)
    {
        ArgumentNullException.ThrowIfNull(feed);

        // The whole read-and-count under the lock: two overlapping calls (a slow timer tick) must not both count
        // the events after the same sequence number.
        lock (_gate)
        {
            var batch = feed.Recent(4096, _lastSequence);
            if (batch.Count == 0)
            {
                return;
            }

            // Newest first: walk backwards so counts accumulate in order.
            for (var i = batch.Count - 1; i >= 0; i--)
            {
                Observe(batch[i]);
            }

            _lastSequence = Math.Max(_lastSequence, batch[0].Sequence);
        }
    }

    /// <summary>
    /// Counts one event if it is a camera's own attempt that was refused: a <c>flow-denied</c> or
    /// <c>phone-home</c> (or a repeat count of one) in the egress direction whose frames were dropped. A camera in
    /// monitor mode phoning home is reported too, but was not refused, so it is not counted here.
    /// </summary>
    public void Observe(ReportedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var f = e.Fields;
        long count;
        var kind = e.Kind;
        if (kind == "flow-repeat")
        {
            if (!f.TryGetValue("kind", out kind!) || !f.TryGetValue("count", out var c) || !long.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out count))
            {
                return;
            }
        }
        else
        {
            count = 1;
        }

        if (kind is not ("flow-denied" or "phone-home")
            || !f.TryGetValue("direction", out var direction) || direction != "egress"
            || !f.TryGetValue("action", out var action) || action != DroppedAction
            || !f.TryGetValue("camera", out var camera) || camera.Length == 0 || camera == "-"
            || !f.TryGetValue("dst", out var dst)
            || !f.TryGetValue("dport", out var dportText) || !int.TryParse(dportText, NumberStyles.None, CultureInfo.InvariantCulture, out var dport))
        {
            return;
        }

        f.TryGetValue("proto", out var proto);
        var name = f.TryGetValue(DnsNameField, out var n) && n.Length > 0 && n != "-" ? n : null;
        lock (_gate)
        {
            if (!_perCamera.TryGetValue(camera, out var top))
            {
                if (_perCamera.Count >= maxCameras)
                {
                    return;
                }

                top = new TopN(trackedPerCamera);
                _perCamera.Add(camera, top);
            }

            top.Add(new Key(dst, dport, proto ?? ""), count, e.At, name);
        }
    }

    /// <summary>The camera's most denied destinations, most frequent first.</summary>
    public IReadOnlyList<DeniedDestination> Top(string camera, int max)
    {
        lock (_gate)
        {
            return _perCamera.TryGetValue(camera, out var top) ? top.Top(max) : [];
        }
    }

    private readonly record struct Key(string Address, int Port, string Protocol);

    // Space-saving heavy hitters (Metwally et al.): when full, the least counted entry is replaced and the newcomer
    // inherits its count, so a destination hit often is never pushed out by a scan of one-off ones.
    private sealed class TopN(int capacity)
    {
        private readonly Dictionary<Key, (long Count, DateTimeOffset Last, string? Name)> _counts = [];

        public void Add(Key key, long count, DateTimeOffset at, string? name)
        {
            if (_counts.TryGetValue(key, out var entry))
            {
                _counts[key] = (entry.Count + count, at > entry.Last ? at : entry.Last, name ?? entry.Name);
                return;
            }

            if (_counts.Count < capacity)
            {
                _counts[key] = (count, at, name);
                return;
            }

            var min = default(Key);
            var minCount = long.MaxValue;
            foreach (var (k, v) in _counts)
            {
                if (v.Count < minCount)
                {
                    min = k;
                    minCount = v.Count;
                }
            }

            _counts.Remove(min);
            _counts[key] = (minCount + count, at, name);
        }

        public List<DeniedDestination> Top(int max)
            => [.. _counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key.Address, StringComparer.Ordinal).ThenBy(kv => kv.Key.Port).Take(max)
                .Select(kv => new DeniedDestination(kv.Key.Address, kv.Key.Port, kv.Key.Protocol, kv.Value.Count, kv.Value.Last, kv.Value.Name))];
    }
}
