using Microsoft.Extensions.Logging;

namespace Appliance.Syslog;

/// <summary>The RFC 5424 severities (section 6.2.1).</summary>
public enum SyslogSeverity
{
    Emergency = 0,
    Alert = 1,
    Critical = 2,
    Error = 3,
    Warning = 4,
    Notice = 5,
    Informational = 6,
    Debug = 7,
}

/// <summary>Maps .NET log levels to syslog severities.</summary>
public static class SyslogSeverities
{
    /// <summary>
    /// Trace and Debug are debug(7), Information informational(6), Warning warning(4), Error error(3),
    /// Critical critical(2). Emergency and alert are left to the OS: no single process failure is "system unusable".
    /// </summary>
    public static SyslogSeverity FromLogLevel(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => SyslogSeverity.Debug,
        LogLevel.Information => SyslogSeverity.Informational,
        LogLevel.Warning => SyslogSeverity.Warning,
        LogLevel.Error => SyslogSeverity.Error,
        LogLevel.Critical => SyslogSeverity.Critical,
        _ => SyslogSeverity.Debug,
    };
}
