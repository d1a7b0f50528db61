using Microsoft.Extensions.Logging;

namespace Appliance.Syslog;

/// <summary>
/// The RFC 5424 severities (section 6.2.1), most severe first. The numeric value is the code on the wire, and the
/// spool compares it numerically (lower is more severe), so values must not change.
/// </summary>
public enum SyslogSeverity
{
    /// <summary>0: the system is unusable. camfw never sends it: no single process failure is that (see <see cref="SyslogSeverities.FromLogLevel"/>).</summary>
    Emergency = 0,

    /// <summary>1: action must be taken immediately. Not sent by camfw, left to the OS.</summary>
    Alert = 1,

    /// <summary>2: critical conditions; camfw's <see cref="LogLevel.Critical"/> (the appliance is failing closed or cannot start).</summary>
    Critical = 2,

    /// <summary>3: error conditions; camfw's <see cref="LogLevel.Error"/>.</summary>
    Error = 3,

    /// <summary>4: warning conditions; camfw's <see cref="LogLevel.Warning"/>. This and anything more severe is important to the spool: a share of it is kept for them, and their evictions are reported apart.</summary>
    Warning = 4,

    /// <summary>5: normal but significant condition. No .NET log level maps here; kept because collectors and parsed records may carry it.</summary>
    Notice = 5,

    /// <summary>6: informational messages; camfw's <see cref="LogLevel.Information"/> (drop events, policy changes), and the severity assumed for a spooled record whose PRI cannot be read.</summary>
    Informational = 6,

    /// <summary>7: debug-level messages; camfw's <see cref="LogLevel.Debug"/> and <see cref="LogLevel.Trace"/>.</summary>
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
