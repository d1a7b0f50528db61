namespace Appliance.Core.Engine;

/// <summary>Sizes and timeouts of one engine instance (one per bridge port pair).</summary>
public sealed record EngineOptions
{
    /// <summary>Flow table capacity (entries). 1,000,000 must fit in under 200 MB (72-byte entries, load at most one half).</summary>
    public int FlowCapacity { get; init; } = 262_144;

    /// <summary>Flows one camera may hold when its policy sets no quota.</summary>
    public int DefaultFlowQuota { get; init; } = 4_096;

    /// <summary>
    /// Share of a camera's flow quota, in percent, that one peer address may hold (at least one flow). At the default
    /// no single address, a spoofed one included, can take more than half of a camera's flows, so the rest of the
    /// site (the NVR, the admins) always has the other half; 100 turns the per-peer limit off.
    /// </summary>
    public int PeerFlowSharePercent { get; init; } = 50;

    /// <summary>Drop-event ring capacity.</summary>
    public int EventRingCapacity { get; init; } = 65_536;

    public TimeSpan TcpHalfOpenTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan TcpEstablishedTimeout { get; init; } = TimeSpan.FromHours(2);

    public TimeSpan TcpClosingTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan UdpTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan IcmpTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan FragmentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Flow-table slots <see cref="PacketEngine.Maintain"/> examines per call. At the default a 262,144-entry table
    /// (524,288 slots) is swept every 128 calls; each call costs a few microseconds.
    /// </summary>
    public int MaintenanceSlotsPerCall { get; init; } = 4_096;

    /// <summary>DNS queries (all cameras) whose answers are awaited; an answer teaches only when it matches one.</summary>
    public int DnsQueryCapacity { get; init; } = 4_096;

    /// <summary>Unanswered DNS queries one camera may have; more are forwarded but their answers teach nothing.</summary>
    public int DnsQueriesPerCamera { get; init; } = 32;

    /// <summary>How long a DNS query waits for its answer.</summary>
    public TimeSpan DnsQueryTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Learned names in total (each takes a 256-byte cell: 16,384 names are 4 MiB).</summary>
    public int DnsNameCapacity { get; init; } = 16_384;

    /// <summary>Learned addresses in total.</summary>
    public int DnsAddressCapacity { get; init; } = 65_536;

    /// <summary>Learned names one camera may hold.</summary>
    public int DnsNamesPerCamera { get; init; } = 256;

    /// <summary>Learned addresses one name may hold for one camera.</summary>
    public int DnsAddressesPerName { get; init; } = 16;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for sizes or timeouts that cannot work.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(FlowCapacity, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(DefaultFlowQuota, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(PeerFlowSharePercent, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PeerFlowSharePercent, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(EventRingCapacity, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaintenanceSlotsPerCall, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsQueryCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsQueriesPerCamera, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsNameCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsAddressCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsNamesPerCamera, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsAddressesPerName, 1);
        foreach (var t in (ReadOnlySpan<TimeSpan>)[TcpHalfOpenTimeout, TcpEstablishedTimeout, TcpClosingTimeout, UdpTimeout, IcmpTimeout, FragmentTimeout, DnsQueryTimeout])
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(t, TimeSpan.Zero);
        }
    }
}
