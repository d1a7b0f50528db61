namespace Appliance.Transport;

/// <summary>Counters of one side of a bridge: what arrived on that port and what became of it.</summary>
public readonly record struct BridgeSideStatistics
{
    /// <summary>Frames received on this side's port.</summary>
    public long FramesReceived { get; init; }

    /// <summary>Bytes received on this side's port.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Frames the engine passed (including monitored ones).</summary>
    public long FramesPassed { get; init; }

    /// <summary>Frames dropped: by the engine, or truncated by the capture.</summary>
    public long FramesDropped { get; init; }

    /// <summary>Passed frames the other port sent.</summary>
    public long FramesForwarded { get; init; }

    /// <summary>Bytes of <see cref="FramesForwarded"/>.</summary>
    public long BytesForwarded { get; init; }

    /// <summary>Passed frames the other port refused to send.</summary>
    public long SendErrors { get; init; }

    /// <summary>Frames captured shorter than on the wire; dropped, never forwarded cut.</summary>
    public long Truncated { get; init; }

    /// <summary>Frames lost in this port's capture buffer before we saw them (pcap_stats ps_drop).</summary>
    public long CaptureDrops { get; init; }

    /// <summary>Frames this port's interface dropped (pcap_stats ps_ifdrop).</summary>
    public long InterfaceDrops { get; init; }
}
