using Microsoft.Extensions.Logging;

namespace Appliance.Host.Hosting;

/// <summary>Log events of <c>camfw run</c> (event ids 7100-7199; names double as syslog MSGIDs).</summary>
internal static partial class HostLog
{
    [LoggerMessage(EventId = 7101, EventName = "ApplianceReady", Level = LogLevel.Information, Message = "camfw ready: policy version {Version}, {Cameras} cameras, bridging {Pairs}")]
    public static partial void Ready(ILogger logger, uint version, int cameras, string pairs);

    [LoggerMessage(EventId = 7103, EventName = "PolicyStartupFailed", Level = LogLevel.Critical, Message = "The policy in {Directory} could not be loaded; camfw does not start without one: {Errors}")]
    public static partial void PolicyStartupFailed(ILogger logger, string directory, string errors);

    [LoggerMessage(EventId = 7119, EventName = "EngineWarmedUp", Level = LogLevel.Information, Message = "Decision path warmed up before the ports open: {Frames} synthetic frames through a throwaway engine in {ElapsedMs} ms")]
    public static partial void EngineWarmedUp(ILogger logger, long frames, long elapsedMs);

    [LoggerMessage(EventId = 7110, EventName = "DataPlaneStarted", Level = LogLevel.Information, Message = "Data plane {Name} started: camera side {CameraInterface}, uplink side {UplinkInterface}")]
    public static partial void DataPlaneStarted(ILogger logger, string name, string cameraInterface, string uplinkInterface);

    [LoggerMessage(EventId = 7111, EventName = "DataPlaneFailed", Level = LogLevel.Critical, Message = "Data plane {Name} died; nothing is forwarded (fail closed) and camfw exits so its supervisor restarts it")]
    public static partial void DataPlaneFailed(ILogger logger, string name, Exception? exception);

    [LoggerMessage(EventId = 7112, EventName = "DataPlaneStopped", Level = LogLevel.Information, Message = "Data plane {Name} stopped")]
    public static partial void DataPlaneStopped(ILogger logger, string name);

    [LoggerMessage(EventId = 7113, EventName = "DataPlaneStalled", Level = LogLevel.Critical, Message = "Data plane {Name} has stopped turning; the systemd watchdog is no longer fed")]
    public static partial void DataPlaneStalled(ILogger logger, string name);

    [LoggerMessage(EventId = 7120, EventName = "SystemdNotifyFailed", Level = LogLevel.Warning, Message = "sd_notify to {Socket} failed: {Error}")]
    public static partial void NotifyFailed(ILogger logger, string socket, string error);

    [LoggerMessage(EventId = 7121, EventName = "SystemdWatchdog", Level = LogLevel.Information, Message = "systemd watchdog: pinging every {Interval}")]
    public static partial void Watchdog(ILogger logger, TimeSpan interval);

    [LoggerMessage(EventId = 7130, EventName = "ManagementTokenFile", Level = LogLevel.Information, Message = "Management API token in {Path}")]
    public static partial void TokenFile(ILogger logger, string path);

    [LoggerMessage(EventId = 7131, EventName = "ManagementTokenCreated", Level = LogLevel.Warning, Message = "Management API token generated into {Path} (mode 0600); the CLI reads it from there")]
    public static partial void TokenCreated(ILogger logger, string path);

    [LoggerMessage(EventId = 7140, EventName = "DnsNameStateIgnored", Level = LogLevel.Warning, Message = "Learned DNS names in {Path} ignored ({Why}); cameras re-learn them from their next answers")]
    public static partial void DnsNameStateIgnored(ILogger logger, string path, string why);

    [LoggerMessage(EventId = 7141, EventName = "DnsNameStateSaveFailed", Level = LogLevel.Warning, Message = "Learned DNS names could not be written to {Path}: {Why}")]
    public static partial void DnsNameStateSaveFailed(ILogger logger, string path, string why);

    [LoggerMessage(EventId = 7142, EventName = "DnsNameStateLoaded", Level = LogLevel.Information, Message = "Data plane {Name}: {Count} learned DNS name(s) restored from {Path}")]
    public static partial void DnsNameStateLoaded(ILogger logger, string name, int count, string path);

    [LoggerMessage(EventId = 7143, EventName = "LearnSummaryIgnored", Level = LogLevel.Warning, Message = "Learn-mode summary in {Path} ignored ({Why}); learning starts afresh")]
    public static partial void LearnSummaryIgnored(ILogger logger, string path, string why);

    [LoggerMessage(EventId = 7144, EventName = "LearnSummarySaveFailed", Level = LogLevel.Warning, Message = "Learn-mode summary could not be written to {Path}: {Why}")]
    public static partial void LearnSummarySaveFailed(ILogger logger, string path, string why);

    [LoggerMessage(EventId = 7145, EventName = "LearnSummaryLoaded", Level = LogLevel.Information, Message = "Learn mode: {Devices} device(s) and {Services} service(s) restored from {Path}")]
    public static partial void LearnSummaryLoaded(ILogger logger, int devices, int services, string path);

    [LoggerMessage(EventId = 7132, EventName = "DeniedDestinationsFailed", Level = LogLevel.Error, Message = "Updating the per-camera denied destinations from the security events failed")]
    public static partial void DeniedDestinationsFailed(ILogger logger, Exception exception);
}
