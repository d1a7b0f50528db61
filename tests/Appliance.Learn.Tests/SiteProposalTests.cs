using System.Net;
using Appliance.Core;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.TestSupport.Frames;

namespace Appliance.Learn.Tests;

/// <summary>A proposal learned from the lab-like site (<see cref="LearnSite"/>), checked against the issue's rules.</summary>
public sealed class SiteProposalTests
{
    private static readonly Lazy<(LearnSnapshot Snapshot, Proposal Proposal, PolicySpec Spec)> Learned = new(() =>
    {
        var snapshot = LearnHarness.Learn(LearnSite.Capture(later: false).All);
        var proposal = ProposalBuilder.Build(snapshot, LearnHarness.Context());
        return (snapshot, proposal, LearnHarness.LoadOk(proposal.PolicySources));
    });

    private static Proposal P => Learned.Value.Proposal;

    private static PolicySpec Spec => Learned.Value.Spec;

    private static string File(string name) => P.Files.Single(f => f.Name == name).Text;

    private static CameraSpec Camera(MacAddress mac) => Spec.Cameras.Single(c => c.Mac == mac);

    [Fact]
    public void Build_SiteCapture_PassesThePolicyReaderWithThreeCameras()
    {
        var load = Appliance.Policy.PolicyLoader.Load(P.PolicySources);

        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        Assert.Equal(3, Spec.Cameras.Count);
        Assert.Contains(P.Files, f => f.Name == "site.yaml");
        Assert.Contains(P.Files, f => f.Name.StartsWith("profiles/", StringComparison.Ordinal));
        Assert.Equal(3, P.Files.Count(f => f.Name.StartsWith("cameras/", StringComparison.Ordinal)));
    }

    [Fact]
    public void Build_CameraInCurrentPolicy_KeepsItsName()
    {
        Assert.Equal("north-gate", Camera(LearnSite.Hik1).Name);
        Assert.Equal("cam-4447cc000012", Camera(LearnSite.Hik2).Name);
    }

    [Fact]
    public void Build_TwoHikvisionCamerasBehavingAlike_ShareOneVendorProfile()
    {
        var hik1 = Camera(LearnSite.Hik1);
        var hik2 = Camera(LearnSite.Hik2);

        var profile = Assert.Single(hik1.Profiles);
        Assert.Equal([profile], hik2.Profiles);
        Assert.StartsWith("hangzhou-hikvision", profile, StringComparison.Ordinal);
        Assert.Empty(Camera(LearnSite.Dahua).Profiles);
        Assert.Contains("Hangzhou Hikvision Digital Technology", File($"profiles/{profile}.yaml"), StringComparison.Ordinal);
        Assert.Equal(DiscoveryProtocols.WsDiscovery, hik1.Discovery);
    }

    [Fact]
    public void Build_SiteCapture_AllowsExactlyWhatTheSiteNeeds()
    {
        var hik = Rules(Camera(LearnSite.Hik1));
        Assert.Equal(
            [
                "egress udp 123 to 198.51.100.2",
                "egress udp 53 to 198.51.100.2",
                "ingress tcp 443 from 203.0.113.0/28",
                "ingress tcp 554 from 198.51.100.10",
            ],
            hik);
        var dahua = Camera(LearnSite.Dahua);
        Assert.Contains("egress tcp 445 to nas.site.example", Rules(dahua));
        Assert.Equal(5, dahua.Rules.Count);
    }

    [Fact]
    public void Build_AddressInNestedNetworks_NamesTheSmallestNetwork()
    {
        // As in the example site: the recorder is `nvr` and also part of `management: [nvr, admins]`, both holding it
        // as a /32. The rule must say `nvr`: `management` would let the admins' range pull the streams too.
        var files = LearnSite.PolicyFiles
            .Select(f => new PolicySource(f.Name, f.Name == "networks.yaml" ? f.Text + "\n  management: [nvr, admins]\n" : f.Text))
            .ToList();
        var context = LearnHarness.Context() with { Policy = LearnHarness.LoadOk(files) };

        var proposal = ProposalBuilder.Build(Learned.Value.Snapshot, context);
        var spec = LearnHarness.LoadOk(proposal.PolicySources);

        var hik = spec.Cameras.Single(c => c.Mac == LearnSite.Hik1);
        Assert.Contains("ingress tcp 554 from 198.51.100.10", Rules(hik));
        Assert.Contains("ingress tcp 443 from 203.0.113.0/28", Rules(hik));
        Assert.DoesNotContain(proposal.Files, f => f.Text.Contains("peer: management", StringComparison.Ordinal));
        Assert.Contains(proposal.Files, f => f.Text.Contains("peer: nvr", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_NetworkListingAnAddressTwice_CountedByWhatItAdmits()
    {
        // `recorders` lists the recorder inside its /30 and again on its own (as a network that includes `nvr` does):
        // it admits 4 addresses, not the 6 its prefixes add up to, so it is smaller than `nvrs`, which admits 5.
        var proposal = WithNetworks("""
            networks:
              dns-ntp: 198.51.100.2
              admins: [203.0.113.0/28]
              recorders: [198.51.100.8/30, 198.51.100.10, 198.51.100.11]
              nvrs: [198.51.100.10, 198.51.100.20/30]
            """);
        var spec = LearnHarness.LoadOk(proposal.PolicySources);

        Assert.Contains(proposal.Files, f => f.Text.Contains("peer: recorders", StringComparison.Ordinal));
        Assert.DoesNotContain(proposal.Files, f => f.Text.Contains("peer: nvrs", StringComparison.Ordinal));
        var stream = Assert.Single(spec.Cameras.Single(c => c.Mac == LearnSite.Hik1).Rules, r => r.Direction == Direction.Ingress && r.Ports.SequenceEqual([new PortRange(554, 554)]));
        Assert.Contains(stream.Peers, p => p.Contains(IPAddress.Parse(LearnSite.Nvr)));
        Assert.DoesNotContain(stream.Peers, p => p.Contains(IPAddress.Parse("198.51.100.21")));
    }

    [Fact]
    public void Build_AddressInTwoEqualNetworksThatDiffer_WritesTheAddressAndSaysWhy()
    {
        // Both hold the recorder and two addresses; `recorders-a` would admit .11, `recorders-b` .12, and the traffic
        // showed neither: only the recorder's own address is least privilege.
        var proposal = WithNetworks("""
            networks:
              dns-ntp: 198.51.100.2
              admins: [203.0.113.0/28]
              recorders-a: [198.51.100.10, 198.51.100.11]
              recorders-b: [198.51.100.10, 198.51.100.12]
            """);
        var spec = LearnHarness.LoadOk(proposal.PolicySources);

        Assert.Contains("ingress tcp 554 from 198.51.100.10", Rules(spec.Cameras.Single(c => c.Mac == LearnSite.Hik1)));
        Assert.DoesNotContain(proposal.Files, f => f.Text.Contains("peer: recorders", StringComparison.Ordinal));
        Assert.Contains(proposal.Files, f => f.Name.EndsWith(".yaml", StringComparison.Ordinal)
            && f.Text.Contains("# 198.51.100.10 is in recorders-a and recorders-b (2 addresses each, not the same ones): written as the address", StringComparison.Ordinal));
        Assert.Contains("198.51.100.10 is in recorders-a and recorders-b", proposal.Files.Single(f => f.Name == "REVIEW.md").Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AddressInTwoNetworksOfTheSameAddresses_NamesTheOrdinalFirst()
    {
        // `video: [recorders]` is another name for the same two addresses: naming it admits nothing more, so the name stays.
        var proposal = WithNetworks("""
            networks:
              dns-ntp: 198.51.100.2
              admins: [203.0.113.0/28]
              video: [recorders]
              recorders: [198.51.100.10, 198.51.100.11]
            """);

        Assert.Contains(proposal.Files, f => f.Text.Contains("peer: recorders", StringComparison.Ordinal));
        Assert.DoesNotContain(proposal.Files, f => f.Text.Contains("not the same ones", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_SeveralAddressesBehindOneName_BecomeOneNameRule()
    {
        var rule = Assert.Single(Camera(LearnSite.Dahua).Rules, r => r.Names.Count > 0);

        Assert.Equal(["nas.site.example"], rule.Names);
        Assert.Empty(rule.Peers);
        Assert.Equal([new PortRange(445, 445)], rule.Ports);
        var services = P.Outcomes.Where(o => o.Service.Port == 445).ToList();
        Assert.Equal(2, services.Count); // 10.1.0.30 and 10.1.0.31
        Assert.All(services, s => Assert.Equal(ServiceOutcome.Allowed, s.Outcome));
    }

    [Fact]
    public void Build_PhoneHome_ListedForADecisionWithItsNameNeverAllowed()
    {
        var text = File("cameras/north-gate.yaml");

        Assert.Contains("Needs a decision", text, StringComparison.Ordinal);
        Assert.Contains("203.0.113.50 (cloud.vendor.example) tcp 443", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Spec.Cameras.SelectMany(c => c.Rules), r => r.Peers.Any(p => p.Contains(IPAddress.Parse(LearnSite.Cloud))) || r.Names.Contains("cloud.vendor.example"));
        var outcome = Assert.Single(P.Outcomes, o => o.Service.Peer.Equals(IPAddress.Parse(LearnSite.Cloud)));
        Assert.Equal(ServiceOutcome.NeedsDecision, outcome.Outcome);
    }

    [Fact]
    public void Build_PublicResolverUsedDirectly_Flagged()
    {
        var text = File("cameras/cam-08eded000013.yaml");

        Assert.Contains("a public DNS resolver used directly: 203.0.113.53", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Spec.Cameras.SelectMany(c => c.Rules), r => r.Peers.Any(p => p.Contains(IPAddress.Parse(LearnSite.PublicResolver))));
    }

    [Fact]
    public void Build_ProbesAndUnansweredTries_NotLearnedButListed()
    {
        Assert.Equal(ServiceOutcome.InboundFromPublic, Single(Direction.Ingress, 80).Outcome);
        Assert.Equal(ServiceOutcome.BelowThreshold, Single(Direction.Ingress, 22).Outcome);
        Assert.Equal(ServiceOutcome.NeverCompleted, Single(Direction.Egress, 8000).Outcome);
        var text = File("cameras/cam-08eded000013.yaml");
        Assert.Contains("ingress tcp 22 from 203.0.113.5: below the threshold", text, StringComparison.Ordinal);
        Assert.Contains("egress tcp 8000 to 198.51.100.10: never completed a handshake; 1 attempt(s)", text, StringComparison.Ordinal);
        Assert.Contains("ingress tcp 80 from 198.51.100.66: opened from a public address; 6 attempt(s)", File("cameras/cam-4447cc000012.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DhcpCamera_BoundByMacWithDhcpOthersByMacAndIp()
    {
        var dahua = Camera(LearnSite.Dahua);
        Assert.True(dahua.AllowDhcp);
        Assert.Empty(dahua.Addresses);
        var hik = Camera(LearnSite.Hik1);
        Assert.False(hik.AllowDhcp);
        Assert.Equal([IPAddress.Parse(LearnSite.Hik1Ip)], hik.Addresses);
    }

    [Fact]
    public void Build_EachLearnedRule_HasACommentWithFirstLastSeenAndVolume()
    {
        var text = File("cameras/cam-08eded000013.yaml");
        var lines = text.Split('\n');
        var ids = lines.Select((l, i) => (l, i)).Where(x => x.l.TrimStart().StartsWith("- id: ", StringComparison.Ordinal)).ToList();

        Assert.Equal(5, ids.Count);
        foreach (var (_, i) in ids)
        {
            Assert.Matches(@"# learned: \d+ connection\(s\).*, [\d.]+ (B|KiB|MiB) in [\d,]+ packets; first seen 2026-11-20 \d\d:\d\d:\d\dZ, last seen 2026-11-20 \d\d:\d\d:\d\dZ", lines[i - 1]);
        }
    }

    [Fact]
    public void Build_WithCurrentPolicy_DiffNamesWhatChanges()
    {
        var current = LearnHarness.Context().Policy!;

        var diff = ProposalDiff.Between(current, Spec);

        Assert.Contains("+ camera cam-08eded000013", diff, StringComparison.Ordinal);
        Assert.Contains("~ camera north-gate", diff, StringComparison.Ordinal);
        Assert.Contains("+   ingress tcp 554 from 198.51.100.10", diff, StringComparison.Ordinal);
        Assert.DoesNotContain("-   egress udp 53", diff, StringComparison.Ordinal); // kept
    }

    [Fact]
    public void Apply_LaterCapture_LegitFlowsPassPhoneHomeProbesAndNewDrop()
    {
        var engine = LearnHarness.Enforcing(Spec);
        var failures = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var index = 0;
        foreach (var f in LearnSite.Capture(later: true).All)
        {
            var verdict = engine.ProcessFrame(f.Frame, f.Side, f.TimestampMicros / 1000);
            engine.Maintain(f.TimestampMicros / 1000);
            var pass = verdict.IsPass && !verdict.Monitored;
            counts[f.Label] = counts.GetValueOrDefault(f.Label) + 1;
            if (f.Label == "legit" ? !pass : pass)
            {
                failures.Add($"frame {index} ({f.Label}, {f.Side}): {(pass ? "passed" : "dropped")} {verdict.Reason}");
            }

            index++;
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var summary = string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"));
        Assert.True(counts["legit"] > 400 && counts["phone-home"] > 50 && counts["probe"] > 20 && counts["new"] > 10, summary);
    }

    /// <summary>The site capture's proposal under the site policy with <paramref name="networks"/> as its networks file.</summary>
    private static Proposal WithNetworks(string networks)
    {
        var files = LearnSite.PolicyFiles.Select(f => new PolicySource(f.Name, f.Name == "networks.yaml" ? networks : f.Text)).ToList();
        return ProposalBuilder.Build(Learned.Value.Snapshot, LearnHarness.Context() with { Policy = LearnHarness.LoadOk(files) });
    }

    private static (LearnedService Service, ServiceOutcome Outcome) Single(Direction direction, ushort port)
        => Assert.Single(P.Outcomes, o => o.Service.Direction == direction && o.Service.Port == port);

    private static List<string> Rules(CameraSpec camera)
        => [.. camera.Rules.Select(r => Appliance.Policy.PolicyFormatter.FormatRule(r with { Id = "x" }).Replace(" [x]", string.Empty, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
}
