namespace Appliance.Syslog;

/// <summary>Why a message was lost.</summary>
public enum SyslogDropReason
{
    /// <summary>The memory queue was full and there is no spool.</summary>
    QueueFull = 0,

    /// <summary>Below warning, and the spool was past the share kept for warning and above.</summary>
    LowSeverity = 1,

    /// <summary>The spool was full: the new message, or spooled ones discarded from the middle of the backlog.</summary>
    SpoolFull = 2,

    /// <summary>The spool could not be written (disk full, I/O error).</summary>
    SpoolError = 3,

    /// <summary>Not delivered by shutdown and not kept (no spool).</summary>
    Shutdown = 4,
}

/// <summary>
/// Live counters and gauges of the syslog sink, for the management API, metrics and health. Updated with
/// interlocked operations; reads are individually atomic but not a consistent snapshot (use <see cref="Snapshot"/>).
/// </summary>
public sealed class SyslogStats
{
    private readonly long[] _dropped = new long[5];
    private long _queued;
    private long _sent;
    private long _truncated;
    private long _reconnects;
    private long _connectFailures;
    private int _connected;
    private string? _lastError;
    private long _lastErrorTicks;
    private long _pending;
    private long _spoolRecords;
    private long _spoolBytes;
    private long _oldestMs;
    private long _spooled;
    private long _restored;
    private long _corruptRegions;
    private long _corruptBytes;
    private long _evicted;
    private long _evictedImportant;
    private long _evictedFromMs;
    private long _evictedToMs;
    private long _disconnectedSinceTicks;
    private int _spoolEpisodes;
    private long _episodeSpooled;
    private int _drainedEpisodes;

    /// <summary>Messages accepted (into memory or the spool) since start.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Messages delivered since start (written and not found lost with the connection).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Messages lost for any reason (the sum of <see cref="DroppedBy"/>).</summary>
    public long Dropped
    {
        get
        {
            long sum = 0;
            for (var i = 0; i < _dropped.Length; i++)
            {
                sum += Interlocked.Read(ref _dropped[i]);
            }

            return sum;
        }
    }

    /// <summary>Messages cut to fit <see cref="SyslogOptions.MaxMessageBytes"/>.</summary>
    public long Truncated => Interlocked.Read(ref _truncated);

    /// <summary>Connections re-established after a loss.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Failed connection attempts (refused, timed out, TLS validation failed).</summary>
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);

    /// <summary>True while a connection to the collector is up (UDP: while the socket is open).</summary>
    public bool Connected => Volatile.Read(ref _connected) != 0;

    /// <summary>Messages waiting now (the queue depth: memory plus spool).</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Of <see cref="Pending"/>, messages in the on-disk spool.</summary>
    public long SpoolRecords => Interlocked.Read(ref _spoolRecords);

    /// <summary>Bytes the spool's segment files hold.</summary>
    public long SpoolBytes => Interlocked.Read(ref _spoolBytes);

    /// <summary>Messages written to the spool since start.</summary>
    public long Spooled => Interlocked.Read(ref _spooled);

    /// <summary>Undelivered messages found in the spool at start (left by an earlier run).</summary>
    public long Restored => Interlocked.Read(ref _restored);

    /// <summary>Damaged spool regions skipped (torn or corrupt records, at start or while reading).</summary>
    public long SpoolCorruptRegions => Interlocked.Read(ref _corruptRegions);

    /// <summary>Bytes those damaged regions held.</summary>
    public long SpoolCorruptBytes => Interlocked.Read(ref _corruptBytes);

    /// <summary>When the oldest undelivered message was queued, or null when nothing waits.</summary>
    public DateTimeOffset? OldestUndeliveredAt
    {
        get
        {
            var ms = Interlocked.Read(ref _oldestMs);
            return ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
    }

    /// <summary>Since when the collector has been unreachable, or null while connected.</summary>
    public DateTimeOffset? DisconnectedSince
    {
        get
        {
            var t = Interlocked.Read(ref _disconnectedSinceTicks);
            return t == 0 ? null : new DateTimeOffset(t, TimeSpan.Zero);
        }
    }

    /// <summary>The last transport or spool error, or null.</summary>
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

    /// <summary>The spool could not be opened or written (last such error), or null.</summary>
    public string? SpoolError { get; private set; }

    /// <summary>Messages lost for one reason.</summary>
    public long DroppedBy(SyslogDropReason reason) => Interlocked.Read(ref _dropped[(int)reason]);

    /// <summary>The age of the oldest undelivered message at <paramref name="now"/>; zero when nothing waits.</summary>
    public TimeSpan OldestUndeliveredAge(DateTimeOffset now)
        => OldestUndeliveredAt is { } t && now > t ? now - t : TimeSpan.Zero;

    /// <summary>
    /// Why events cannot be delivered, or null when they can: the collector has been unreachable, or the oldest
    /// undelivered message has waited, for longer than <paramref name="grace"/> (a reconnect's backoff or a short
    /// burst stays within it).
    /// </summary>
    public string? DeliveryProblem(DateTimeOffset now, TimeSpan grace)
    {
        if (DisconnectedSince is { } since && now - since > grace)
        {
            return $"syslog collector unreachable for {(now - since).TotalSeconds:0} s; {Pending} messages waiting ({SpoolRecords} spooled, {SpoolBytes} bytes)";
        }

        var age = OldestUndeliveredAge(now);
        return age > grace ? $"syslog delivery {age.TotalSeconds:0} s behind; {Pending} messages waiting" : null;
    }

    /// <summary>A copy of the counters for display or JSON.</summary>
    public SyslogStatsSnapshot Snapshot() => new(
        Queued,
        Sent,
        Dropped,
        Truncated,
        Reconnects,
        ConnectFailures,
        Pending,
        Connected,
        LastError,
        LastErrorAt,
        SpoolRecords,
        SpoolBytes,
        OldestUndeliveredAt,
        DroppedBy(SyslogDropReason.QueueFull),
        DroppedBy(SyslogDropReason.LowSeverity),
        DroppedBy(SyslogDropReason.SpoolFull),
        DroppedBy(SyslogDropReason.SpoolError),
        DroppedBy(SyslogDropReason.Shutdown),
        SpoolCorruptRegions);

    /// <summary>Messages discarded from the middle of the spool since start, of them warning or above, and their time span.</summary>
    internal (long Records, long Important, long FromMs, long ToMs) Evicted
        => (Interlocked.Read(ref _evicted), Interlocked.Read(ref _evictedImportant), Interlocked.Read(ref _evictedFromMs), Interlocked.Read(ref _evictedToMs));

    /// <summary>Times the spool went from empty to non-empty (an overflow episode began).</summary>
    internal int SpoolEpisodes => Volatile.Read(ref _spoolEpisodes);

    /// <summary>Messages spooled since the current (or last) overflow episode began, restored ones included.</summary>
    internal long EpisodeSpooled => Interlocked.Read(ref _episodeSpooled);

    /// <summary>Times the spool was delivered down to empty.</summary>
    internal int DrainedEpisodes => Volatile.Read(ref _drainedEpisodes);

    internal void OnQueued() => Interlocked.Increment(ref _queued);

    internal void OnSent() => Interlocked.Increment(ref _sent);

    internal void OnDropped(SyslogDropReason reason) => Interlocked.Increment(ref _dropped[(int)reason]);

    internal void OnTruncated() => Interlocked.Increment(ref _truncated);

    internal void OnSpooled(bool first)
    {
        Interlocked.Increment(ref _spooled);
        if (first)
        {
            Interlocked.Exchange(ref _episodeSpooled, 0);
            Interlocked.Increment(ref _spoolEpisodes);
        }

        Interlocked.Increment(ref _episodeSpooled);
    }

    internal void OnSpoolDrained() => Interlocked.Increment(ref _drainedEpisodes);

    internal void OnSpoolEvicted(int records, int important, long fromMs, long toMs)
    {
        Interlocked.Add(ref _evicted, records);
        Interlocked.Add(ref _evictedImportant, important);
        Interlocked.Add(ref _dropped[(int)SyslogDropReason.SpoolFull], records);
        Interlocked.CompareExchange(ref _evictedFromMs, fromMs, 0);
        Interlocked.Exchange(ref _evictedToMs, toMs);
    }

    internal void OnSpoolOpened(long restored, long corruptRegions, long corruptBytes)
    {
        Interlocked.Exchange(ref _restored, restored);
        Interlocked.Exchange(ref _corruptRegions, corruptRegions);
        Interlocked.Exchange(ref _corruptBytes, corruptBytes);
        if (restored > 0)
        {
            Interlocked.Exchange(ref _episodeSpooled, restored);
            Interlocked.Increment(ref _spoolEpisodes);
        }
    }

    internal void OnSpoolError(string error, DateTimeOffset at)
    {
        SpoolError = error;
        OnError(error, at);
    }

    /// <summary>The queue's gauges, written under its lock after every change.</summary>
    internal void Publish(long pending, long spoolRecords, long spoolBytes, long oldestMs, long corruptRegions)
    {
        Interlocked.Exchange(ref _pending, pending);
        Interlocked.Exchange(ref _spoolRecords, spoolRecords);
        Interlocked.Exchange(ref _spoolBytes, spoolBytes);
        Interlocked.Exchange(ref _oldestMs, oldestMs);
        if (corruptRegions > Interlocked.Read(ref _corruptRegions))
        {
            Interlocked.Exchange(ref _corruptRegions, corruptRegions);
        }
    }

    internal void OnConnected(bool isReconnect)
    {
        if (isReconnect)
        {
            Interlocked.Increment(ref _reconnects);
        }

        Volatile.Write(ref _connected, 1);
        Interlocked.Exchange(ref _disconnectedSinceTicks, 0);
    }

    /// <summary>The collector is unreachable from <paramref name="at"/> on (the first call of an outage counts).</summary>
    internal void OnDisconnected(DateTimeOffset at)
    {
        Volatile.Write(ref _connected, 0);
        Interlocked.CompareExchange(ref _disconnectedSinceTicks, at.UtcTicks, 0);
    }

    /// <summary>The sender stopped: not connected, and not an outage either.</summary>
    internal void OnStopped()
    {
        Volatile.Write(ref _connected, 0);
        Interlocked.Exchange(ref _disconnectedSinceTicks, 0);
    }

    internal void OnConnectFailed() => Interlocked.Increment(ref _connectFailures);

    internal void OnError(string error, DateTimeOffset at)
    {
        Volatile.Write(ref _lastError, error);
        Interlocked.Exchange(ref _lastErrorTicks, at.UtcTicks);
    }
}

/// <summary>A point-in-time copy of <see cref="SyslogStats"/>.</summary>
/// <param name="Queued">Messages accepted since start.</param>
/// <param name="Sent">Messages delivered.</param>
/// <param name="Dropped">Messages lost, every reason.</param>
/// <param name="Truncated">Messages cut to the size cap.</param>
/// <param name="Reconnects">Connections re-established after a loss.</param>
/// <param name="ConnectFailures">Failed connection attempts.</param>
/// <param name="Pending">Messages waiting now (memory and spool).</param>
/// <param name="Connected">Whether the collector connection is up.</param>
/// <param name="LastError">Last transport or spool error.</param>
/// <param name="LastErrorAt">When it happened.</param>
/// <param name="SpoolRecords">Messages waiting in the spool.</param>
/// <param name="SpoolBytes">Bytes of the spool's files.</param>
/// <param name="OldestUndeliveredAt">When the oldest waiting message was queued.</param>
/// <param name="DroppedQueueFull">Lost: memory queue full, no spool.</param>
/// <param name="DroppedLowSeverity">Lost: below warning past the spool's reserve.</param>
/// <param name="DroppedSpoolFull">Lost: spool full (refused, or discarded from the middle).</param>
/// <param name="DroppedSpoolError">Lost: spool write failed.</param>
/// <param name="DroppedShutdown">Lost at shutdown.</param>
/// <param name="SpoolCorruptRegions">Damaged spool regions skipped.</param>
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
    DateTimeOffset? LastErrorAt,
    long SpoolRecords,
    long SpoolBytes,
    DateTimeOffset? OldestUndeliveredAt,
    long DroppedQueueFull,
    long DroppedLowSeverity,
    long DroppedSpoolFull,
    long DroppedSpoolError,
    long DroppedShutdown,
    long SpoolCorruptRegions);
