using Appliance.Syslog.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog;

/// <summary>
/// Drains the <see cref="SyslogQueue"/> to the collector on one background task. A message leaves the queue
/// only when its write succeeded (peek, write, commit): when a write fails the message is kept and written again on
/// the next connection, so an outage loses nothing that fits the queue and its spool. Reconnects back off
/// exponentially (with jitter) from <see cref="SyslogOptions.InitialReconnectDelay"/> to
/// <see cref="SyslogOptions.MaxReconnectDelay"/>. A second task fsyncs the spool in batches
/// (<see cref="SyslogOptions.SpoolSyncInterval"/>) and logs when spooling starts, when the backlog is delivered and
/// what was discarded, with counts, at most every <see cref="DiscardReportInterval"/>.
/// </summary>
/// <remarks>
/// <para>
/// Duplicates. Syslog over TCP/TLS has no application acknowledgement (RFC 6587, 5425). When a connection breaks,
/// the sender asks it whether the collector provably read everything (an orderly close with every byte
/// acknowledged, see <see cref="StreamConnection"/>): then nothing is sent twice. Otherwise (a reset, a crash
/// with unread data, a write in flight) the last message written on it is written again first on the next
/// connection, since the collector may have dropped it unread: at most one duplicate per break, byte for byte
/// identical (same TIMESTAMP to the microsecond), which a SIEM can recognise. A collector that read a message and
/// died before storing it loses it without any sign on our side; use RELP or a local relay where that matters.
/// A message being written when the process is killed, or delivered less than a second before a power loss, can
/// be sent again after the restart (the spool's checkpoint is plain write, fsynced in batches).
/// </para>
/// <para>
/// Its own diagnostics go to the other log providers only (<see cref="SyslogLoggerProvider"/> ignores this
/// category), so a broken collector or a full spool cannot feed messages about itself back into its own queue.
/// </para>
/// </remarks>
public sealed partial class SyslogSender : BackgroundService
{
    /// <summary>Discards are logged when they begin and then at most this often, with the counts in between.</summary>
    public static readonly TimeSpan DiscardReportInterval = TimeSpan.FromSeconds(10);

    /// <summary>A connection lost sooner than this after it opened counts as a failed attempt for the backoff.</summary>
    private static readonly TimeSpan QuickDrop = TimeSpan.FromSeconds(1);

    /// <summary>How long a new TCP/TLS connection must stay up before its first message counts as delivered.</summary>
    private static readonly TimeSpan ConnectionSettle = TimeSpan.FromMilliseconds(100);

    private readonly SyslogQueue _queue;
    private readonly SyslogOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long[] _reportedDrops = new long[5];
    private long _reportedEvicted;
    private long _reportedEvictedImportant;
    private int _reportedEpisodes;
    private int _saved;
    private int _reportedDrained;
    private DateTimeOffset _lastDiscardReport = DateTimeOffset.MinValue;

    /// <summary>Creates the sender; the host starts it.</summary>
    public SyslogSender(SyslogQueue queue, IOptions<SyslogOptions> options, ILogger<SyslogSender> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(options);
        _queue = queue;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Since .NET 10 <see cref="BackgroundService"/> starts <see cref="ExecuteAsync"/> through
    /// <c>Task.Run(..., stoppingToken)</c>, which never runs it when the host stops before the thread pool picked it up
    /// (a service stopped right after it started). What is queued is then saved here, so it is never lost.
    /// </remarks>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (_options.Enabled)
            {
                SaveForNextStart();
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        ReportSpoolAtStart();
        _queue.Stats.OnDisconnected(_time.GetUtcNow()); // until the first connection: degraded if it never comes
        using var tls = LoadTls(out var tlsError);
        if (tlsError is not null)
        {
            // The validator already refused this at start; the files changed underneath us since.
            _queue.Stats.OnError(tlsError, _time.GetUtcNow());
            Log.TlsMaterialFailed(_logger, tlsError);
            return;
        }

        using var maintenanceStop = new CancellationTokenSource();
        var maintenance = MaintainAsync(maintenanceStop.Token);
        var state = new SendState();
        try
        {
            try
            {
                await RunAsync(state, tls, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: fall through to the drain.
            }

            await DrainAsync(state, tls).ConfigureAwait(false);
        }
        finally
        {
            if (state.Connection is not null)
            {
                await state.Connection.DisposeAsync().ConfigureAwait(false);
            }

            await maintenanceStop.CancelAsync().ConfigureAwait(false);
            await maintenance.ConfigureAwait(false);
            SaveForNextStart();
            _queue.Stats.OnStopped();
        }
    }

    /// <summary>
    /// Every <see cref="SyslogOptions.SpoolSyncInterval"/>: fsync the spool and report what changed. Never throws;
    /// returns when <paramref name="ct"/> is cancelled.
    /// </summary>
    private async Task MaintainAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.SpoolSyncInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                Maintain();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        Maintain();
    }

    /// <summary>One maintenance step: fsync, then the log lines for spooling, drain and discards.</summary>
    internal void Maintain()
    {
        try
        {
            _queue.Sync();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _queue.Stats.OnSpoolError(ex.Message, _time.GetUtcNow());
            Log.SpoolFailed(_logger, _queue.SpoolDirectory ?? "-", ex.Message);
        }

        var stats = _queue.Stats;
        var episodes = stats.SpoolEpisodes;
        if (episodes > _reportedEpisodes)
        {
            _reportedEpisodes = episodes;
            if (stats.Restored == 0 || episodes > 1)
            {
                Log.SpoolingStarted(_logger, _options.QueueCapacity, stats.Pending, _queue.SpoolDirectory ?? "-", stats.Connected ? "is not keeping up" : "is unreachable");
            }
        }

        var drained = stats.DrainedEpisodes;
        if (drained > _reportedDrained)
        {
            _reportedDrained = drained;
            Log.SpoolDelivered(_logger, stats.EpisodeSpooled, stats.Dropped);
        }

        ReportDiscards(force: false);
    }

    /// <summary>Logs what was discarded since the last report: at once when discarding begins, then at most every <see cref="DiscardReportInterval"/>.</summary>
    private void ReportDiscards(bool force)
    {
        var stats = _queue.Stats;
        var delta = new long[_reportedDrops.Length];
        long total = 0;
        for (var i = 0; i < delta.Length; i++)
        {
            delta[i] = stats.DroppedBy((SyslogDropReason)i) - _reportedDrops[i];
            total += delta[i];
        }

        var (evicted, evictedImportant, from, to) = stats.Evicted;
        var evictedDelta = evicted - _reportedEvicted;
        if (total == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var quiet = now - _lastDiscardReport >= DiscardReportInterval;
        if (!force && !quiet)
        {
            return;
        }

        var seconds = _lastDiscardReport == DateTimeOffset.MinValue ? 0 : (long)(now - _lastDiscardReport).TotalSeconds;
        _lastDiscardReport = now;
        for (var i = 0; i < delta.Length; i++)
        {
            _reportedDrops[i] += delta[i];
        }

        var refusedFull = delta[(int)SyslogDropReason.SpoolFull] - evictedDelta;
        Log.Discarded(
            _logger,
            total,
            seconds,
            delta[(int)SyslogDropReason.LowSeverity],
            _options.SpoolReservedPercent,
            evictedDelta,
            evictedImportant - _reportedEvictedImportant,
            evictedDelta > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(from) : null,
            evictedDelta > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(to) : null,
            refusedFull,
            delta[(int)SyslogDropReason.QueueFull],
            delta[(int)SyslogDropReason.SpoolError],
            delta[(int)SyslogDropReason.Shutdown],
            stats.Dropped);
        _reportedEvicted = evicted;
        _reportedEvictedImportant = evictedImportant;
    }

    private void ReportSpoolAtStart()
    {
        var stats = _queue.Stats;
        if (stats.SpoolError is { } error)
        {
            Log.SpoolFailed(_logger, _options.SpoolDirectory ?? "-", error);
        }

        if (stats.Restored > 0 || stats.SpoolCorruptRegions > 0)
        {
            Log.SpoolRestored(_logger, _queue.SpoolDirectory ?? "-", stats.Restored, stats.SpoolCorruptRegions, stats.SpoolCorruptBytes);
            _reportedEpisodes = stats.SpoolEpisodes;
        }
    }

    private void SaveForNextStart()
    {
        if (Interlocked.Exchange(ref _saved, 1) != 0)
        {
            return;
        }

        var (kept, lost) = _queue.SaveForNextStart();
        if (kept > 0)
        {
            Log.KeptForNextStart(_logger, kept, _queue.SpoolDirectory ?? "-");
        }

        if (lost > 0)
        {
            Log.AbandonedAtShutdown(_logger, lost);
        }

        ReportDiscards(force: true);
    }

    private TlsMaterial? LoadTls(out string? error)
    {
        error = null;
        return _options.Transport == SyslogTransport.Tls ? TlsMaterial.Load(_options.Tls, out error) : null;
    }

    private async Task RunAsync(SendState state, TlsMaterial? tls, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // 1. Look at the next message (it stays queued until committed) unless one is still to be replayed.
            if (state.Replay is null && state.Head is null)
            {
                if (!_queue.TryPeek(out var next))
                {
                    if (!await _queue.WaitToReadAsync(ct).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                state.Head = next;
            }

            // 2. Make sure there is a live connection; back off while there is none, and before replacing one the
            //    collector dropped right after accepting it (it would otherwise be a hot connect-drop loop).
            if (state.Connection is null or { IsBroken: true } && state.RetryAfter > _time.GetUtcNow())
            {
                await Task.Delay(state.RetryAfter - _time.GetUtcNow(), _time, ct).ConfigureAwait(false);
            }

            if (!await EnsureConnectedAsync(state, tls, ct).ConfigureAwait(false))
            {
                await Task.Delay(NextBackoff(state), _time, ct).ConfigureAwait(false);
                continue;
            }

            // 3. Write: first the replay of the message last written on a connection that died doubtfully, else
            //    the next one. Only success commits it.
            var message = state.Replay ?? state.Head;
            if (message is null)
            {
                continue; // the replay was just dropped as unneeded; peek again
            }

            if (!await TrySendAsync(state, message, ct).ConfigureAwait(false))
            {
                continue;
            }

            // 4. On a fresh connection, hold the first message until the connection has stayed up a moment: a
            //    collector that accepts and then drops us (session limit, rejected client certificate, crash
            //    loop) would otherwise swallow it and everything written behind it. If the connection does not
            //    survive, the message is written again on the next one, unless the collector provably read it.
            if (state.Fresh)
            {
                state.Fresh = false;
                await Task.Delay(ConnectionSettle, _time, ct).ConfigureAwait(false);
                if (state.Connection!.IsBroken && !state.Connection.PeerReadEverything)
                {
                    continue;
                }
            }

            Release(state, message);
        }
    }

    private async Task DrainAsync(SendState state, TlsMaterial? tls)
    {
        _queue.Complete();
        using var cts = new CancellationTokenSource(_options.ShutdownDrainTimeout, _time);
        try
        {
            while (!cts.IsCancellationRequested)
            {
                if (state.Replay is null && state.Head is null)
                {
                    if (!_queue.TryPeek(out var next))
                    {
                        return;
                    }

                    state.Head = next;
                }

                // One attempt per message: a collector that is down at shutdown is not waited for.
                if (!await EnsureConnectedAsync(state, tls, cts.Token).ConfigureAwait(false))
                {
                    break;
                }

                var message = state.Replay ?? state.Head;
                if (message is null)
                {
                    continue;
                }

                if (!await TrySendAsync(state, message, cts.Token).ConfigureAwait(false))
                {
                    break;
                }

                Release(state, message);
            }
        }
        catch (OperationCanceledException)
        {
            // Drain time is up; what is left stays queued and is saved to the spool (or counted lost).
        }
    }

    private async Task<bool> EnsureConnectedAsync(SendState state, TlsMaterial? tls, CancellationToken ct)
    {
        if (state.Connection is { IsBroken: false })
        {
            return true;
        }

        if (state.Connection is not null)
        {
            // Found dead between writes: unless the collector provably read everything, the last message written
            // on it may have been lost with it, so it goes again first: the one duplicate a reconnect may cause.
            NoteBreak(state);
            await DropConnectionAsync(state, "the collector closed the connection").ConfigureAwait(false);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            state.Connection = await SyslogConnection.ConnectAsync(_options, tls, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _queue.Stats.OnConnectFailed();
            _queue.Stats.OnDisconnected(_time.GetUtcNow());
            var message = ex is OperationCanceledException ? $"connect timed out after {_options.ConnectTimeout.TotalSeconds:0.#} s" : ex.Message;
            _queue.Stats.OnError(message, _time.GetUtcNow());
            if (state.Failures == 0 || state.WasConnected)
            {
                Log.ConnectFailed(_logger, _options.Host!, _options.EffectivePort, _options.Transport, message);
            }

            state.Failures++;
            state.WasConnected = false;
            return false;
        }

        state.ConnectedAt = _time.GetUtcNow();
        state.LastWritten = null;
        state.Fresh = _options.Transport != SyslogTransport.Udp;
        _queue.Stats.OnConnected(state.EverConnected);
        if (state.EverConnected || _queue.Stats.Pending > 1)
        {
            Log.Reconnected(_logger, _options.Host!, _options.EffectivePort, state.Failures, _queue.Stats.Pending, _queue.Stats.SpoolRecords);
        }

        state.EverConnected = true;
        state.WasConnected = true;
        state.Failures = 0;
        return true;
    }

    private async Task<bool> TrySendAsync(SendState state, byte[]? message, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.WriteTimeout);
        try
        {
            await state.Connection!.SendAsync(message!, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // The failed message is kept and written again: a failed write never completed its frame, so the
            // collector cannot have taken it as a message. The one written before it may have been lost with the
            // connection (unless the collector provably read it), so it goes again first: the single duplicate a
            // reconnect may cause.
            NoteBreak(state);
            var error = ex is OperationCanceledException ? $"write timed out after {_options.WriteTimeout.TotalSeconds:0.#} s" : ex.Message;
            await DropConnectionAsync(state, error).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>A connection broke: replay the last message written on it unless the collector provably read it.</summary>
    private static void NoteBreak(SendState state)
    {
        if (state.Connection is { PeerReadEverything: false })
        {
            state.Replay ??= state.LastWritten;
        }

        state.LastWritten = null;
    }

    private void Release(SendState state, byte[] message)
    {
        if (_options.Transport != SyslogTransport.Udp)
        {
            state.LastWritten = message;
        }

        if (ReferenceEquals(message, state.Replay))
        {
            state.Replay = null; // a re-send: already counted
            return;
        }

        state.Head = null;
        _queue.Commit();
        _queue.Stats.OnSent();
    }

    private async Task DropConnectionAsync(SendState state, string why)
    {
        var now = _time.GetUtcNow();
        _queue.Stats.OnDisconnected(now);
        _queue.Stats.OnError(why, now);
        Log.ConnectionLost(_logger, _options.Host!, _options.EffectivePort, why);
        state.QuickDrops = now - state.ConnectedAt < QuickDrop ? state.QuickDrops + 1 : 0;
        state.RetryAfter = state.QuickDrops > 0 ? now + NextBackoff(state.QuickDrops) : now;
        var connection = state.Connection;
        state.Connection = null;
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private TimeSpan NextBackoff(SendState state) => NextBackoff(state.Failures);

    private TimeSpan NextBackoff(int failures)
        => Backoff(failures, _options.InitialReconnectDelay, _options.MaxReconnectDelay, Random.Shared.NextDouble());

    /// <summary>
    /// The delay after <paramref name="failures"/> consecutive failed attempts: the initial delay doubled per
    /// further failure, capped, times a jitter factor of 0.8-1.2 (<paramref name="random01"/> in [0, 1)) so a
    /// fleet of appliances does not reconnect in step; never above the cap.
    /// </summary>
    internal static TimeSpan Backoff(int failures, TimeSpan initial, TimeSpan max, double random01)
    {
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var ms = Math.Min(initial.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        ms *= 0.8 + (random01 * 0.4);
        return TimeSpan.FromMilliseconds(Math.Min(ms, max.TotalMilliseconds));
    }

    private sealed class SendState
    {
        public SyslogConnection? Connection;
        public byte[]? Head;
        public byte[]? Replay;
        public byte[]? LastWritten;
        public int Failures;
        public bool EverConnected;
        public bool WasConnected;
        public DateTimeOffset ConnectedAt;
        public int QuickDrops;
        public bool Fresh;
        public DateTimeOffset RetryAfter;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, EventName = "syslog-connect-failed", Level = LogLevel.Warning,
            Message = "Cannot reach the syslog collector {Host}:{Port} over {Transport}: {Error}; queueing and retrying with backoff")]
        public static partial void ConnectFailed(ILogger logger, string host, int port, SyslogTransport transport, string error);

        [LoggerMessage(EventId = 901, EventName = "syslog-connection-lost", Level = LogLevel.Warning,
            Message = "Lost the syslog collector {Host}:{Port}: {Error}; the message in flight will be sent again")]
        public static partial void ConnectionLost(ILogger logger, string host, int port, string error);

        [LoggerMessage(EventId = 902, EventName = "syslog-reconnected", Level = LogLevel.Information,
            Message = "Connected to the syslog collector {Host}:{Port} after {Failures} failed attempts; delivering {Pending} waiting messages, {Spooled} of them from the spool")]
        public static partial void Reconnected(ILogger logger, string host, int port, int failures, long pending, long spooled);

        [LoggerMessage(EventId = 903, EventName = "syslog-abandoned", Level = LogLevel.Warning,
            Message = "{Count} queued syslog messages could not be sent before shutdown and are lost (no spool)")]
        public static partial void AbandonedAtShutdown(ILogger logger, long count);

        [LoggerMessage(EventId = 904, EventName = "syslog-tls-failed", Level = LogLevel.Error,
            Message = "Syslog over TLS is disabled: {Error}")]
        public static partial void TlsMaterialFailed(ILogger logger, string error);

        [LoggerMessage(EventId = 905, EventName = "syslog-spooling", Level = LogLevel.Warning,
            Message = "The syslog collector {Why}: the memory queue ({Capacity} messages) is full with {Pending} waiting; spooling to {Directory}")]
        public static partial void SpoolingStarted(ILogger logger, int capacity, long pending, string directory, string why);

        [LoggerMessage(EventId = 906, EventName = "syslog-spool-delivered", Level = LogLevel.Information,
            Message = "The syslog spool is delivered: {Spooled} spooled messages sent; {Dropped} lost since start")]
        public static partial void SpoolDelivered(ILogger logger, long spooled, long dropped);

        [LoggerMessage(EventId = 907, EventName = "syslog-discarded", Level = LogLevel.Error,
            Message = "Syslog discarded {Count} messages in {Seconds} s: {LowSeverity} below warning (spool past the share kept for warnings, {ReservedPercent}%), {Evicted} spooled ones ({EvictedImportant} warning or above) from the middle of the backlog, queued {EvictedFrom:o} to {EvictedTo:o}, {RefusedFull} refused with the spool full, {QueueFull} with the memory queue full and no spool, {SpoolErrors} on spool write errors, {Shutdown} at shutdown; {Total} since start")]
        public static partial void Discarded(ILogger logger, long count, long seconds, long lowSeverity, int reservedPercent, long evicted, long evictedImportant, DateTimeOffset? evictedFrom, DateTimeOffset? evictedTo, long refusedFull, long queueFull, long spoolErrors, long shutdown, long total);

        [LoggerMessage(EventId = 908, EventName = "syslog-spool-failed", Level = LogLevel.Error,
            Message = "Syslog spool {Directory}: {Error}; messages that do not fit the memory queue are dropped")]
        public static partial void SpoolFailed(ILogger logger, string directory, string error);

        [LoggerMessage(EventId = 909, EventName = "syslog-spool-restored", Level = LogLevel.Warning,
            Message = "Syslog spool {Directory}: {Restored} undelivered messages from the last run are sent first; {CorruptRegions} damaged regions ({CorruptBytes} bytes) skipped")]
        public static partial void SpoolRestored(ILogger logger, string directory, long restored, long corruptRegions, long corruptBytes);

        [LoggerMessage(EventId = 910, EventName = "syslog-spool-kept", Level = LogLevel.Warning,
            Message = "{Count} undelivered syslog messages are kept in the spool {Directory} for the next start")]
        public static partial void KeptForNextStart(ILogger logger, long count, string directory);
    }
}
