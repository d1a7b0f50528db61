namespace Appliance.Transport.LibPcap;

/// <summary>How the libpcap bridge opens and runs each pair (the <c>Bridge</c> section of the host's configuration).</summary>
public sealed class LibPcapBridgeOptions
{
    /// <summary>Frames taken from one port before turning to the other.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Bring both links up and turn offloads off at start (leave on; off only when another tool does it).</summary>
    public bool PrepareInterfaces { get; set; } = true;

    /// <summary>
    /// The largest IP packet the site carries (its MTU). Prepared ports get 8 bytes more, so a full-size frame with
    /// two VLAN tags (802.1ad) is neither cut by the capture nor refused on send; the switches either side must carry
    /// such frames too. 0 leaves the ports' MTU as it is.
    /// </summary>
    public int SiteMtu { get; set; } = 1500;

    /// <summary>
    /// The CPUs every pair's data-plane thread may run on, as a list (<c>1</c>, <c>2-3</c>, <c>0,2-3</c>); unset leaves
    /// them to the scheduler. Choose CPUs that do not take the ports' receive work (their NICs' interrupts or NAPI
    /// threads): a data-plane thread that shares a CPU with it falls behind at a start, when every frame of every flow
    /// goes up to the engine, and the capture ring overflows (see <see cref="BridgeOptions.Cpus"/>).
    /// </summary>
    public string? DataPlaneCpus { get; set; }

    /// <summary>How each port captures.</summary>
    public LibPcapPortOptions Port { get; set; } = new();

    /// <summary>
    /// How the data plane of pair <paramref name="pairName"/> runs, from these settings: the one place both Linux
    /// factories (plain and with the XDP fast path) take it from. <see cref="DataPlaneCpus"/> was checked by the
    /// options validator first.
    /// </summary>
    public BridgeOptions DataPlaneOptions(string pairName) => new()
    {
        Name = pairName,
        BatchSize = BatchSize,
        Cpus = DataPlaneCpus is null ? null
            : CpuSet.TryParse(DataPlaneCpus, out var set, out var error) ? set
            : throw new InvalidOperationException($"Bridge:DataPlaneCpus '{DataPlaneCpus}' {error}"),
    };
}
