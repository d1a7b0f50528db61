using System.Diagnostics;

namespace Appliance.Transport;

/// <summary>The engine clock every data path feeds its engine, so the bridge and the Windows gateway agree.</summary>
internal static class EngineClock
{
    /// <summary>
    /// Unix milliseconds read once at creation, then advanced by the monotonic stopwatch, so the engine clock never
    /// steps when the wall clock is corrected.
    /// </summary>
    public static Func<long> CreateMonotonic()
    {
        var originMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var originTicks = Stopwatch.GetTimestamp();
        return () => originMs + (long)Stopwatch.GetElapsedTime(originTicks).TotalMilliseconds;
    }
}
