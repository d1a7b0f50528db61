using System.Net;
using Appliance.Core;
using Appliance.Policy;
using Appliance.TestSupport.Frames;
using FsCheck;
using FsCheck.Fluent;
using YamlDotNet.RepresentationModel;

namespace Appliance.Learn.Tests;

/// <summary>
/// Properties over random site traffic and random named networks in <c>--policy</c> (nested, overlapping): whatever
/// the cameras did, the proposal admits no connection the learned traffic did not contain as a completed connection
/// to a non-public peer, except through a named network holding such a peer, and then through the least one; and
/// learning the same traffic twice writes the same files.
/// </summary>
public sealed class ProposalPropertyTests
{
    // CAMFW_FUZZ_SCALE multiplies the case counts for a long soak, as in the core's property tests.
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("CAMFW_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;

    private static readonly MacAddress[] Cameras = [LearnSite.Hik1, LearnSite.Hik2, LearnSite.Dahua];
    private static readonly string[] CameraIps = [LearnSite.Hik1Ip, LearnSite.Hik2Ip, LearnSite.DahuaIp];

    // Half the peers lie in 10.0.0.0/28, where the generated named networks are, so that most learned peers have
    // several names to choose from.
    private static readonly string[] Peers =
        ["198.51.100.2", "198.51.100.10", "10.0.0.5", "203.0.113.5", "203.0.113.50", "198.51.100.66", "10.0.0.1", "10.0.0.2", "10.0.0.9", "10.0.0.12"];

    private static readonly ushort[] Ports = [22, 53, 80, 123, 443, 554];
    private static readonly IPNetwork[] Site = [IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("198.51.100.0/26")];

    /// <summary>Every address a generated named network can hold: 10.0.0.0/28.</summary>
    private static readonly string[] NamedSpace = [.. Enumerable.Range(0, 16).Select(i => $"10.0.0.{i}")];

    // Shuffled before use, so an including network is as often ordinally before what it includes as after it (the
    // old tie rule favoured the ordinal first name).
    private static readonly string[] NetworkNames = ["admins", "cams", "lab", "management", "nvr", "ops", "recorders"];

    /// <summary>One connection kind a camera took part in: who, which way, protocol, port, peer, answered, how often, how long.</summary>
    public sealed record Flow(int Camera, bool Egress, bool Tcp, int Port, int Peer, bool Answered, int Times, int Data);

    /// <summary>
    /// One named network of the generated <c>--policy</c>: its own prefixes in 10.0.0.0/28 (as offset and length,
    /// overlapping freely) and the networks defined before it that it includes (so no cycles).
    /// </summary>
    public sealed record Network(string Name, (int Offset, int Length)[] Prefixes, int[] Includes)
    {
        /// <summary>The YAML line, which also makes a counterexample readable.</summary>
        public string Yaml(IReadOnlyList<Network> all)
            => $"  {Name}: [{string.Join(", ", Prefixes.Select(p => p.Length == 32 ? $"10.0.0.{p.Offset}" : $"10.0.0.{p.Offset}/{p.Length}").Concat(Includes.Select(i => all[i].Name)))}]";
    }

    private static readonly Gen<Flow> FlowGen =
        from camera in Gen.Choose(0, Cameras.Length - 1)
        from egress in Gen.Elements(true, false)
        from tcp in Gen.Elements(true, false)
        from port in Gen.Choose(0, Ports.Length - 1)
        from peer in Gen.Choose(0, Peers.Length - 1)
        from answered in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from times in Gen.Choose(1, 3)
        from data in Gen.Choose(0, 25)
        select new Flow(camera, egress, tcp, port, peer, answered, times, data);

    // Mostly hosts and small blocks, so that names share addresses and equal sizes are common.
    private static readonly Gen<(int Offset, int Length)> PrefixGen =
        from length in Gen.Frequency((4, Gen.Constant(32)), (2, Gen.Constant(31)), (2, Gen.Constant(30)), (1, Gen.Constant(29)), (1, Gen.Constant(28)))
        from block in Gen.Choose(0, (1 << (length - 28)) - 1)
        select (block << (32 - length), length);

    private static Gen<Network> NetworkGen(string name, int index) =>
        from count in Gen.Choose(0, 3)
        from prefixes in Gen.ArrayOf(PrefixGen, count)
        from includes in Gen.SubListOf(Enumerable.Range(0, index))
        select prefixes.Length + includes.Count == 0 ? new Network(name, [(index, 32)], []) : new Network(name, prefixes, [.. includes]);

    private static readonly Gen<Network[]> NetworksGen =
        from count in Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, NetworkNames.Length)))
        from names in Gen.Shuffle(NetworkNames)
        from networks in Gen.CollectToArray(Enumerable.Range(0, count), i => NetworkGen(names[i], i))
        select networks;

    private static readonly Arbitrary<(Network[] Networks, Flow[] Flows)> SiteArb = Arb.From(
        from networks in NetworksGen
        from flows in Gen.ListOf(FlowGen)
        select (networks, flows.ToArray()));

    /// <summary>
    /// Offline (<c>camfw learn</c> from a capture) or live (a running engine in learn mode, from its notes). An
    /// admitted opener must have been seen completing, or be admitted through a named network of the camera's rule
    /// for that service; and that network must be least privilege for what it stands for: of the observed peers of
    /// the rule that it holds, no other named network of the policy holds them all with fewer addresses, nor with as
    /// many but not the same ones.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Build_RandomTraffic_NeverAllowsAConnectionTheLearnedTrafficDidNotContain(bool live)
    {
        var contested = 0;
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60 * Scale), Prop.ForAll(SiteArb, input =>
        {
            var (networks, flows) = input;
            var traffic = Generate(flows, 40000);
            var snapshot = Learn(traffic.All, live);
            var policyText = PolicyText(networks);
            var context = new ProposalContext { SiteNetworks = Site, Policy = policyText is null ? null : LearnHarness.LoadOk([new PolicySource("networks.yaml", policyText)]) };
            var proposal = ProposalBuilder.Build(snapshot, context);
            var load = PolicyLoader.Load(proposal.PolicySources);
            Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));

            // What the traffic contained: completed connections (answered) to non-public peers.
            var contained = flows.Where(f => f.Answered && !IsPublic(Peers[f.Peer]))
                .Select(f => (f.Camera, f.Egress, f.Tcp, Port: (int)Ports[f.Port], Peer: Peers[f.Peer])).ToHashSet();
            var named = AddressSets(networks);
            var peers = PeerTokens(proposal);
            var why = $"\n--policy:\n{policyText}\nproposal:\n{string.Join("\n", proposal.Files.Where(f => f.Name.EndsWith(".yaml", StringComparison.Ordinal)).Select(f => f.Text))}";

            // 1. Through the engine: every opener the proposal admits was seen, or is held by a name in its rule.
            var engine = LearnHarness.Enforcing(load.Spec!);
            var port = (ushort)20000;
            var now = traffic.All[^1].TimestampMicros / 1000 + 1000;
            for (var c = 0; c < Cameras.Length; c++)
            {
                foreach (var egress in new[] { true, false })
                {
                    foreach (var tcp in new[] { true, false })
                    {
                        foreach (var p in Ports)
                        {
                            var tokens = peers.GetValueOrDefault((c, egress, tcp, (int)p)) ?? [];

                            // Where a rule names a network, also every address a name could hold.
                            var probes = tokens.Any(named.ContainsKey) ? Peers.Union(NamedSpace) : Peers;
                            foreach (var peer in probes)
                            {
                                var frame = Opener(c, egress, tcp, p, peer, port++);
                                var verdict = engine.ProcessFrame(frame, egress ? Side.Camera : Side.Uplink, now);
                                if (verdict.IsPass && !verdict.Monitored)
                                {
                                    Assert.True(
                                        contained.Contains((c, egress, tcp, (int)p, peer)) || tokens.Any(t => named.TryGetValue(t, out var set) && set.Contains(peer)),
                                        $"camera {c} {(egress ? "egress" : "ingress")} {(tcp ? "tcp" : "udp")} {p} peer {peer} was admitted ({verdict.Reason}) but never completed while learning, nor is it in a network its rule names{why}");
                                }
                            }
                        }
                    }
                }
            }

            // 2. Least privilege for each name a rule uses: of the rule's observed peers, those the name holds (one at
            // least); no other name holds them all and admits fewer addresses, or as many but not the same ones.
            foreach (var ((c, egress, tcp, p), tokens) in peers)
            {
                foreach (var name in tokens.Where(named.ContainsKey))
                {
                    var held = contained.Where(k => k.Camera == c && k.Egress == egress && k.Tcp == tcp && k.Port == p && named[name].Contains(k.Peer))
                        .Select(k => k.Peer).ToHashSet();
                    var rule = $"camera {c} {(egress ? "egress" : "ingress")} {(tcp ? "tcp" : "udp")} {p}";
                    Assert.True(held.Count > 0, $"{rule} names '{name}', which holds none of the peers seen{why}");
                    foreach (var (other, set) in named)
                    {
                        if (other != name && set.IsSupersetOf(held))
                        {
                            // Equally many but others: either name admits an address the other does not, which
                            // the traffic never showed; only the bare addresses are least privilege then.
                            contested++;
                            Assert.False(
                                set.Count < named[name].Count || (set.Count == named[name].Count && !set.SetEquals(named[name])),
                                $"{rule} names '{name}' ({named[name].Count} addresses) for {string.Join(", ", held)}, but '{other}' holds them too with {set.Count}{why}");
                        }
                    }
                }
            }
        }));

        // Positive control: the runs judged rules where several names held what was seen, not only lone names.
        Assert.True(contested > 0, "no generated case had a learned peer held by more than one name");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Build_SameTrafficTwice_SameFiles(bool live)
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40 * Scale), Prop.ForAll(SiteArb, input =>
        {
            var (networks, flows) = input;
            var policyText = PolicyText(networks);
            var context = new ProposalContext
            {
                SiteNetworks = Site,
                Vendors = Vendors.Value,
                Policy = policyText is null ? null : LearnHarness.LoadOk([new PolicySource("networks.yaml", policyText)]),
            };
            var first = ProposalBuilder.Build(Learn(Generate(flows, 40000).All, live), context);
            var second = ProposalBuilder.Build(Learn(Generate(flows, 40000).All, live), context);

            Assert.Equal(first.Files.Select(f => f.Name), second.Files.Select(f => f.Name));
            foreach (var (a, b) in first.Files.Zip(second.Files))
            {
                Assert.Equal(a.Text, b.Text); // per file, so a failure shows where they part
            }
        }));
    }

    [Fact]
    public void Build_SiteCaptureTwice_SameFiles()
    {
        var first = ProposalBuilder.Build(LearnHarness.Learn(LearnSite.Capture(false).All), LearnHarness.Context());
        var second = ProposalBuilder.Build(LearnHarness.Learn(LearnSite.Capture(false).All), LearnHarness.Context());

        Assert.Equal(first.Files, second.Files);
    }

    private static LearnSnapshot Learn(IReadOnlyList<CapturedFrame> frames, bool live)
        => live ? LearnHarness.LearnLive(frames, LearnHarness.SiteLearning(Cameras.Zip(CameraIps))) : LearnHarness.Learn(frames);

    private static readonly Lazy<OuiRegistry> Vendors = new(() => OuiRegistry.Load(OuiRegistry.DebianDirectory, out _));

    private static bool IsPublic(string address) => !Site.Any(n => n.Contains(IPAddress.Parse(address))) && !IPNetwork.Parse("10.0.0.0/8").Contains(IPAddress.Parse(address));

    private static string? PolicyText(Network[] networks)
        => networks.Length == 0 ? null : "networks:\n" + string.Join("\n", networks.Select(n => n.Yaml(networks))) + "\n";

    /// <summary>What each generated name admits, worked out here from the generator's own terms (not the policy reader's).</summary>
    private static Dictionary<string, HashSet<string>> AddressSets(Network[] networks)
    {
        var offsets = new List<HashSet<int>>();
        foreach (var network in networks)
        {
            var set = new HashSet<int>();
            foreach (var (offset, length) in network.Prefixes)
            {
                set.UnionWith(Enumerable.Range(offset, 1 << (32 - length)));
            }

            foreach (var included in network.Includes)
            {
                set.UnionWith(offsets[included]); // defined before, so already complete
            }

            offsets.Add(set);
        }

        return networks.Select((n, i) => (n.Name, Set: offsets[i].Select(o => $"10.0.0.{o}").ToHashSet(StringComparer.Ordinal)))
            .ToDictionary(x => x.Name, x => x.Set, StringComparer.Ordinal);
    }

    /// <summary>
    /// The peer tokens (network names, addresses) of each camera's rules as the proposal's files write them, by camera
    /// and service (egress, tcp, port): a camera's own rules and those of the profile it shares.
    /// </summary>
    private static Dictionary<(int Camera, bool Egress, bool Tcp, int Port), string[]> PeerTokens(Proposal proposal)
    {
        var profiles = new Dictionary<string, List<(string Id, string[] Peers)>>(StringComparer.Ordinal);
        var cameras = new List<(string Mac, List<string> Profiles, List<(string Id, string[] Peers)> Rules)>();
        foreach (var file in proposal.Files.Where(f => f.Name.EndsWith(".yaml", StringComparison.Ordinal)))
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(file.Text));
            foreach (var (key, section) in ((YamlMappingNode)yaml.Documents[0].RootNode).Children)
            {
                var kind = ((YamlScalarNode)key).Value;
                if (kind is not ("cameras" or "profiles"))
                {
                    continue;
                }

                foreach (var (nameNode, bodyNode) in ((YamlMappingNode)section).Children)
                {
                    var body = (YamlMappingNode)bodyNode;
                    var rules = body.Children.TryGetValue("rules", out var r)
                        ? ((YamlSequenceNode)r).Children.Cast<YamlMappingNode>()
                            .Select(m => (Id: ((YamlScalarNode)m["id"]).Value!, Peers: Scalars(m["peer"]))).ToList()
                        : [];
                    if (kind == "profiles")
                    {
                        profiles.Add(((YamlScalarNode)nameNode).Value!, rules);
                    }
                    else
                    {
                        cameras.Add((((YamlScalarNode)body["mac"]).Value!, body.Children.TryGetValue("profiles", out var p) ? [.. Scalars(p)] : [], rules));
                    }
                }
            }
        }

        var result = new Dictionary<(int, bool, bool, int), string[]>();
        foreach (var (mac, ofProfiles, own) in cameras)
        {
            var c = Array.FindIndex(Cameras, m => m.ToString() == mac);
            foreach (var (id, tokens) in ofProfiles.SelectMany(p => profiles[p]).Concat(own))
            {
                // out-tcp-554, in-udp-123: the proposal's ids say the service.
                var parts = id.Split('-');
                result.Add((c, parts[0] == "out", parts[1] == "tcp", int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)), tokens);
            }
        }

        return result;
    }

    private static string[] Scalars(YamlNode node)
        => node is YamlSequenceNode list ? [.. list.Children.Select(n => ((YamlScalarNode)n).Value!)] : [((YamlScalarNode)node).Value!];

    private static SiteTraffic Generate(Flow[] flows, int portBase)
    {
        var t = new SiteTraffic(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero), portBase);
        foreach (var f in flows)
        {
            for (var i = 0; i < f.Times; i++)
            {
                var mac = Cameras[f.Camera];
                var ip = CameraIps[f.Camera];
                if (f.Tcp)
                {
                    t.Tcp(mac, ip, f.Egress, Peers[f.Peer], Ports[f.Port], f.Data, "x", answer: f.Answered);
                }
                else if (f.Egress)
                {
                    t.Udp(mac, ip, Peers[f.Peer], Ports[f.Port], "x", f.Answered);
                }
                else
                {
                    t.UdpFromPeer(mac, ip, Peers[f.Peer], Ports[f.Port], "x", f.Answered);
                }

                t.Wait(TimeSpan.FromSeconds(5));
            }
        }

        // Every camera shows up at least once on the camera side.
        for (var c = 0; c < Cameras.Length; c++)
        {
            t.Arp(Cameras[c], CameraIps[c], "192.0.2.1", "x");
        }

        return t;
    }

    private static byte[] Opener(int camera, bool egress, bool tcp, ushort port, string peer, ushort ephemeral)
    {
        var mac = Cameras[camera];
        var ip = CameraIps[camera];
        var router = SiteTraffic.RouterMac;
        return (tcp, egress) switch
        {
            (true, true) => Frames.Tcp(mac, router, ip, peer, ephemeral, port, Core.Wire.TcpFlags.Syn).ToArray(),
            (true, false) => Frames.Tcp(router, mac, peer, ip, ephemeral, port, Core.Wire.TcpFlags.Syn).ToArray(),
            (false, true) => Frames.Udp(mac, router, ip, peer, ephemeral, port).Payload(new byte[16]).ToArray(),
            (false, false) => Frames.Udp(router, mac, peer, ip, ephemeral, port).Payload(new byte[16]).ToArray(),
        };
    }
}
