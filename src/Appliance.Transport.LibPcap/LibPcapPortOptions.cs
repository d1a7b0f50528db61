namespace Appliance.Transport.LibPcap;

/// <summary>How a live libpcap port captures.</summary>
public sealed record LibPcapPortOptions
{
    /// <summary>Bytes captured per frame. Frames longer than this are counted as truncated and never forwarded.</summary>
    public int SnapLength { get; init; } = 262_144;

    /// <summary>Kernel capture buffer (ring) size in bytes; larger rides out longer bursts.</summary>
    public int BufferSize { get; init; } = 32 * 1024 * 1024;

    /// <summary>Receive frames for every MAC, not only the interface's own: a bridge port must.</summary>
    public bool Promiscuous { get; init; } = true;

    /// <summary>
    /// Capture only frames arriving on the wire (PCAP_D_IN), so frames this port sends are never captured and
    /// forwarded back. Turn off only for a monitoring tap.
    /// </summary>
    public bool InboundOnly { get; init; } = true;
}
