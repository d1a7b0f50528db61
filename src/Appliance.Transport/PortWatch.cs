using Microsoft.Extensions.Logging;

namespace Appliance.Transport;

/// <summary>
/// Re-reads one port's counters and link on the data-plane thread (once per statistics interval) and publishes
/// them for readers on other threads; logs every change of link, MTU or offloads once, and losses at most once per
/// interval with the counts since the last line.
/// </summary>
internal sealed class PortWatch(IPacketPort port)
{
    private PortStatistics _previous;
    private string? _lastProblem;
    private Snapshot? _published;

    /// <summary>The port's counters as of the last refresh.</summary>
    public PortStatistics Statistics => Volatile.Read(ref _published)?.Statistics ?? default;

    /// <summary>The port's link as of the last refresh.</summary>
    public PortCondition Condition => Volatile.Read(ref _published)?.Condition ?? PortCondition.NoLink;

    /// <summary>Reads the port (owning thread only) and logs what changed.</summary>
    public void Refresh(ILogger logger, BridgeDataPlane.SideCounters counters)
    {
        var previous = _previous;
        var stats = port.GetStatistics();
        var condition = port.ReadCondition();
        if (stats.CaptureDrops + stats.InterfaceDrops > previous.CaptureDrops + previous.InterfaceDrops)
        {
            DataPlaneLog.CaptureDrops(logger, port.Name, stats.CaptureDrops, stats.InterfaceDrops);
        }

        if (stats.SendErrors > previous.SendErrors)
        {
            DataPlaneLog.SendErrors(
                logger,
                port.Name,
                stats.SendErrors - previous.SendErrors,
                stats.SendNoBuffers - previous.SendNoBuffers,
                stats.SendWouldBlock - previous.SendWouldBlock,
                stats.SendNetworkDown - previous.SendNetworkDown,
                stats.SendTooLarge - previous.SendTooLarge,
                stats.LastSendErrno,
                stats.SendRetried - previous.SendRetried);
        }

        if (stats.Truncated > previous.Truncated)
        {
            DataPlaneLog.Truncated(logger, port.Name, stats.Truncated - previous.Truncated, condition.Mtu);
        }

        var problem = condition.Problem(port.Name);
        if (!string.Equals(problem, _lastProblem, StringComparison.Ordinal))
        {
            if (problem is null)
            {
                DataPlaneLog.PortRecovered(logger, port.Name, condition.Link.ToString(), condition.Mtu);
            }
            else
            {
                DataPlaneLog.PortProblem(logger, port.Name, problem);
            }

            _lastProblem = problem;
        }

        _previous = stats;
        Volatile.Write(ref counters.CaptureDrops, stats.CaptureDrops);
        Volatile.Write(ref counters.InterfaceDrops, stats.InterfaceDrops);

        // One small allocation per port per interval (a second), off the per-frame path.
        Volatile.Write(ref _published, new Snapshot(stats, condition));
    }

    private sealed record Snapshot(PortStatistics Statistics, PortCondition Condition);
}
