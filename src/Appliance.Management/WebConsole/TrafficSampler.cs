using Appliance.Management.Policies;
using Appliance.Management.Traffic;

namespace Appliance.Management.WebConsole;

/// <summary>What a camera passed and dropped over a window, and whether the window is shorter than asked (young history).</summary>
/// <param name="Passed">Frames passed in the window.</param>
/// <param name="Dropped">Frames dropped in the window.</param>
/// <param name="Since">Start of the window actually covered.</param>
/// <param name="Partial">True when the samples do not reach back the whole window yet.</param>
public readonly record struct WindowCounts(long Passed, long Dropped, DateTimeOffset Since, bool Partial);

/// <summary>
/// Per-minute samples of each camera's cumulative counters and of the total frames decided, in small rings, taken by
/// a timer off the data path (the data-plane threads only publish counters; this reads them once a minute). "Passed
/// over the last hour" is the live counter minus the sample an hour old. Memory: <see cref="Keep"/> samples per
/// camera of the policy in force; cameras that leave the policy are forgotten at the next sample.
/// </summary>
public sealed class TrafficSampler : IDisposable
{
    private readonly PolicyService _policies;
    private readonly ITrafficSource _traffic;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Ring> _cameras = new(StringComparer.Ordinal);
    private readonly Ring _total;
    private readonly Lock _gate = new();
    private ITimer? _timer;

    /// <summary>Creates a sampler; <see cref="Start"/> begins sampling.</summary>
    public TrafficSampler(PolicyService policies, ITrafficSource traffic, TimeProvider time, TimeSpan interval, int keep = 61)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 2);
        _policies = policies;
        _traffic = traffic;
        _time = time;
        Interval = interval;
        Keep = keep;
        _total = new Ring(keep);
    }

    /// <summary>Time between samples.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Samples kept per camera (61 one-minute samples cover the last hour).</summary>
    public int Keep { get; }

    /// <summary>Takes a first sample now, then one every <see cref="Interval"/>.</summary>
    public void Start()
    {
        Sample();
        _timer = _time.CreateTimer(static s => ((TrafficSampler)s!).SampleSafely(), this, Interval, Interval);
    }

    /// <summary>Reads every camera's counters and the total frames decided once, into the rings.</summary>
    public void Sample()
    {
        var now = _time.GetUtcNow();
        var state = _policies.Current;
        long total = 0;
        foreach (var (_, frames) in _traffic.Reasons())
        {
            total += frames;
        }

        lock (_gate)
        {
            _total.Add(new Point(now, total, 0));
            if (state is null)
            {
                return;
            }

            HashSet<string>? present = null;
            foreach (var camera in state.Spec.Cameras)
            {
                (present ??= new(StringComparer.Ordinal)).Add(camera.Name);
                var counters = _policies.Holder.Slots.TryGet(camera.Name, out var slot) ? _traffic.Camera(slot) : default;
                if (!_cameras.TryGetValue(camera.Name, out var ring))
                {
                    ring = new Ring(Keep);
                    _cameras.Add(camera.Name, ring);
                }

                ring.Add(new Point(now, counters.FramesPassed, counters.FramesDropped));
            }

            foreach (var name in _cameras.Keys.ToList())
            {
                if (present is null || !present.Contains(name))
                {
                    _cameras.Remove(name);
                }
            }
        }
    }

    /// <summary>
    /// What <paramref name="camera"/> passed and dropped in the <paramref name="window"/> up to its live counters
    /// <paramref name="now"/>; null before the first sample of that camera.
    /// </summary>
    public WindowCounts? Window(string camera, CameraTotals now, TimeSpan window)
    {
        lock (_gate)
        {
            if (!_cameras.TryGetValue(camera, out var ring) || !ring.TryBaseline(_time.GetUtcNow() - window, out var baseline, out var partial))
            {
                return null;
            }

            // Counters only grow for one camera slot; a drop means the slot was reused: count from zero.
            var passed = now.FramesPassed >= baseline.Passed ? now.FramesPassed - baseline.Passed : now.FramesPassed;
            var dropped = now.FramesDropped >= baseline.Dropped ? now.FramesDropped - baseline.Dropped : now.FramesDropped;
            return new WindowCounts(passed, dropped, baseline.At, partial);
        }
    }

    /// <summary>
    /// Frames decided per second since the newest sample at least a few seconds old, given the live total; null
    /// until there is such a sample.
    /// </summary>
    public double? FramesPerSecond(long totalNow)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_total.TryNewestBefore(now - TimeSpan.FromSeconds(5), out var s))
            {
                return null;
            }

            var seconds = (now - s.At).TotalSeconds;
            return seconds <= 0 ? null : Math.Max(0, totalNow - s.Passed) / seconds;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _timer?.Dispose();

    // A timer callback that throws takes the process down; a statistics view must cost only itself.
    private void SampleSafely()
    {
        try
        {
            Sample();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            // The next tick tries again; the console shows the older window meanwhile.
        }
    }

    private readonly record struct Point(DateTimeOffset At, long Passed, long Dropped);

    /// <summary>A fixed ring of samples, oldest overwritten.</summary>
    private sealed class Ring(int capacity)
    {
        private readonly Point[] _items = new Point[capacity];
        private int _next;
        private int _count;

        public void Add(Point s)
        {
            _items[_next] = s;
            _next = (_next + 1) % _items.Length;
            _count = Math.Min(_count + 1, _items.Length);
        }

        // The newest sample at or before `from`; failing that (young history) the oldest one, marked partial.
        public bool TryBaseline(DateTimeOffset from, out Point baseline, out bool partial)
        {
            if (TryNewestBefore(from, out baseline))
            {
                partial = false;
                return true;
            }

            partial = true;
            if (_count == 0)
            {
                return false;
            }

            baseline = _items[(_next - _count + _items.Length) % _items.Length];
            return true;
        }

        public bool TryNewestBefore(DateTimeOffset at, out Point sample)
        {
            for (var i = 1; i <= _count; i++)
            {
                var s = _items[(_next - i + _items.Length) % _items.Length];
                if (s.At <= at)
                {
                    sample = s;
                    return true;
                }
            }

            sample = default;
            return false;
        }
    }
}
