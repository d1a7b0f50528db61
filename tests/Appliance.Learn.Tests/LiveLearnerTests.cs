using System.Net;
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
        Assert.Contains("volume not measured (learned from the flow table)", proposal.Files.Single(f => f.Name == "cameras/north-gate.yaml").Text, StringComparison.Ordinal);
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
