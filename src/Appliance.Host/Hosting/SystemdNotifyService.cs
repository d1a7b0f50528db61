using Appliance.Management.Policies;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Host.Hosting;

/// <summary>
/// Tells systemd (<c>Type=notify</c>) when camfw is ready (after the policy is loaded, every data plane runs and
/// the API listens), feeds the watchdog at half of <c>WATCHDOG_USEC</c> only while everything is healthy (so a
/// wedged data plane gets the process killed and restarted), and says STOPPING=1 on shutdown.
/// </summary>
internal sealed class SystemdNotifyService(
    SystemdNotifier notifier,
    PolicyService policies,
    DataPlaneService planes,
    IHostApplicationLifetime lifetime,
    ILogger<SystemdNotifyService> logger,
    WatchdogSettings watchdog) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(OnStarted);
        lifetime.ApplicationStopping.Register(() => Send("STOPPING=1\n" + SystemdNotifier.Status("stopping")));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    public void Dispose() => _stop.Dispose();

    private void OnStarted()
    {
        var state = policies.Current;
        var pairs = string.Join(", ", planes.Pairs.Select(p => p.Plane.Name));
        HostLog.Ready(logger, state?.Version ?? 0, state?.Spec.Cameras.Count ?? 0, pairs);
        Send("READY=1\n" + SystemdNotifier.Status(StatusText()));
        if (watchdog.Interval is { } interval)
        {
            HostLog.Watchdog(logger, interval);
            _loop = WatchdogLoopAsync(interval, _stop.Token);
        }
    }

    private async Task WatchdogLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        var stalledReported = false;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (planes.AllTurning && policies.Current is not null)
                {
                    stalledReported = false;
                    Send("WATCHDOG=1\n" + SystemdNotifier.Status(StatusText()));
                }
                else if (!stalledReported)
                {
                    // Not feeding the watchdog is the point: systemd kills and restarts a camfw that cannot forward.
                    stalledReported = true;
                    foreach (var p in planes.Pairs.Where(p => p.Plane.IsStalled || p.Plane.Completion.IsCompleted))
                    {
                        HostLog.DataPlaneStalled(logger, p.Plane.Name);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string StatusText()
    {
        var state = policies.Current;
        var failure = policies.ActiveFailure is null ? "" : "; last policy change REJECTED";
        return state is null
            ? "no policy"
            : $"policy v{state.Version} ({state.Spec.Cameras.Count} cameras), {planes.Pairs.Count} pair(s){failure}";
    }

    private void Send(string state)
    {
        if (!notifier.Notify(state, out var error) && error is not null)
        {
            HostLog.NotifyFailed(logger, notifier.SocketName ?? "", error);
        }
    }
}

/// <summary>The watchdog interval (half of <c>WATCHDOG_USEC</c>), or null when systemd set no watchdog.</summary>
internal sealed record WatchdogSettings(TimeSpan? Interval)
{
    public static WatchdogSettings FromEnvironment()
        => new(SystemdNotifier.WatchdogInterval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId));
}
