namespace Appliance.Transport.LibPcap;

/// <summary>How a live libpcap port captures.</summary>
public sealed class LibPcapPortOptions
{
    /// <summary>Bytes captured per frame. Frames longer than this are counted as truncated and never forwarded.</summary>
    public int SnapLength { get; set; } = 262_144;

    /// <summary>
    /// Kernel capture buffer (ring) size in bytes; larger rides out longer stalls of the data-plane thread. The ring
    /// is mapped into the process and resident from the start (about 1.3 times this, in frame slots of MTU + 18),
    /// per port: at 32 MiB the two rings were 84 MB of a 168 MB appliance. 4 MiB holds about 2,300 full-size frames,
    /// 28 ms of a saturated 1 GbE port; capture drops are counted and logged if it ever overflows.
    /// </summary>
    public int BufferSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Receive frames for every MAC, not only the interface's own: a bridge port must.</summary>
    public bool Promiscuous { get; set; } = true;

    /// <summary>
    /// Capture only frames arriving on the wire (PCAP_D_IN), so frames this port sends are never captured and
    /// forwarded back. Turn off only for a monitoring tap.
    /// </summary>
    public bool InboundOnly { get; set; } = true;
}
