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
}
