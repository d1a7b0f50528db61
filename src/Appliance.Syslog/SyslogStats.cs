namespace Appliance.Syslog;

/// <summary>
/// Live counters of the syslog sink, for the management API and metrics. Updated with interlocked operations;
/// reads are individually atomic but not a consistent snapshot (use <see cref="Snapshot"/> for that).
/// </summary>
public sealed class SyslogStats
{
    private long _queued;
    private long _sent;
    private long _dropped;
    private long _truncated;
    private long _reconnects;
    private long _connectFailures;
    private int _connected;
    private string? _lastError;
    private long _lastErrorTicks;
    private long _abandoned;

    /// <summary>Messages accepted into the queue since start.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Messages written to the transport since start.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Messages lost because the queue was full (or the sink was shutting down).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Messages cut to fit <see cref="SyslogOptions.MaxMessageBytes"/>.</summary>
    public long Truncated => Interlocked.Read(ref _truncated);

    /// <summary>Connections re-established after a loss.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Failed connection attempts (refused, timed out, TLS validation failed).</summary>
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);

    /// <summary>True while a connection to the collector is up (UDP: while the socket is open).</summary>
    public bool Connected => Volatile.Read(ref _connected) != 0;

    /// <summary>Messages waiting in the queue now.</summary>
    public long Pending => Math.Max(0, Queued - Sent - Interlocked.Read(ref _abandoned));

    /// <summary>The last transport error, or null.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>When <see cref="LastError"/> happened.</summary>
    public DateTimeOffset? LastErrorAt
    {
        get
        {
            var t = Interlocked.Read(ref _lastErrorTicks);
            return t == 0 ? null : new DateTimeOffset(t, TimeSpan.Zero);
        }
    }

    /// <summary>A copy of the counters for display or JSON.</summary>
    public SyslogStatsSnapshot Snapshot() => new(Queued, Sent, Dropped, Truncated, Reconnects, ConnectFailures, Pending, Connected, LastError, LastErrorAt);

    internal void OnQueued() => Interlocked.Increment(ref _queued);

    internal void OnSent() => Interlocked.Increment(ref _sent);

    internal void OnDropped() => Interlocked.Increment(ref _dropped);

    internal void OnTruncated() => Interlocked.Increment(ref _truncated);

    /// <summary>A queued message that will never be sent (shutdown without a collector).</summary>
    internal void OnAbandoned()
    {
        Interlocked.Increment(ref _abandoned);
        Interlocked.Increment(ref _dropped);
    }

    internal void OnConnected(bool isReconnect)
    {
        if (isReconnect)
        {
            Interlocked.Increment(ref _reconnects);
        }

        Volatile.Write(ref _connected, 1);
    }

    internal void OnDisconnected() => Volatile.Write(ref _connected, 0);

    internal void OnConnectFailed() => Interlocked.Increment(ref _connectFailures);

    internal void OnError(string error, DateTimeOffset at)
    {
        Volatile.Write(ref _lastError, error);
        Interlocked.Exchange(ref _lastErrorTicks, at.UtcTicks);
    }
}

/// <summary>A point-in-time copy of <see cref="SyslogStats"/>.</summary>
/// <param name="Queued">Messages accepted into the queue since start.</param>
/// <param name="Sent">Messages written to the transport.</param>
/// <param name="Dropped">Messages lost to a full queue or shutdown.</param>
/// <param name="Truncated">Messages cut to the size cap.</param>
/// <param name="Reconnects">Connections re-established after a loss.</param>
/// <param name="ConnectFailures">Failed connection attempts.</param>
/// <param name="Pending">Messages waiting now.</param>
/// <param name="Connected">Whether the collector connection is up.</param>
/// <param name="LastError">Last transport error.</param>
/// <param name="LastErrorAt">When it happened.</param>
public sealed record SyslogStatsSnapshot(
    long Queued,
    long Sent,
    long Dropped,
    long Truncated,
    long Reconnects,
    long ConnectFailures,
    long Pending,
    bool Connected,
    string? LastError,
    DateTimeOffset? LastErrorAt);
