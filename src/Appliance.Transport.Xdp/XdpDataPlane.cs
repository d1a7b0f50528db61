using Microsoft.Extensions.Logging;

namespace Appliance.Transport.Xdp;

/// <summary>
/// A bridge data plane with the XDP fast path: the user-space bridge as before plus the attached programs, which
/// live exactly as long as the bridge forwards. When the bridge's loop ends (stopped, or faulted: fail closed)
/// the programs are detached at once, so the kernel never forwards for a bridge that no longer decides.
/// </summary>
internal sealed class XdpDataPlane : IDataPlane
{
    private readonly BridgeDataPlane _bridge;
    private readonly XdpFlowOffload _offload;
    private readonly ILogger _logger;
    private int _detached;

    public XdpDataPlane(BridgeDataPlane bridge, XdpFlowOffload offload, ILogger logger)
    {
        _bridge = bridge;
        _offload = offload;
        _logger = logger;

        // Whatever ends the loop ends the fast path, before anyone awaits the completion (the maps stay for the last
        // count until Stop or Dispose).
        _ = bridge.Completion.ContinueWith(_ => offload.DetachPrograms(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public string Name => _bridge.Name;

    public Task Completion => _bridge.Completion;

    public bool IsHealthy => _bridge.IsHealthy && _offload.IsAttached;

    public bool IsStalled => _bridge.IsStalled;

    public Exception? Fault => _bridge.Fault;

    /// <summary>The fast path (for tests and diagnostics).</summary>
    public XdpFlowOffload Offload => _offload;

    public DataPlaneReport Report()
    {
        var report = _bridge.Report() with
        {
            FastPath = new FastPathReport(_offload.IsAttached, _offload.Entries, _offload.Installed, _offload.InstallFailures, _offload.FramesForwarded, _offload.BytesForwarded),
        };
        return _offload.IsAttached || !report.Healthy ? report : report with { Healthy = false, Problem = "XDP fast path detached" };
    }

    public void Start() => _bridge.Start();

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The kernel stops forwarding first, then the user-space bridge drains and closes its ports, then what the
        // kernel forwarded since the last sweep is counted (the data-plane thread has ended: no one else sweeps).
        _offload.DetachPrograms();
        await _bridge.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_bridge.Completion.IsCompletedSuccessfully)
        {
            _offload.SweepFinal();
        }

        Detach();
    }

    public async ValueTask DisposeAsync()
    {
        Detach();
        await _bridge.DisposeAsync().ConfigureAwait(false);
    }

    private void Detach()
    {
        if (Interlocked.Exchange(ref _detached, 1) != 0)
        {
            return;
        }

        _offload.Dispose();
        XdpLog.Detached(_logger, _bridge.Name, _offload.Installed, _offload.FramesForwarded);
    }
}
