using System.Diagnostics;
using Appliance.Core;
using Appliance.Core.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Transport;

/// <summary>
/// Forwards frames between the two ports of a bridge pair through the engine. One dedicated thread serves both
/// ports: it waits on both (poll(2) on their descriptors), takes a batch from each in turn, asks the engine about
/// every frame and sends passed frames out of the other port unchanged; dropped frames go nowhere. Between batches
/// it runs the engine's housekeeping.
/// <para>
/// Fail closed: if the engine or a port throws, the thread stops forwarding at once, closes both ports,
/// <see cref="IsHealthy"/> turns false and <see cref="Completion"/> faults with the exception, so the host can exit
/// non-zero and its supervisor restart it. Nothing is forwarded without a verdict.
/// </para>
/// The data plane owns both ports and disposes them when it stops.
/// </summary>
public sealed partial class BridgeDataPlane : IDataPlane, IDisposable
{
    private readonly IPacketPort _camera;
    private readonly IPacketPort _uplink;
    private readonly Pump _pump;
    private readonly ILogger _logger;
    private readonly BridgeOptions _options;
    private readonly Func<long> _clock;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SideCounters _cameraCounters = new();
    private readonly SideCounters _uplinkCounters = new();
    private readonly StagedStop _stop = new();
    private Thread? _thread;
    private volatile bool _running;
    private long _lastTurnTicks;
    private int _portsClosed;
    private PortWatch? _cameraWatch;
    private PortWatch? _uplinkWatch;

    private BridgeDataPlane(IPacketPort camera, IPacketPort uplink, Pump pump, ILogger? logger, BridgeOptions? options)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(uplink);
        if (ReferenceEquals(camera, uplink))
        {
            throw new ArgumentException("The camera and uplink ports must be two different ports.", nameof(uplink));
        }

        _options = options ?? new BridgeOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.BatchSize, 1, nameof(options));
        _camera = camera;
        _uplink = uplink;
        _pump = pump;
        _logger = logger ?? NullLogger.Instance;
        _clock = _options.ClockMs ?? EngineClock.CreateMonotonic();
        Name = _options.Name ?? $"{camera.Name}-{uplink.Name}";
    }

    /// <summary>
    /// A bridge between <paramref name="camera"/> and <paramref name="uplink"/> deciding with <paramref name="engine"/>.
    /// The engine must be this bridge's alone (its flow table and counters belong to the data-plane thread).
    /// </summary>
    /// <param name="camera">The port facing the camera switch; owned (disposed) by the bridge.</param>
    /// <param name="uplink">The port facing the rest of the network; owned by the bridge.</param>
    /// <param name="engine">The engine deciding every frame.</param>
    /// <param name="logger">Start, stop, fault and capture-drop events.</param>
    /// <param name="options">Tuning; defaults suit a 1-10 GbE port pair.</param>
    public BridgeDataPlane(IPacketPort camera, IPacketPort uplink, PacketEngine engine, ILogger? logger = null, BridgeOptions? options = null)
        : this(camera, uplink, new Pump<PacketEngineDecider>(camera, uplink, new PacketEngineDecider(engine)), logger, options)
    {
    }

    /// <summary>A bridge between <paramref name="camera"/> and <paramref name="uplink"/> deciding with <paramref name="decider"/>.</summary>
    /// <typeparam name="TDecider">A struct for a specialised loop (a class works, with one interface call per frame).</typeparam>
    public static BridgeDataPlane Create<TDecider>(IPacketPort camera, IPacketPort uplink, TDecider decider, ILogger? logger = null, BridgeOptions? options = null)
        where TDecider : IFrameDecider
    {
        ArgumentNullException.ThrowIfNull(decider);
        return new BridgeDataPlane(camera, uplink, new Pump<TDecider>(camera, uplink, decider), logger, options);
    }

    /// <summary>The pair's name, e.g. <c>eth1-eth2</c>.</summary>
    public string Name { get; }

    /// <summary>Completes when the loop ends: successfully after <see cref="StopAsync"/>, faulted with the cause otherwise.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// True while the loop runs, has not faulted, has turned within <see cref="BridgeOptions.StallTimeout"/> and both
    /// ports are up. False before <see cref="Start"/> and after it stops: a bridge that is not forwarding is not
    /// healthy. Port conditions are re-read every <see cref="BridgeOptions.StatisticsInterval"/>, so a port that
    /// goes down turns this false within that interval (which must be shorter than the stall timeout).
    /// </summary>
    public bool IsHealthy => _running && !IsStalled && PortsUsable;

    /// <inheritdoc />
    public bool IsStalled => _running && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastTurnTicks)) >= _options.StallTimeout;

    private bool PortsUsable => (_cameraWatch?.Condition.IsUsable ?? true) && (_uplinkWatch?.Condition.IsUsable ?? true);

    /// <summary>The fault that stopped the loop, or null.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Frames that arrived from the camera side and what became of them.</summary>
    public BridgeSideStatistics CameraSide => _cameraCounters.Snapshot();

    /// <summary>Frames that arrived from the uplink side and what became of them.</summary>
    public BridgeSideStatistics UplinkSide => _uplinkCounters.Snapshot();

    /// <inheritdoc />
    public DataPlaneReport Report()
    {
        var camera = Describe(_camera, _cameraWatch, _cameraCounters);
        var uplink = Describe(_uplink, _uplinkWatch, _uplinkCounters);
        var healthy = IsHealthy;
        var problem = Fault?.Message
            ?? (IsStalled ? $"data plane {Name} stopped turning" : null)
            ?? camera.Problem
            ?? uplink.Problem
            ?? (!healthy ? "not forwarding" : null);
        return new DataPlaneReport(Name, healthy, problem, camera, uplink);
    }

    private static PortReport Describe(IPacketPort port, PortWatch? watch, SideCounters counters)
        => new(port.Name, counters.Snapshot(), watch?.Statistics ?? default, watch?.Condition ?? PortCondition.NoLink);

    /// <summary>Starts the data-plane thread. Once only.</summary>
    public void Start() => _stop.Start(Name, () =>
    {
        Volatile.Write(ref _lastTurnTicks, Stopwatch.GetTimestamp());

        // Read the links once before the first frame, so health is right from the start.
        _cameraWatch = new PortWatch(_camera);
        _uplinkWatch = new PortWatch(_uplink);
        _cameraWatch.Refresh(_logger, _cameraCounters);
        _uplinkWatch.Refresh(_logger, _uplinkCounters);
        _running = true;
        _thread = new Thread(Run)
        {
            IsBackground = true,
            Name = $"camfw-dp-{Name}",
        };
        _thread.Start();
    });

    /// <summary>
    /// Staged shutdown: 1. the ports stop delivering new frames, 2. the loop finishes the batch in hand (every frame
    /// received is decided and, if passed, sent), 3. both ports are closed. Does not throw for an earlier fault; read
    /// <see cref="Completion"/> or <see cref="Fault"/> for that.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _stop.StopAsync(
        static () =>
        {
            // No gate to close: a bridge forwards only what its own loop sends, and the loop stops at its next turn.
        },
        started =>
        {
            _camera.StopReceiving();
            _uplink.StopReceiving();
            if (!started)
            {
                ClosePorts();
                _completion.TrySetResult();
            }
        },
        () => _completion.Task,
        cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public void Dispose()
    {
        _ = _stop.RequestStop();
        _camera.StopReceiving();
        _uplink.StopReceiving();
        var thread = _thread;
        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        ClosePorts();
        _completion.TrySetResult();
    }

    private void Run()
    {
        DataPlaneLog.Started(_logger, Name, _camera.Name, _uplink.Name);
        try
        {
            // Before the first frame: a plane asked to run on given CPUs never forwards from another one (the exception
            // faults it, fail closed).
            if (_options.Cpus is { } cpus)
            {
                cpus.PinCurrentThread();
                DataPlaneLog.Pinned(_logger, Name, cpus.ToString());
            }

            Loop();
            _running = false;
            ClosePorts();
            DataPlaneLog.Stopped(_logger, Name, _cameraCounters.Total.Passed, _cameraCounters.Total.Dropped, _uplinkCounters.Total.Passed, _uplinkCounters.Total.Dropped);
            _completion.TrySetResult();
        }
        catch (Exception ex)
        {
            // Fail closed: 1. stop reporting healthy, 2. close both ports so nothing more is read or sent,
            // 3. then tell the host, which exits non-zero.
            _running = false;
            Fault = ex;
            ClosePorts();
            DataPlaneLog.Faulted(_logger, ex, Name);
            _completion.TrySetException(ex);
        }
    }

    private void Loop()
    {
        Span<Posix.PollFd> fds = stackalloc Posix.PollFd[2];
        var camFd = _camera.SelectableFd;
        var upFd = _uplink.SelectableFd;
        var canPoll = camFd >= 0 && upFd >= 0;
        fds[0].Fd = camFd;
        fds[0].Events = Posix.PollIn;
        fds[1].Fd = upFd;
        fds[1].Events = Posix.PollIn;
        var batchSize = _options.BatchSize;
        var idleWaitMs = Math.Max(1, (int)_options.IdleWait.TotalMilliseconds);
        var statsEvery = Stopwatch.Frequency * _options.StatisticsInterval.Ticks / TimeSpan.TicksPerSecond;
        var nextStats = Stopwatch.GetTimestamp() + statsEvery;
        var idleRounds = 0;
        var lastMaintainMs = long.MinValue;

        while (!_stop.StopRequested)
        {
            var now = _clock();
            var handled = _pump.Round(now, batchSize, _cameraCounters, _uplinkCounters);

            // Housekeeping at most once per engine millisecond: each call sweeps a fixed slice of the flow table
            // (microseconds), which at low traffic would otherwise be paid once per frame. A thousand slices a
            // second still sweep the default table several times a second.
            if (now != lastMaintainMs)
            {
                _pump.Maintain(now);
                lastMaintainMs = now;
            }

            var ticks = Stopwatch.GetTimestamp();
            Volatile.Write(ref _lastTurnTicks, ticks);
            if (ticks >= nextStats)
            {
                nextStats = ticks + statsEvery;
                RefreshCaptureStatistics();
            }

            if (handled > 0)
            {
                idleRounds = 0;
                continue;
            }

            if (_camera.IsCompleted && _uplink.IsCompleted)
            {
                break;
            }

            if (canPoll)
            {
                fds[0].Revents = 0;
                fds[1].Revents = 0;
                Posix.Poll(fds, idleWaitMs);
            }
            else if (++idleRounds < 64)
            {
                Thread.Yield();
            }
            else
            {
                Thread.Sleep(1);
            }
        }

        // Stage 2 (drain) is implicit: Round() returns only after every frame it received was decided and sent.
        RefreshCaptureStatistics();
    }

    private void RefreshCaptureStatistics()
    {
        _cameraWatch?.Refresh(_logger, _cameraCounters);
        _uplinkWatch?.Refresh(_logger, _uplinkCounters);
    }

    private void ClosePorts()
    {
        if (Interlocked.Exchange(ref _portsClosed, 1) != 0)
        {
            return;
        }

        _camera.StopReceiving();
        _uplink.StopReceiving();
        try
        {
            _camera.Dispose();
        }
        finally
        {
            _uplink.Dispose();
        }
    }

    /// <summary>Counters of one side. Written only by the data-plane thread; read by anyone with volatile reads.</summary>
    internal sealed class SideCounters
    {
        /// <summary>Sums of every batch so far.</summary>
        public ForwardCounts Total;
        public long CaptureDrops;
        public long InterfaceDrops;

        public BridgeSideStatistics Snapshot() => new()
        {
            FramesReceived = Volatile.Read(ref Total.Received),
            BytesReceived = Volatile.Read(ref Total.ReceivedBytes),
            FramesPassed = Volatile.Read(ref Total.Passed),
            FramesDropped = Volatile.Read(ref Total.Dropped),
            FramesForwarded = Volatile.Read(ref Total.Forwarded),
            BytesForwarded = Volatile.Read(ref Total.ForwardedBytes),
            SendErrors = Volatile.Read(ref Total.SendErrors),
            Truncated = Volatile.Read(ref Total.Truncated),
            CaptureDrops = Volatile.Read(ref CaptureDrops),
            InterfaceDrops = Volatile.Read(ref InterfaceDrops),
        };

        public void Add(in ForwardCounts c)
        {
            Volatile.Write(ref Total.Received, Total.Received + c.Received);
            Volatile.Write(ref Total.ReceivedBytes, Total.ReceivedBytes + c.ReceivedBytes);
            Volatile.Write(ref Total.Passed, Total.Passed + c.Passed);
            Volatile.Write(ref Total.Dropped, Total.Dropped + c.Dropped);
            Volatile.Write(ref Total.Forwarded, Total.Forwarded + c.Forwarded);
            Volatile.Write(ref Total.ForwardedBytes, Total.ForwardedBytes + c.ForwardedBytes);
            Volatile.Write(ref Total.SendErrors, Total.SendErrors + c.SendErrors);
            Volatile.Write(ref Total.Truncated, Total.Truncated + c.Truncated);
        }
    }

    /// <summary>Counts of one batch, kept in the handler (on the stack) and added to <see cref="SideCounters"/> once per batch; also the shape of its totals.</summary>
    internal struct ForwardCounts
    {
        public long Received;
        public long ReceivedBytes;
        public long Passed;
        public long Dropped;
        public long Forwarded;
        public long ForwardedBytes;
        public long SendErrors;
        public long Truncated;
    }

    /// <summary>The loop body, specialised per decider type by <see cref="Pump{TDecider}"/>.</summary>
    private abstract class Pump
    {
        public abstract int Round(long nowMs, int batchSize, SideCounters camera, SideCounters uplink);

        public abstract void Maintain(long nowMs);
    }

    private sealed class Pump<TDecider>(IPacketPort camera, IPacketPort uplink, TDecider decider) : Pump
        where TDecider : IFrameDecider
    {
        private readonly TDecider _decider = decider;

        public override int Round(long nowMs, int batchSize, SideCounters cameraCounters, SideCounters uplinkCounters)
        {
            var fromCamera = new ForwardHandler<TDecider>(_decider, uplink, Side.Camera, nowMs);
            var n = camera.Receive(ref fromCamera, batchSize);
            if (n > 0)
            {
                cameraCounters.Add(fromCamera.Counts);
            }

            var fromUplink = new ForwardHandler<TDecider>(_decider, camera, Side.Uplink, nowMs);
            var m = uplink.Receive(ref fromUplink, batchSize);
            if (m > 0)
            {
                uplinkCounters.Add(fromUplink.Counts);
            }

            return n + m;
        }

        public override void Maintain(long nowMs) => _decider.Maintain(nowMs);
    }

    /// <summary>The per-frame step: decide, then forward or drop. Lives on the stack for one batch.</summary>
    private struct ForwardHandler<TDecider>(TDecider decider, IPacketPort output, Side side, long nowMs) : IFrameHandler
        where TDecider : IFrameDecider
    {
        private readonly TDecider _decider = decider;
        public ForwardCounts Counts;

        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata)
        {
            Counts.Received++;
            Counts.ReceivedBytes += metadata.WireLength;
            if (frame.Length < metadata.WireLength)
            {
                // A cut frame must not leave shortened; nor may the engine judge headers it cannot fully see.
                Counts.Truncated++;
                Counts.Dropped++;
                return;
            }

            var verdict = _decider.ProcessFrame(frame, side, nowMs);
            if (!verdict.IsPass)
            {
                Counts.Dropped++;
                return;
            }

            Counts.Passed++;

            // One interface call per passed frame; the send behind it is a system call that costs a hundred times more.
            if (output.TrySend(frame))
            {
                Counts.Forwarded++;
                Counts.ForwardedBytes += frame.Length;
            }
            else
            {
                Counts.SendErrors++;
            }
        }
    }
}
