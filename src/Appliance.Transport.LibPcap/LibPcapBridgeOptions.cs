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

    /// <summary>How each port captures.</summary>
    public LibPcapPortOptions Port { get; set; } = new();
}
