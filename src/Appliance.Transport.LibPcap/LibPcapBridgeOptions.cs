namespace Appliance.Transport.LibPcap;

/// <summary>How the libpcap bridge opens and runs each pair (the <c>Bridge</c> section of the host's configuration).</summary>
public sealed class LibPcapBridgeOptions
{
    /// <summary>Frames taken from one port before turning to the other.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Bring both links up and turn offloads off at start (leave on; off only when another tool does it).</summary>
    public bool PrepareInterfaces { get; set; } = true;

    /// <summary>How each port captures.</summary>
    public LibPcapPortOptions Port { get; set; } = new();
}
