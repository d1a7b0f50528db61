using Appliance.Syslog.Spool;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog;

/// <summary>
/// The hand-off between loggers and the sender: a memory queue of <see cref="SyslogOptions.QueueCapacity"/>
/// messages and, when <see cref="SyslogOptions.SpoolDirectory"/> is set, a bounded on-disk spool behind it
/// (rsyslog's disk-assisted queue). <see cref="TryEnqueue"/> never waits for the collector: while the memory queue
/// has room and nothing is spooled, messages go there; once it is full they go to the spool, and keep going there
/// until the spool has been delivered, so order is kept (memory first, then the spool). Without a spool, or when the
/// spool refuses a message (see <see cref="SyslogSpool"/> for the discard policy), the message is dropped and
/// counted. A message leaves the queue only when the sender commits it, after its write succeeded.
/// </summary>
/// <remarks>
/// At shutdown whatever the sender could not deliver is written to the spool in front of what is already there, so
/// the next start delivers it first. A spool left by an earlier run is read back when the queue is created.
/// Nothing here logs: the queue sits under the logging pipeline (the syslog provider feeds it), so it records
/// events in <see cref="Stats"/> and the sender reports them through the other log providers.
/// </remarks>
public sealed class SyslogQueue : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Queue<(byte[] Message, long TimeMs)> _memory = new();
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private SyslogSpool? _spool;
    private TaskCompletionSource? _waiter;
    private bool _completed;
    private bool _peekedFromSpool;

    /// <summary>Creates the queue and opens the spool, reading back what an earlier run left in it.</summary>
    public SyslogQueue(IOptions<SyslogOptions> options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        Enabled = o.Enabled;
        _capacity = o.QueueCapacity;
        _time = time ?? TimeProvider.System;
        if (Enabled && !string.IsNullOrWhiteSpace(o.SpoolDirectory))
        {
            try
            {
                _spool = SyslogSpool.Open(o.SpoolDirectory, o.SpoolMaxBytes, o.SpoolReservedPercent);
                Stats.OnSpoolOpened(_spool.Restored, _spool.CorruptRegions, _spool.CorruptBytes);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                // Memory only, as if no spool were configured; the sender reports it at start and health shows it.
                Stats.OnSpoolError($"cannot open the syslog spool {o.SpoolDirectory}: {ex.Message}", _time.GetUtcNow());
            }

            PublishLocked();
        }
    }

    /// <summary>Counters of this sink.</summary>
    public SyslogStats Stats { get; } = new();

    /// <summary>False when no collector is configured; loggers then skip formatting altogether.</summary>
    public bool Enabled { get; }

    /// <summary>The spool directory in use, or null (none configured, or it could not be opened).</summary>
    public string? SpoolDirectory => _spool?.Directory;

    /// <summary>Segments on disk (for tests).</summary>
    internal int SpoolSegments
    {
        get
        {
            lock (_gate)
            {
                return _spool?.SegmentCount ?? 0;
            }
        }
    }

    /// <summary>
    /// Queues one formatted message. False (and counted) when it was dropped: memory full and no spool, the spool
    /// refused it (full, or low severity past the reserve), or shut down.
    /// </summary>
    public bool TryEnqueue(byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_completed)
            {
                Stats.OnDropped(SyslogDropReason.Shutdown);
                return false;
            }

            if (_spool is null || (_spool.Records == 0 && _memory.Count < _capacity))
            {
                if (_memory.Count >= _capacity)
                {
                    Stats.OnDropped(SyslogDropReason.QueueFull);
                    return false;
                }

                _memory.Enqueue((message, now));
            }
            else
            {
                var first = _spool.Records == 0;
                var outcome = _spool.Append(message, now, out var evicted, out var evictedImportant, out var from, out var to);
                if (evicted > 0)
                {
                    Stats.OnSpoolEvicted(evicted, evictedImportant, from!.FirstTimeMs, to!.LastTimeMs);
                }

                switch (outcome)
                {
                    case SpoolAppendOutcome.Appended:
                        Stats.OnSpooled(first);
                        break;
                    case SpoolAppendOutcome.DiscardedLowSeverity:
                        Stats.OnDropped(SyslogDropReason.LowSeverity);
                        PublishLocked();
                        return false;
                    case SpoolAppendOutcome.DiscardedFull:
                        Stats.OnDropped(SyslogDropReason.SpoolFull);
                        PublishLocked();
                        return false;
                    default:
                        Stats.OnDropped(SyslogDropReason.SpoolError);
                        Stats.OnSpoolError(_spool.LastError ?? "write failed", _time.GetUtcNow());
                        PublishLocked();
                        return false;
                }
            }

            Stats.OnQueued();
            PublishLocked();
            wake = _waiter;
            _waiter = null;
        }

        wake?.TrySetResult();
        return true;
    }

    /// <summary>
    /// The oldest undelivered message, left in the queue until <see cref="Commit"/>. Memory first (it is always
    /// older than the spool), then the spool. False when the queue is empty.
    /// </summary>
    internal bool TryPeek(out byte[] message)
    {
        lock (_gate)
        {
            if (_memory.TryPeek(out var entry))
            {
                message = entry.Message;
                _peekedFromSpool = false;
                return true;
            }

            if (_spool is not null && _spool.TryPeek(out message, out _))
            {
                _peekedFromSpool = true;
                PublishLocked(); // a damaged record skipped while reading changes the counts
                return true;
            }

            message = [];
            PublishLocked();
            return false;
        }
    }

    /// <summary>The message last returned by <see cref="TryPeek"/> was delivered: remove it.</summary>
    internal void Commit()
    {
        lock (_gate)
        {
            if (_peekedFromSpool)
            {
                _spool!.Commit();
                _peekedFromSpool = false;
                if (_spool.Records == 0)
                {
                    Stats.OnSpoolDrained();
                }
            }
            else
            {
                _memory.TryDequeue(out _);
            }

            PublishLocked();
        }
    }

    /// <summary>Waits until a message is available; false once the queue is completed and empty.</summary>
    internal async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        Task wait;
        lock (_gate)
        {
            if (_memory.Count > 0 || (_spool?.Records ?? 0) > 0)
            {
                return true;
            }

            if (_completed)
            {
                return false;
            }

            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _waiter.Task;
        }

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>No more messages will be accepted.</summary>
    internal void Complete()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _completed = true;
            wake = _waiter;
            _waiter = null;
        }

        wake?.TrySetResult();
    }

    /// <summary>
    /// Shutdown: moves what is left in memory to the spool, in front of what is spooled, and fsyncs. Returns how
    /// many messages are kept for the next start and how many are lost (no spool, or it failed).
    /// </summary>
    internal (long Kept, long Lost) SaveForNextStart()
    {
        lock (_gate)
        {
            _completed = true;
            var memory = _memory.ToArray();
            if (_spool is null)
            {
                _memory.Clear();
                foreach (var _ in memory)
                {
                    Stats.OnDropped(SyslogDropReason.Shutdown);
                }

                PublishLocked();
                return (0, memory.Length);
            }

            try
            {
                _spool.Prepend(memory);
                _memory.Clear();
                _spool.Sync();
                PublishLocked();
                return (_spool.Records, 0);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Stats.OnSpoolError(ex.Message, _time.GetUtcNow());
                foreach (var _ in _memory)
                {
                    Stats.OnDropped(SyslogDropReason.Shutdown);
                }

                _memory.Clear();
                PublishLocked();
                return (_spool.Records, memory.Length);
            }
        }
    }

    /// <summary>Makes spooled messages durable (fsync), outside the lock so loggers do not wait for the disk.</summary>
    internal void Sync()
    {
        SyslogSpool.SyncWork work;
        lock (_gate)
        {
            if (_spool is null)
            {
                return;
            }

            work = _spool.TakeSyncWork();
        }

        SyslogSpool.SyncWork.Run(work);
    }

    /// <summary>Refreshes the time-dependent gauges (the age of the oldest undelivered message).</summary>
    internal void Publish()
    {
        lock (_gate)
        {
            PublishLocked();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _completed = true;
            _spool?.Dispose();
            _spool = null;
        }
    }

    private void PublishLocked()
    {
        long oldest = 0;
        if (_memory.TryPeek(out var head))
        {
            oldest = head.TimeMs;
        }
        else if (_spool is { Records: > 0 })
        {
            oldest = _spool.HeadTimeMs;
        }

        Stats.Publish(
            _memory.Count + (_spool?.Records ?? 0),
            _spool?.Records ?? 0,
            _spool?.Bytes ?? 0,
            oldest,
            _spool?.CorruptRegions ?? 0);
    }
}
