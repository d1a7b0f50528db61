namespace Appliance.TestSupport;

/// <summary>
/// Measures what a per-frame path allocates on the calling thread (deterministic, not timed): warm-up rounds, then up
/// to <c>maxWindows</c> windows of rounds until one allocates nothing. A per-frame allocation shows in every window;
/// a one-time runtime event (a late tier-up while other tests run in parallel) in one at most, so a gate asserts that
/// the last window is zero.
/// </summary>
public static class AllocationWindows
{
    /// <summary>Runs <paramref name="round"/> with a running round number (from 1) and returns the bytes of each window.</summary>
    public static IReadOnlyList<long> Measure(Action<int> round, int warmupRounds, int roundsPerWindow, int maxWindows = 3)
    {
        ArgumentNullException.ThrowIfNull(round);
        var r = 1;
        for (; r <= warmupRounds; r++)
        {
            round(r);
        }

        var windows = new List<long>();
        while (windows.Count < maxWindows && (windows.Count == 0 || windows[^1] != 0))
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var end = r + roundsPerWindow; r < end; r++)
            {
                round(r);
            }

            windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return windows;
    }

    /// <summary>"bytes allocated per window: a, b, c", for an assertion message.</summary>
    public static string Describe(IReadOnlyList<long> windows) => "bytes allocated per window: " + string.Join(", ", windows);
}
