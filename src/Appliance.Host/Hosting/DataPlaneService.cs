using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Syslog.Events;
using Appliance.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Hosting;

/// <summary>A running pair: its engine (flow table, counters, event ring) and its data plane.</summary>
internal sealed record RunningPair(BridgePairSettings Settings, PacketEngine Engine, IDataPlane Plane);

/// <summary>
/// Runs one data plane per configured pair, each with its own <see cref="PacketEngine"/> sharing the one
/// <see cref="PolicyHolder"/>. Fail closed: when a data plane dies (or its loop ends without being asked to), the
/// host stops and <c>camfw run</c> exits non-zero, so systemd restarts it; a dead data plane forwards nothing.
/// </summary>
internal sealed class DataPlaneService(
    PolicyHolder policies,
    IDataPlaneFactory factory,
    DropEventReporter reporter,
    IOptions<BridgeSettings> bridge,
    IOptions<EngineOptions> engine,
    IHostApplicationLifetime lifetime,
    ExitCodeHolder exitCode,
    IOptions<Appliance.Management.Policies.PolicyServiceOptions> policyOptions,
    ILogger<DataPlaneService> logger) : IHostedService, IAsyncDisposable
{
    private readonly List<RunningPair> _pairs = [];
    private volatile bool _stopping;

    /// <summary>The running pairs (empty before start).</summary>
    public IReadOnlyList<RunningPair> Pairs => _pairs;

    /// <summary>Every data plane forwards (runs, turns, and has its ports up).</summary>
    public bool AllHealthy => _pairs.Count > 0 && _pairs.TrueForAll(p => p.Plane.IsHealthy);

    /// <summary>
    /// Every data plane's loop runs and turns, though a port may be down. What the systemd watchdog is fed on: a
    /// restart cannot bring back a cable, and a down port is reported through health, metrics and the log.
    /// </summary>
    public bool AllTurning => _pairs.Count > 0 && _pairs.TrueForAll(p => !p.Plane.IsStalled && !p.Plane.Completion.IsCompleted);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var engineOptions = engine.Value;

        // Before any port opens: the first frames after a start must not meet cold code (issue 18).
        if (bridge.Value.Pairs.Count > 0)
        {
            var (elapsed, frames) = EngineWarmup.Run();
            HostLog.EngineWarmedUp(logger, frames, (long)elapsed.TotalMilliseconds);
        }

        var statePath = Path.Combine(policyOptions.Value.StateDirectory, DnsNameStateFile.FileName);
        var learned = DnsNameStateFile.Load(statePath, logger);
        foreach (var pair in bridge.Value.Pairs)
        {
            var packetEngine = new PacketEngine(policies, engineOptions);

            // Names learned before a restart, before the plane starts (the table's only writer until then).
            if (learned.TryGetValue(pair.EffectiveName, out var records))
            {
                HostLog.DnsNameStateLoaded(logger, pair.EffectiveName, DnsNameStateFile.Import(packetEngine, policies.Current, records, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), statePath);
            }

            IDataPlane plane;
            try
            {
                plane = factory.Create(new BridgePair(pair.EffectiveName, pair.CameraInterface, pair.UplinkInterface), packetEngine, logger);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new StartupException(ExitCodes.StartFailed, $"bridge pair {pair.EffectiveName} ({pair.CameraInterface} <-> {pair.UplinkInterface}) could not start: {e.Message}");
            }

            reporter.Attach(packetEngine.Events);
            var running = new RunningPair(pair, packetEngine, plane);
            _pairs.Add(running);
            plane.Start();
            HostLog.DataPlaneStarted(logger, plane.Name, pair.CameraInterface, pair.UplinkInterface);
            _ = SuperviseAsync(running);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Staged: every plane stops receiving, finishes the batch in hand, closes its ports.
        _stopping = true;
        foreach (var pair in _pairs)
        {
            await pair.Plane.StopAsync(cancellationToken).ConfigureAwait(false);
            HostLog.DataPlaneStopped(logger, pair.Plane.Name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pair in _pairs)
        {
            reporter.Detach(pair.Engine.Events);
            await pair.Plane.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task SuperviseAsync(RunningPair pair)
    {
        // A loop that died completes its task; a loop that is wedged (stuck in a driver, a livelock) does not, but
        // stops reporting healthy. Either way the process exits: under systemd the watchdog would kill it too, this
        // also covers running without one.
        Exception? fault = null;
        var unhealthyChecks = 0;
        try
        {
            while (!pair.Plane.Completion.IsCompleted)
            {
                await Task.WhenAny(pair.Plane.Completion, Task.Delay(HealthCheckInterval)).ConfigureAwait(false);
                if (_stopping)
                {
                    return;
                }

                // Only a loop that stopped turning is restarted; a plane waiting for its port to come back is
                // reported unhealthy but kept, since a restart would fail on the same down port.
                unhealthyChecks = !pair.Plane.IsStalled || pair.Plane.Completion.IsCompleted ? 0 : unhealthyChecks + 1;
                if (unhealthyChecks >= 2)
                {
                    HostLog.DataPlaneStalled(logger, pair.Plane.Name);
                    fault = new TimeoutException($"data plane {pair.Plane.Name} stopped turning");
                    break;
                }
            }

            if (fault is null)
            {
                await pair.Plane.Completion.ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            fault = e;
        }

        if (_stopping && fault is null)
        {
            return;
        }

        HostLog.DataPlaneFailed(logger, pair.Plane.Name, fault ?? pair.Plane.Fault);
        exitCode.Fail(ExitCodes.DataPlaneFailed);
        lifetime.StopApplication();
    }

    /// <summary>How often a running plane's health is checked.</summary>
    internal static TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
