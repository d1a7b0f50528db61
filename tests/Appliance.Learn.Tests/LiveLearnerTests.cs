using System.Net;
using Appliance.Core;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.TestSupport.Frames;

namespace Appliance.Learn.Tests;

/// <summary>Learn mode on a running engine: the flow table sampled off the data path feeds the same proposal.</summary>
public sealed class LiveLearnerTests
{
    private const string Policy = """
        networks:
          nvr: 198.51.100.10
          dns-ntp: 198.51.100.2
          admins: [203.0.113.0/28]
        cameras:
          north-gate: { mac: "44:47:cc:00:00:11", ip: 192.0.2.11, mode: learn }
          south-gate: { mac: "44:47:cc:00:00:12", ip: 192.0.2.12, mode: learn }
          lobby: { mac: "08:ed:ed:00:00:13", mode: monitor }
        """;

    [Fact]
    public void Sample_LearnModeCameras_ProposalAllowsWhatTheyDidAndNothingPublic()
    {
        var spec = LearnHarness.LoadOk([new PolicySource("site.yaml", Policy)]);
        Assert.Equal(CameraMode.Learn, spec.Cameras[0].Mode);
        var engine = LearnHarness.Enforcing(spec);
        var options = new LearnOptions { MinDurationMsForOneConnection = 500 };
        var live = new LiveLearner(options);
        var frames = LearnSite.Capture(later: false).All;
        var dropped = 0;
        for (var i = 0; i < frames.Count; i++)
        {
            var now = frames[i].TimestampMicros / 1000;
            var verdict = engine.ProcessFrame(frames[i].Frame, frames[i].Side, now);
            dropped += verdict.IsPass ? 0 : 1;
            engine.Maintain(now);
            if (i % 10 == 0)
            {
                live.Sample(engine, now);
            }
        }

        var snapshot = live.Snapshot();
        var proposal = ProposalBuilder.Build(snapshot, new ProposalContext { Policy = spec, Options = options });
        var proposed = LearnHarness.LoadOk(proposal.PolicySources);

        Assert.Equal(0, dropped); // learn mode drops nothing enforce would pass (nor anything else, like monitor)
        Assert.Equal(["north-gate", "south-gate"], proposed.Cameras.Select(c => c.Name).Order(StringComparer.Ordinal));
        var rules = proposed.Cameras.Single(c => c.Name == "north-gate").Rules
            .Select(r => PolicyFormatter.FormatRule(r with { Id = "x" }).Replace(" [x]", string.Empty, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(
            [
                "egress udp 123 to 198.51.100.2",
                "egress udp 53 to 198.51.100.2",
                "ingress tcp 443 from 203.0.113.0/28",
                "ingress tcp 554 from 198.51.100.10",
            ],
            rules);
        Assert.DoesNotContain(proposed.Cameras.SelectMany(c => c.Rules), r => r.Peers.Any(p => p.Contains(IPAddress.Parse(LearnSite.Cloud))));
        var phoneHome = Assert.Single(proposal.Outcomes, o => o.Service.Peer.Equals(IPAddress.Parse(LearnSite.Cloud)));
        Assert.Equal(ServiceOutcome.NeedsDecision, phoneHome.Outcome);
        Assert.Equal(6, phoneHome.Service.Connections);
        Assert.Equal(ServiceOutcome.InboundFromPublic, Assert.Single(proposal.Outcomes, o => o.Service.Port == 80).Outcome);
        Assert.DoesNotContain("volume not measured", proposal.Files.Single(f => f.Name == "cameras/north-gate.yaml").Text, StringComparison.Ordinal);
        Assert.True(snapshot.Services.Single(s => s.Port == 554 && s.Device.Mac == LearnSite.Hik1).Packets > 60); // the stream's volume, from the engine
    }

    [Fact]
    public void Drain_NoSamplingAtAll_EveryShortConnectionLearnedWithVolume()
    {
        var spec = LearnHarness.LoadOk([new PolicySource("site.yaml", Policy)]);
        var traffic = LearnSite.Capture(later: false).All;

        var snapshot = LearnHarness.LearnLive(traffic, spec);

        // The admin's HTTPS sessions last milliseconds: a 2 s sample of the table could miss them; the notes cannot.
        var admin = snapshot.Services.Single(s => s.Device.Mac == LearnSite.Hik1 && s.Port == 443 && s.Direction == Direction.Ingress);
        Assert.Equal(3, admin.Connections);
        var frames = traffic.Where(f => f.Frame.Length > 0 && IsIngressBetween(f, LearnSite.Hik1Ip, LearnSite.Admin, 443)).ToList();
        Assert.Equal(frames.Count, admin.Packets);
        Assert.Equal(frames.Sum(f => (long)f.Frame.Length), admin.Bytes);
        var proposal = ProposalBuilder.Build(snapshot, new ProposalContext { Policy = spec });
        Assert.Contains(proposal.Outcomes, o => o.Service == admin && o.Outcome == ServiceOutcome.Allowed);
    }

    [Fact]
    public void Drain_SiteInLearnMode_UnlistedCameraSideDeviceIsProposed()
    {
        // Only north-gate is listed; the site learns, so the other two cameras are noted as devices.
        var spec = LearnHarness.LoadOk([new PolicySource("site.yaml", """
            site: { mode: learn, unknown_devices: monitor }
            cameras:
              north-gate: { mac: "44:47:cc:00:00:11", ip: 192.0.2.11 }
            """)]);

        var snapshot = LearnHarness.LearnLive(LearnSite.Capture(later: false).All, spec);
        var proposal = ProposalBuilder.Build(snapshot, new ProposalContext { Policy = spec });

        Assert.Equal(new[] { LearnSite.Dahua, LearnSite.Hik1, LearnSite.Hik2 }.OrderBy(m => m.Value), snapshot.Devices.Select(d => d.Key.Mac).OrderBy(m => m.Value));
        Assert.Contains(proposal.Files, f => f.Name == "cameras/north-gate.yaml");
        Assert.Contains(proposal.Files, f => f.Name == "cameras/cam-4447cc000012.yaml" && f.Text.Contains("192.0.2.12", StringComparison.Ordinal));
    }

    [Fact]
    public void Restore_SummaryFromBefore_LearningContinuesFromIt()
    {
        var spec = LearnHarness.LoadOk([new PolicySource("site.yaml", Policy)]);
        var before = LearnHarness.LearnLive(LearnSite.Capture(later: false).All, spec);
        var live = new LiveLearner();

        live.Restore(before);
        var engine = LearnHarness.Enforcing(spec);
        foreach (var f in LearnSite.Capture(later: true).All)
        {
            engine.ProcessFrame(f.Frame, f.Side, f.TimestampMicros / 1000);
        }

        engine.Maintain(long.MaxValue / 2);
        while (engine.Flows.Count > 0)
        {
            engine.Maintain(long.MaxValue / 2);
        }

        live.Drain(engine);
        var after = live.Snapshot();

        var rtsp = after.Services.Single(s => s.Device.Mac == LearnSite.Hik1 && s.Port == 554);
        Assert.Equal(before.Services.Single(s => s.Device.Mac == LearnSite.Hik1 && s.Port == 554).Connections + 1, rtsp.Connections);
        Assert.Contains(after.Services, s => s.Device.Mac == LearnSite.Hik1 && s.Port == 21); // the later capture's new service
    }

    [Fact]
    public void Fold_DeviceAtItsServiceShare_EvictsNeverCompletedServicesNotLearnedOnes()
    {
        var learner = new TrafficLearner(new LearnOptions { MaxServicesPerDevice = 16 });
        var device = new DeviceKey(LearnSite.Hik1, default);
        var camera = IpAddr.FromIPAddress(IPAddress.Parse(LearnSite.Hik1Ip));
        learner.NoteDevice(device, camera, 0, dhcp: false, DiscoveryProtocols.None);
        var nvr = IpAddr.FromIPAddress(IPAddress.Parse(LearnSite.Nvr));

        // 4 learned services (completed), then 40 probes of other ports that never completed, then 4 more learned.
        for (ushort p = 1; p <= 4; p++)
        {
            learner.ObserveFlow(device, Direction.Egress, 6, camera, 40000, nvr, p, completed: true, 1000 * p, 1000 * p + 10, 30, 3000, closed: true);
        }

        for (ushort p = 100; p < 140; p++)
        {
            learner.ObserveFlow(device, Direction.Egress, 6, camera, 40000, nvr, p, completed: false, 10_000 + p, 10_000 + p, 1, 60, closed: true);
        }

        for (ushort p = 5; p <= 8; p++)
        {
            learner.ObserveFlow(device, Direction.Egress, 6, camera, 40000, nvr, p, completed: true, 20_000 + p, 20_000 + p + 10, 30, 3000, closed: true);
        }

        var snapshot = learner.Snapshot();
        var learned = snapshot.Services.Where(s => s.Connections > 0).Select(s => (int)s.Port).Order();
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], learned);
        Assert.True(snapshot.Services.Count <= 16);
        Assert.True(snapshot.Counters.ServicesEvicted > 0);
        Assert.True(snapshot.Counters.ServicesNotKept > 0); // probes beyond the share, with nothing to evict, were counted
    }

    private static bool IsIngressBetween(CapturedFrame f, string camera, string peer, ushort port)
    {
        if (!Appliance.Core.Wire.FrameParser.ParseEthernet(f.Frame, out var info) || info.Protocol != 6)
        {
            return false;
        }

        var cam = IpAddr.FromIPAddress(IPAddress.Parse(camera));
        var other = IpAddr.FromIPAddress(IPAddress.Parse(peer));
        // Ingress: the port is the camera's.
        return (info.Source == cam && info.Destination == other && info.SourcePort == port)
            || (info.Source == other && info.Destination == cam && info.DestinationPort == port);
    }

    [Fact]
    public void Sample_NoCameraInLearnMode_LearnsNothing()
    {
        var spec = LearnHarness.LoadOk([new PolicySource("site.yaml", Policy.Replace("mode: learn", "mode: monitor", StringComparison.Ordinal))]);
        var engine = LearnHarness.Enforcing(spec);
        var live = new LiveLearner();
        var learned = 0;
        foreach (var f in LearnSite.Capture(later: false).All)
        {
            engine.ProcessFrame(f.Frame, f.Side, f.TimestampMicros / 1000);
            learned += live.Sample(engine, f.TimestampMicros / 1000);
        }

        Assert.True(engine.Flows.Snapshot(LearnSite.Capture(false).All[^1].TimestampMicros / 1000).Count > 0);
        Assert.Equal(0, learned);
        Assert.Empty(live.Snapshot().Devices);
    }
}
