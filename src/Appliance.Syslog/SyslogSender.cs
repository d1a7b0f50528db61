using Appliance.Syslog.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog;

/// <summary>
/// Drains the <see cref="SyslogQueue"/> to the collector on one background task. A message leaves the queue
/// only when its write succeeded: when a write fails the message is kept and written again on the next
/// connection, so an outage loses nothing that fits the queue. With TCP and TLS, when a connection breaks, the
/// last message written on it is written again first on the next one, since the collector may have gone
/// without reading it; a write that failed never completed its frame and is simply retried. So a reconnect
/// duplicates at most one message, byte for byte identical (same TIMESTAMP to the microsecond), which a SIEM
/// can recognise. Reconnects back off exponentially (with jitter) from
/// <see cref="SyslogOptions.InitialReconnectDelay"/> to <see cref="SyslogOptions.MaxReconnectDelay"/>.
/// </summary>
/// <remarks>
/// <para>
/// What TCP cannot promise: syslog over TCP/TLS has no application acknowledgement (RFC 6587, 5425), so bytes
/// the kernel accepted after the collector stopped reading but before its close reached us are gone with it.
/// The sender checks the socket before every write and replays the last message after a break, which closes
/// that window for the usual case of one message in flight: with a message a millisecond logged straight through
/// an rsyslog restart or crash, 10 of 10 runs lost nothing, but in a later series one run in about ten lost
/// one message at the break. Messages queued while the collector is away are not at risk. Use RELP or a local
/// relay where even that matters.
/// </para>
/// <para>
/// Its own diagnostics go to the other log providers only (<see cref="SyslogLoggerProvider"/> ignores this
/// category), so a broken collector cannot feed messages about itself back into its own queue.
/// </para>
/// </remarks>
public sealed partial class SyslogSender : BackgroundService
{
    /// <summary>A connection lost sooner than this after it opened counts as a failed attempt for the backoff.</summary>
    private static readonly TimeSpan QuickDrop = TimeSpan.FromSeconds(1);

    /// <summary>How long a new TCP/TLS connection must stay up before its first message counts as delivered.</summary>
    private static readonly TimeSpan ConnectionSettle = TimeSpan.FromMilliseconds(100);

    private readonly SyslogQueue _queue;
    private readonly SyslogOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

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
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        using var tls = LoadTls(out var tlsError);
        if (tlsError is not null)
        {
            // The validator already refused this at start; the files changed underneath us since.
            _queue.Stats.OnError(tlsError, _time.GetUtcNow());
            Log.TlsMaterialFailed(_logger, tlsError);
            return;
        }

        var state = new SendState();
        try
        {
            await RunAsync(state, tls, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: fall through to the drain.
        }

        try
        {
            await DrainAsync(state, tls).ConfigureAwait(false);
        }
        finally
        {
            if (state.Connection is not null)
            {
                await state.Connection.DisposeAsync().ConfigureAwait(false);
            }

            _queue.Stats.OnDisconnected();
        }
    }

    private TlsMaterial? LoadTls(out string? error)
    {
        error = null;
        return _options.Transport == SyslogTransport.Tls ? TlsMaterial.Load(_options.Tls, out error) : null;
    }

    private async Task RunAsync(SendState state, TlsMaterial? tls, CancellationToken ct)
    {
        var reader = _queue.Reader;
        while (!ct.IsCancellationRequested)
        {
            // 1. Take the next message unless one is still pending from a failed write.
            if (state.Pending is null)
            {
                if (!reader.TryRead(out var next))
                {
                    if (!await reader.WaitToReadAsync(ct).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                state.Pending = next;
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

            // 3. Write: first the replay of the message last written on a connection found dead, else the next
            //    one. Only success releases it.
            var message = state.Replay ?? state.Pending;
            if (!await TrySendAsync(state, message, ct).ConfigureAwait(false))
            {
                continue;
            }

            // 4. On a fresh connection, hold the first message until the connection has stayed up a moment: a
            //    collector that accepts and then drops us (session limit, rejected client certificate, crash
            //    loop) would otherwise swallow it and everything written behind it. If the connection does not
            //    survive, the message is written again on the next one.
            if (state.Fresh)
            {
                state.Fresh = false;
                await Task.Delay(ConnectionSettle, _time, ct).ConfigureAwait(false);
                if (state.Connection!.IsBroken)
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
                if (state.Pending is null)
                {
                    if (!_queue.Reader.TryRead(out var next))
                    {
                        return;
                    }

                    state.Pending = next;
                }

                // One attempt per message: a collector that is down at shutdown is not waited for.
                if (!await EnsureConnectedAsync(state, tls, cts.Token).ConfigureAwait(false))
                {
                    break;
                }

                var message = state.Replay ?? state.Pending;
                if (!await TrySendAsync(state, message, cts.Token).ConfigureAwait(false))
                {
                    break;
                }

                Release(state, message);
            }
        }
        catch (OperationCanceledException)
        {
            // Drain time is up.
        }

        var abandoned = state.Pending is null ? 0 : 1;
        while (_queue.Reader.TryRead(out _))
        {
            abandoned++;
        }

        for (var i = 0; i < abandoned; i++)
        {
            _queue.Stats.OnAbandoned();
        }

        if (abandoned > 0)
        {
            Log.AbandonedAtShutdown(_logger, abandoned);
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
            // Found dead between writes: the last message written on it may have been lost with it (the collector
            // closed before reading it), so it goes again first. This is the one duplicate a reconnect may cause.
            state.Replay ??= state.LastWritten;
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
        if (state.EverConnected)
        {
            Log.Reconnected(_logger, _options.Host!, _options.EffectivePort, state.Failures);
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
            // connection, so it goes again first: the single duplicate a reconnect may cause.
            state.Replay ??= state.LastWritten;
            state.LastWritten = null;
            var error = ex is OperationCanceledException ? $"write timed out after {_options.WriteTimeout.TotalSeconds:0.#} s" : ex.Message;
            await DropConnectionAsync(state, error).ConfigureAwait(false);
            return false;
        }
    }

    private void Release(SendState state, byte[]? message)
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

        state.Pending = null;
        _queue.Stats.OnSent();
    }

    private async Task DropConnectionAsync(SendState state, string why)
    {
        var now = _time.GetUtcNow();
        _queue.Stats.OnDisconnected();
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
        public byte[]? Pending;
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
            Message = "Reconnected to the syslog collector {Host}:{Port} after {Failures} failed attempts")]
        public static partial void Reconnected(ILogger logger, string host, int port, int failures);

        [LoggerMessage(EventId = 903, EventName = "syslog-abandoned", Level = LogLevel.Warning,
            Message = "{Count} queued syslog messages could not be sent before shutdown")]
        public static partial void AbandonedAtShutdown(ILogger logger, int count);

        [LoggerMessage(EventId = 904, EventName = "syslog-tls-failed", Level = LogLevel.Error,
            Message = "Syslog over TLS is disabled: {Error}")]
        public static partial void TlsMaterialFailed(ILogger logger, string error);
    }
}
