namespace Appliance.Host.Hosting;

/// <summary>
/// The host's part of the <c>Bridge</c> section: the backend and which interfaces form each inline pair. How a pair is
/// opened and run (batch size, interface preparation, capture) is the backend's, bound and validated by it
/// (<c>AddLibPcapBridge</c>: <c>LibPcapBridgeOptions</c>; <c>AddWinDivertGateway</c>: the <c>WinDivert</c> section).
/// </summary>
internal sealed class BridgeSettings
{
    /// <summary>The libpcap bridge (Linux, the default).</summary>
    public const string LibPcap = "libpcap";

    /// <summary>The WinDivert gateway (64-bit Windows routing between a camera and an uplink interface).</summary>
    public const string WinDivert = "windivert";

    /// <summary>The data-plane backend: <see cref="LibPcap"/> or <see cref="WinDivert"/>.</summary>
    public string Backend { get; set; } = LibPcap;

    /// <summary>True when <paramref name="backend"/> names the WinDivert gateway.</summary>
    public static bool IsWinDivert(string? backend) => string.Equals(backend, WinDivert, StringComparison.OrdinalIgnoreCase);

    /// <summary>One data plane (thread, engine, flow table) per pair.</summary>
    public List<BridgePairSettings> Pairs { get; set; } = [];
}

/// <summary>One inline pair: the camera switch side and the uplink side.</summary>
internal sealed class BridgePairSettings
{
    /// <summary>Name in logs, metrics and the API; defaults to <c>CAMERA-UPLINK</c>.</summary>
    public string? Name { get; set; }

    public string CameraInterface { get; set; } = "";

    public string UplinkInterface { get; set; } = "";

    public string EffectiveName => string.IsNullOrWhiteSpace(Name) ? $"{CameraInterface}-{UplinkInterface}" : Name;
}

/// <summary>Exit codes of <c>camfw run</c>; anything but 0 makes systemd (<c>Restart=on-failure</c>) restart it.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A data plane died (fail closed: nothing was forwarded without a verdict).</summary>
    public const int DataPlaneFailed = 1;

    /// <summary>The configuration is invalid.</summary>
    public const int ConfigInvalid = 2;

    /// <summary>The first policy load failed.</summary>
    public const int PolicyInvalid = 3;

    /// <summary>Something else failed at start (an interface missing, the management port taken...).</summary>
    public const int StartFailed = 4;
}

/// <summary>The code <c>camfw run</c> exits with, set by whichever component stops the host.</summary>
internal sealed class ExitCodeHolder
{
    private int _code;

    public int Code => Volatile.Read(ref _code);

    /// <summary>Keeps the first failure: later ones are usually consequences.</summary>
    public void Fail(int code) => Interlocked.CompareExchange(ref _code, code, ExitCodes.Ok);
}

/// <summary>A start-up failure with the exit code and the lines to print.</summary>
internal sealed class StartupException(int exitCode, string message, IReadOnlyList<string>? details = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public IReadOnlyList<string> Details { get; } = details ?? [];
}
