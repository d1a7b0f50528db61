namespace Appliance.Transport.Xdp;

/// <summary>Whether established flows are forwarded in the kernel (<c>Bridge:XdpOffload</c>).</summary>
public enum XdpOffloadMode
{
    /// <summary>Every frame goes through the engine in user space.</summary>
    Off = 0,

    /// <summary>Offload where both ports of a pair support native XDP; elsewhere run without it and say so in the log.</summary>
    Auto = 1,

    /// <summary>Offload, and refuse to start a pair whose ports cannot.</summary>
    On = 2,
}

/// <summary>The XDP fast path's settings (keys of the host's <c>Bridge</c> section).</summary>
public sealed class XdpOffloadOptions
{
    /// <summary><c>off</c>, <c>auto</c> or <c>on</c>.</summary>
    public XdpOffloadMode XdpOffload { get; set; } = XdpOffloadMode.Off;

    /// <summary>How often the kernel's per-flow counters and last-seen times are read back into the engine.</summary>
    public TimeSpan XdpSweepInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}
