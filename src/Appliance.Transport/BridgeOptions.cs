namespace Appliance.Transport;

/// <summary>Tuning of one bridge data plane.</summary>
public sealed record BridgeOptions
{
    /// <summary>Most frames taken from one port before turning to the other, so neither side starves.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Longest idle wait; bounds how late a stop request or housekeeping runs when no traffic flows.</summary>
    public TimeSpan IdleWait { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How often capture-drop counters are read from the ports.</summary>
    public TimeSpan StatisticsInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A loop that has not turned for this long is reported unhealthy (a wedged engine or driver).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The engine clock in milliseconds; by default Unix time advanced by a monotonic stopwatch, so it never
    /// steps backwards when the wall clock is corrected.
    /// </summary>
    public Func<long>? ClockMs { get; init; }

    /// <summary>
    /// The CPUs the data-plane thread may run on; null leaves it to the scheduler. Pinning keeps the thread off the CPUs
    /// that do the ports' receive work (NIC interrupts, NAPI threads): sharing one with them, the thread waits while
    /// its capture ring fills, which at a start (every flow new, every frame up to the engine) overflows the ring.
    /// </summary>
    public CpuSet? Cpus { get; init; }

    /// <summary>A name for the thread and logs, e.g. <c>eth1-eth2</c>.</summary>
    public string? Name { get; init; }
}
