using Microsoft.Extensions.Logging;

namespace Appliance.Transport.Xdp;

/// <summary>Log events of the XDP flow offload (event ids 6150-6119; they double as syslog MSGIDs).</summary>
internal static partial class XdpLog
{
    [LoggerMessage(EventId = 6150, Level = LogLevel.Information, Message = "Bridge {Bridge}: established flows are forwarded in the kernel (XDP, native mode on {CameraPort} and {UplinkPort}); everything else goes through the engine")]
    public static partial void Attached(ILogger logger, string bridge, string cameraPort, string uplinkPort);

    [LoggerMessage(EventId = 6151, Level = LogLevel.Warning, Message = "Bridge {Bridge}: XDP flow offload unavailable ({Reason}); every frame goes through the engine in user space")]
    public static partial void FallingBack(ILogger logger, string bridge, string reason);

    [LoggerMessage(EventId = 6152, Level = LogLevel.Information, Message = "Bridge {Bridge}: XDP programs detached ({Installed} flows installed, {Frames} frames forwarded in the kernel)")]
    public static partial void Detached(ILogger logger, string bridge, long installed, long frames);
}
