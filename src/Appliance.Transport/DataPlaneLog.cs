using Microsoft.Extensions.Logging;

namespace Appliance.Transport;

/// <summary>Log events of the bridge data plane (event ids 6000-6099; they double as syslog MSGIDs).</summary>
internal static partial class DataPlaneLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Bridge {Bridge} forwarding between camera port {CameraPort} and uplink port {UplinkPort}")]
    public static partial void Started(ILogger logger, string bridge, string cameraPort, string uplinkPort);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Bridge {Bridge} stopped: camera side passed {CameraPassed} dropped {CameraDropped}, uplink side passed {UplinkPassed} dropped {UplinkDropped}")]
    public static partial void Stopped(ILogger logger, string bridge, long cameraPassed, long cameraDropped, long uplinkPassed, long uplinkDropped);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Critical, Message = "Bridge {Bridge} faulted and stopped forwarding (fail closed); nothing passes until it is restarted")]
    public static partial void Faulted(ILogger logger, Exception exception, string bridge);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Port {Port} lost frames before the data plane saw them: {CaptureDrops} in the capture buffer, {InterfaceDrops} at the interface (totals)")]
    public static partial void CaptureDrops(ILogger logger, string port, long captureDrops, long interfaceDrops);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Port {Port} refused {Failed} frame(s) since the last report (ENOBUFS {NoBuffers}, EAGAIN {WouldBlock}, ENETDOWN {NetworkDown}, EMSGSIZE {TooLarge}; last errno {LastErrno}; {Retried} retried)")]
    public static partial void SendErrors(ILogger logger, string port, long failed, long noBuffers, long wouldBlock, long networkDown, long tooLarge, int lastErrno, long retried);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Port {Port} captured {Count} frame(s) shorter than on the wire since the last report (MTU {Mtu}); they were dropped, not forwarded cut")]
    public static partial void Truncated(ILogger logger, string port, long count, int mtu);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Error, Message = "Port {Port} cannot forward: {Problem}")]
    public static partial void PortProblem(ILogger logger, string port, string problem);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Port {Port} is fit again (link {Link}, MTU {Mtu})")]
    public static partial void PortRecovered(ILogger logger, string port, string link, int mtu);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Bridge {Bridge} data-plane thread runs on CPUs {Cpus} only")]
    public static partial void Pinned(ILogger logger, string bridge, string cpus);
}
