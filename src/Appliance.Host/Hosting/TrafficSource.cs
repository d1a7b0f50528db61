using Appliance.Core;
using Appliance.Management.Traffic;
using Appliance.Syslog;
using Appliance.Syslog.Events;
using Appliance.Transport;

namespace Appliance.Host.Hosting;

/// <summary>What the management API reads from the running engines, summed over pairs. Off the hot path.</summary>
internal sealed class TrafficSource(DataPlaneService planes, SyslogQueue syslog, Microsoft.Extensions.Options.IOptions<SyslogOptions> syslogOptions, TimeProvider time, LearnModeService? learn = null) : ITrafficSource
{
    public ProposalView? Proposal() => learn?.Proposal();

    public long SyslogQueueDropped => syslog.Stats.Dropped;

    public SyslogShippingStatus? Syslog => syslog.Enabled ? ToStatus(syslog.Stats, syslogOptions.Value.DegradedAfter, time.GetUtcNow()) : null;

    internal static SyslogShippingStatus ToStatus(SyslogStats s, TimeSpan grace, DateTimeOffset now) => new(
        s.Connected,
        s.Pending,
        s.SpoolRecords,
        s.SpoolBytes,
        s.OldestUndeliveredAge(now).TotalSeconds,
        s.Sent,
        [
            new("queue-full", s.DroppedBy(SyslogDropReason.QueueFull)),
            new("low-severity", s.DroppedBy(SyslogDropReason.LowSeverity)),
            new("spool-full", s.DroppedBy(SyslogDropReason.SpoolFull)),
            new("spool-error", s.DroppedBy(SyslogDropReason.SpoolError)),
            new("shutdown", s.DroppedBy(SyslogDropReason.Shutdown)),
        ],
        s.SpoolCorruptRegions,
        s.DeliveryProblem(now, grace));

    public IReadOnlyList<DataPlaneStatus> DataPlanes()
        => [.. planes.Pairs.Select(p => (Pair: p, Report: p.Plane.Report())).Select(x => new DataPlaneStatus(
            x.Report.Name,
            x.Report.Healthy,
            x.Report.Problem,
            x.Report.CaptureDrops,
            x.Pair.Engine.Flows.Count,
            x.Pair.Engine.Flows.Capacity,
            x.Pair.Engine.Events.Lost,
            Ports(x.Report),
            x.Pair.Engine.Flows.QuotaEvictions,
            x.Report.FastPath is { } f ? new FastPathStatus(f.Attached, f.Flows, f.Installed, f.InstallFailures, f.FramesForwarded, f.BytesForwarded) : null))];

    private static List<PortStatus> Ports(DataPlaneReport report)
    {
        var ports = new List<PortStatus>(2);
        foreach (var (side, port) in new[] { ("camera", report.Camera), ("uplink", report.Uplink) })
        {
            if (port is null)
            {
                continue;
            }

            var c = port.Counters;
            ports.Add(new PortStatus(
                port.Name,
                side,
                LinkName(port.Condition.Link),
                port.Condition.Mtu,
                port.Problem,
                [new("ENOBUFS", c.SendNoBuffers), new("EAGAIN", c.SendWouldBlock), new("ENETDOWN", c.SendNetworkDown), new("EMSGSIZE", c.SendTooLarge), new("other", c.SendOtherErrors)],
                c.SendRetried,
                port.Traffic.Truncated,
                port.Traffic.CaptureDrops,
                port.Traffic.InterfaceDrops));
        }

        return ports;
    }

    private static string LinkName(PortLinkState link) => link switch
    {
        PortLinkState.Up => "up",
        PortLinkState.AdminDown => "admin-down",
        PortLinkState.NoCarrier => "no-carrier",
        PortLinkState.Gone => "gone",
        _ => "unknown",
    };

    public CameraTotals Camera(int slot)
    {
        long fp = 0, fd = 0, bp = 0, bd = 0, last = 0, noDns = 0;
        foreach (var p in planes.Pairs)
        {
            var c = p.Engine.Counters.ForCamera(slot);
            fp += c.FramesPassed;
            fd += c.FramesDropped;
            bp += c.BytesPassed;
            bd += c.BytesDropped;
            last = Math.Max(last, c.LastSeenMs);
            noDns += c.NoDnsForPeer;
        }

        // The bridge's engine clock is Unix milliseconds.
        return new CameraTotals(fp, fd, bp, bd, last > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(last) : null, noDns);
    }

    public IReadOnlyList<KeyValuePair<Reason, long>> Reasons()
    {
        var list = new List<KeyValuePair<Reason, long>>();
        foreach (var reason in ReasonNames.All)
        {
            long total = 0;
            foreach (var p in planes.Pairs)
            {
                total += p.Engine.Counters.ForReason(reason);
            }

            if (total > 0)
            {
                list.Add(new(reason, total));
            }
        }

        return list;
    }

    public FlowPage Flows(int offset, int limit)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var all = new List<FlowView>();
        var policy = planes.Pairs.Count > 0 ? planes.Pairs[0].Engine.Policies : null;
        foreach (var p in planes.Pairs)
        {
            foreach (var f in p.Engine.Flows.Snapshot(now))
            {
                // The camera's side is the source of egress flows and the destination of ingress ones.
                var egress = f.Direction == Direction.Egress;
                var camera = f.CameraSlot >= 0 ? policy?.Slots.NameOf(f.CameraSlot) : null;
                all.Add(new FlowView(
                    p.Plane.Name,
                    camera,
                    ProtocolName(f.Protocol),
                    (egress ? f.CameraAddress : f.PeerAddress).ToString(),
                    egress ? f.CameraPort : f.PeerPort,
                    (egress ? f.PeerAddress : f.CameraAddress).ToString(),
                    egress ? f.PeerPort : f.CameraPort,
                    egress ? "egress" : "ingress",
                    f.State.ToString().ToLowerInvariant(),
                    f.PolicyVersion,
                    null,
                    f.CameraSlot >= 0 ? p.Engine.NameFor(f.CameraSlot, f.PeerAddress) : null));
            }
        }

        all.Sort(static (a, b) => (string.CompareOrdinal(a.Camera, b.Camera), string.CompareOrdinal(a.Source, b.Source), a.SourcePort.CompareTo(b.SourcePort)) switch
        {
            (not 0 and var c, _, _) => c,
            (_, not 0 and var c, _) => c,
            (_, _, var c) => c,
        });
        return new FlowPage(all.Count, [.. all.Skip(offset).Take(limit)]);
    }

    public IReadOnlyList<LearnedNameView> LearnedNames()
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var all = new List<LearnedNameView>();
        foreach (var p in planes.Pairs)
        {
            foreach (var n in p.Engine.DnsNames.Snapshot(now))
            {
                if (p.Engine.Policies.Slots.NameOf(n.CameraSlot) is { } camera)
                {
                    all.Add(new LearnedNameView(camera, n.Name, n.Address.ToString(), n.RemainingMs / 1000.0, n.AdmitsRemainingMs / 1000.0));
                }
            }
        }

        return all;
    }

    private static string ProtocolName(byte protocol) => protocol switch
    {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        58 => "icmpv6",
        _ => protocol.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The syslog reporter's recent security events, as the management API lists them.</summary>
internal sealed class SecurityEventFeed(SecurityEventLog log) : IEventFeed
{
    public long Total => log.Total;

    public IReadOnlyList<ReportedEvent> Recent(int max, long after = 0)
        => [.. log.Recent(max, null, after).Select(e => new ReportedEvent(e.Sequence, e.Time, e.Kind, e.Level.ToString(), e.Message, e.Fields))];
}
