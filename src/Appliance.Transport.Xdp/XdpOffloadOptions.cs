using System.Globalization;
using Microsoft.Extensions.Options;

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

    /// <summary>
    /// Capture ring size in bytes per port while the fast path is attached, in place of <c>Bridge:Port:BufferSize</c>
    /// (which still applies when <c>auto</c> falls back). With the offload, user space sees only the frames of flows
    /// not installed yet, but right after a start that is every frame of every flow until each is decided and
    /// installed: at a top-speed burst of 1,000 flows about 6,000 frames, more than the default 4 MiB ring's ~2,300
    /// slots (slots are MTU-sized whatever the frame), so the first burst lost 1,200-3,000 frames on an idle machine.
    /// 16 MiB (~9,000 slots) lost none; it costs about 12 MiB more resident memory per port.
    /// </summary>
    public int XdpPortBufferSize { get; set; } = 16 * 1024 * 1024;
}

/// <summary>Checks the offload's keys of the <c>Bridge</c> section; every message names the key at fault.</summary>
public sealed class XdpOffloadOptionsValidator : IValidateOptions<XdpOffloadOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, XdpOffloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.XdpPortBufferSize is < 65_536 or > 1_073_741_824)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"Bridge:XdpPortBufferSize {options.XdpPortBufferSize} must be between 65536 and 1073741824 bytes"));
        }

        if (options.XdpSweepInterval <= TimeSpan.Zero || options.XdpSweepInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"Bridge:XdpSweepInterval {options.XdpSweepInterval} must be above 0 and at most 00:01:00"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
