using Microsoft.Extensions.Logging;

namespace Appliance.Management;

/// <summary>
/// Log events of the policy service and the management API. Event ids are stable (7000-7099) and their names
/// double as syslog MSGIDs.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7001, EventName = "PolicyApplied", Level = LogLevel.Information,
        Message = "Policy version {Version} applied (sha256 {Sha256}, {Cameras} cameras) from {Origin}: {Diff}")]
    public static partial void PolicyApplied(ILogger logger, uint version, string sha256, string origin, int cameras, string diff);

    [LoggerMessage(EventId = 7002, EventName = "PolicyRejected", Level = LogLevel.Warning,
        Message = "Policy from {Origin} rejected with {ErrorCount} error(s): {Errors}; version {Version} stays in force")]
    public static partial void PolicyRejected(ILogger logger, string origin, int errorCount, string errors, uint version);

    [LoggerMessage(EventId = 7003, EventName = "PolicyRolledBack", Level = LogLevel.Warning,
        Message = "Policy rolled back from version {FromVersion} to version {Version} (sha256 {Sha256}) by {Origin}: {Diff}")]
    public static partial void PolicyRolledBack(ILogger logger, uint fromVersion, uint version, string sha256, string origin, string diff);

    [LoggerMessage(EventId = 7004, EventName = "PolicyUnchanged", Level = LogLevel.Debug,
        Message = "Policy from {Origin} is identical to version {Version}; nothing to do")]
    public static partial void PolicyUnchanged(ILogger logger, uint version, string origin);

    [LoggerMessage(EventId = 7005, EventName = "PolicyConfirmed", Level = LogLevel.Information,
        Message = "Policy version {Version} confirmed by {Origin}")]
    public static partial void PolicyConfirmed(ILogger logger, uint version, string origin);

    [LoggerMessage(EventId = 7006, EventName = "PolicyConfirmationPending", Level = LogLevel.Warning,
        Message = "Policy version {Version} must be confirmed within {Seconds} s or version {RevertTo}'s files come back")]
    public static partial void ConfirmationPending(ILogger logger, uint version, double seconds, uint revertTo);

    [LoggerMessage(EventId = 7007, EventName = "PolicyAutoRevertFailed", Level = LogLevel.Error,
        Message = "Reverting unconfirmed policy version {Version} failed: {Error}")]
    public static partial void AutoRevertFailed(ILogger logger, uint version, string error);

    [LoggerMessage(EventId = 7008, EventName = "PolicyPersistFailed", Level = LogLevel.Error,
        Message = "Writing the policy directory {Directory} failed: {Error}; the change was not applied")]
    public static partial void PolicyPersistFailed(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 7009, EventName = "PolicyHistoryWriteFailed", Level = LogLevel.Warning,
        Message = "Saving policy version {Version} to history failed: {Error}")]
    public static partial void HistoryWriteFailed(ILogger logger, uint version, string error);

    [LoggerMessage(EventId = 7010, EventName = "AuditWriteFailed", Level = LogLevel.Error,
        Message = "Writing the audit log failed: {Error}")]
    public static partial void AuditWriteFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 7011, EventName = "PolicyWatching", Level = LogLevel.Information,
        Message = "Watching {Directory} for policy changes")]
    public static partial void WatchingDirectory(ILogger logger, string directory);

    [LoggerMessage(EventId = 7012, EventName = "PolicyWatcherError", Level = LogLevel.Warning,
        Message = "Policy directory watcher: {Error}")]
    public static partial void WatcherError(ILogger logger, string error);

    [LoggerMessage(EventId = 7013, EventName = "PolicyEventReportFailed", Level = LogLevel.Error,
        Message = "Reporting a policy change as a security event failed: {Error}")]
    public static partial void EventSinkFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 7020, EventName = "ManagementListening", Level = LogLevel.Information,
        Message = "Management API listening on {Address} ({Tls})")]
    public static partial void Listening(ILogger logger, string address, string tls);

    [LoggerMessage(EventId = 7021, EventName = "ManagementAuthFailed", Level = LogLevel.Warning,
        Message = "Management API: rejected credentials from {Remote} for {Method} {Path}")]
    public static partial void AuthFailed(ILogger logger, string remote, string method, string path);

    [LoggerMessage(EventId = 7022, EventName = "ManagementAuthRateLimited", Level = LogLevel.Warning,
        Message = "Management API: {Remote} is locked out for {Seconds} s after repeated authentication failures")]
    public static partial void AuthRateLimited(ILogger logger, string remote, int seconds);

    [LoggerMessage(EventId = 7025, EventName = "ManagementConnectionRefused", Level = LogLevel.Debug,
        Message = "Management API: connection from {Remote} refused: every slot is held by an authenticated connection")]
    public static partial void ConnectionRefused(ILogger logger, string remote);

    [LoggerMessage(EventId = 7026, EventName = "ManagementStaleSocketRemoved", Level = LogLevel.Information,
        Message = "Management API: removed the stale socket {Path} left by a process that is gone")]
    public static partial void StaleSocketRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 7024, EventName = "ManagementClientCertificateRejected", Level = LogLevel.Warning,
        Message = "Management API: client certificate {Subject} rejected: {Status}")]
    public static partial void ClientCertificateRejected(ILogger logger, string subject, string status);

    [LoggerMessage(EventId = 7030, EventName = "ConsoleLogin", Level = LogLevel.Information,
        Message = "Console: login from {Remote} (session {Session})")]
    public static partial void ConsoleLogin(ILogger logger, string remote, string session);

    [LoggerMessage(EventId = 7031, EventName = "ConsoleLogout", Level = LogLevel.Information,
        Message = "Console: logout from {Remote} (session {Session})")]
    public static partial void ConsoleLogout(ILogger logger, string remote, string session);

    [LoggerMessage(EventId = 7032, EventName = "ConsoleListening", Level = LogLevel.Information,
        Message = "Web console at {Url} (log in with the management API token)")]
    public static partial void ConsoleListening(ILogger logger, string url);
}
