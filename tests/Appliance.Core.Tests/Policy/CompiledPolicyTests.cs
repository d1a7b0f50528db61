using System.Net;
using Appliance.Core.Policy;
using FsCheck;
using FsCheck.Fluent;

namespace Appliance.Core.Tests.Policy;

public class CompiledPolicyTests
{
    private static RuleSpec Rule(string id, Direction d, RuleProtocol p, PortRange[] ports, byte[] types, params string[] peers)
        => new() { Id = id, Direction = d, Protocol = p, Ports = ports, IcmpTypes = types, Peers = [.. peers.Select(IPNetwork.Parse)] };

    private static CameraSpec Camera(string name, int n, IReadOnlyList<RuleSpec> rules)
        => new()
        {
            Name = name,
            Mac = new MacAddress(0x0200_0000_0000UL + (ulong)n),
            Addresses = [new IPAddress(BitConverter.GetBytes(0x0A00_0000 + n).Reverse().ToArray())],
            Rules = rules,
        };

    private static PolicySpec Spec(params CameraSpec[] cameras) => new() { Cameras = cameras, Sha256 = "ab" };

    private static readonly RuleSpec[] Profile =
    [
        Rule("rtsp", Direction.Ingress, RuleProtocol.Tcp, [new(554, 554)], [], "10.0.1.10/32"),
        Rule("ntp", Direction.Egress, RuleProtocol.Udp, [new(123, 123)], [], "10.0.1.1/32", "2001:db8::1/128"),
    ];

    [Fact]
    public void Compile_ManyCamerasOneProfile_ShareOneRuleSet()
    {
        var cameras = Enumerable.Range(1, 1_000).Select(i => Camera($"cam-{i}", i, Profile)).ToArray();

        var policy = CompiledPolicy.Compile(Spec(cameras), 1, new CameraSlotRegistry(2_000));

        Assert.Equal(1, policy.RuleSetCount);
        Assert.Equal(2, policy.RuleIds.Count);
        Assert.Equal(1_000, policy.Cameras.Count);
        Assert.All(policy.Cameras, c => Assert.Equal(0, c.FirstRuleIndex));
    }

    [Fact]
    public void Compile_CarriesVersionShaAndSlots()
    {
        var slots = new CameraSlotRegistry(8);
        slots.TryGetOrAdd("older", out _);

        var policy = CompiledPolicy.Compile(Spec(Camera("a", 1, Profile), Camera("b", 2, [])), 7, slots);

        Assert.Equal(7u, policy.Version);
        Assert.Equal("ab", policy.Sha256);
        Assert.True(policy.TryGetCameraBySlot(2, out var b));
        Assert.Equal("b", b.Name);
        Assert.False(policy.TryGetCameraBySlot(0, out _)); // "older" is not in this policy
        Assert.False(policy.TryGetCameraBySlot(99, out _));
        Assert.Empty(policy.EffectiveRules("b"));
    }

    [Fact]
    public void Compile_SlotsStableAcrossReloads()
    {
        var slots = new CameraSlotRegistry(8);
        var first = CompiledPolicy.Compile(Spec(Camera("a", 1, Profile), Camera("b", 2, Profile)), 1, slots);
        var second = CompiledPolicy.Compile(Spec(Camera("b", 2, Profile), Camera("c", 3, Profile)), 2, slots);

        Assert.True(first.TryGetCamera("b", out var b1));
        Assert.True(second.TryGetCamera("b", out var b2));
        Assert.Equal(b1.Slot, b2.Slot);
        Assert.True(second.TryGetCamera("c", out var c));
        Assert.Equal(2, c.Slot);
    }

    [Theory]
    [InlineData("duplicate name")]
    [InlineData("duplicate MAC")]
    [InlineData("duplicate address")]
    [InlineData("registry full")]
    [InlineData("no identity")]
    public void Compile_WhatValidationShouldHaveCaught_ThrowsPolicyCompileException(string fault)
    {
        var a = Camera("a", 1, Profile);
        var (spec, slots) = fault switch
        {
            "duplicate name" => (Spec(a, Camera("a", 2, Profile)), new CameraSlotRegistry(8)),
            "duplicate MAC" => (Spec(a, Camera("b", 2, Profile) with { Mac = a.Mac }), new CameraSlotRegistry(8)),
            "duplicate address" => (Spec(a, Camera("b", 2, Profile) with { Addresses = a.Addresses }), new CameraSlotRegistry(8)),
            "registry full" => (Spec(a, Camera("b", 2, Profile)), new CameraSlotRegistry(1)),
            _ => (Spec(a with { Mac = null, Addresses = [] }), new CameraSlotRegistry(8)),
        };

        var ex = Assert.Throws<PolicyCompileException>(() => CompiledPolicy.Compile(spec, 1, slots));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void EffectiveRules_DecompiledFromTables_CanonicalForm()
    {
        RuleSpec[] rules =
        [
            Rule("web", Direction.Egress, RuleProtocol.Tcp, [new(8000, 8010), new(443, 443), new(8011, 8020)], [], "10.0.1.0/25", "10.0.1.128/25", "2001:db8::/48"),
            Rule("any-port", Direction.Ingress, RuleProtocol.Udp, [], [], "0.0.0.0/0"),
            Rule("ping", Direction.Ingress, RuleProtocol.Icmp, [], [8, 13], "10.0.1.10/32"),
            Rule("everything", Direction.Egress, RuleProtocol.Any, [], [], "192.0.2.0/24"),
            Rule("odd-range", Direction.Egress, RuleProtocol.Tcp, [new(1, 1)], [], "10.0.0.1/32", "10.0.0.2/31"),
        ];
        var policy = CompiledPolicy.Compile(Spec(Camera("a", 1, rules)), 1, new CameraSlotRegistry(8));

        var shown = policy.EffectiveRules("a");

        Assert.Equal(["web", "any-port", "ping", "everything", "odd-range"], shown.Select(r => r.Id));
        Assert.Equal([new PortRange(443, 443), new PortRange(8000, 8020)], shown[0].Ports);
        Assert.Equal(["10.0.1.0/24", "2001:db8::/48"], shown[0].Peers.Select(p => p.ToString()));
        Assert.Empty(shown[1].Ports);
        Assert.Equal(["0.0.0.0/0"], shown[1].Peers.Select(p => p.ToString()));
        Assert.Equal([8, 13], shown[2].IcmpTypes);
        Assert.Equal(RuleProtocol.Any, shown[3].Protocol);
        Assert.Empty(shown[3].Ports);
        Assert.Empty(shown[3].IcmpTypes);
        Assert.Equal(["10.0.0.1/32", "10.0.0.2/31"], shown[4].Peers.Select(p => p.ToString()));
    }

    // ---- Properties: the compiled tables against the naive matcher ----

    private static readonly string[] PeerPool =
    [
        "0.0.0.0/0", "10.0.0.0/8", "10.0.1.0/24", "10.0.1.10/32", "10.0.1.128/25", "192.0.2.0/24", "192.0.2.7/32",
        "::/0", "2001:db8::/32", "2001:db8:1::10/128", "2001:db8:1::/64",
    ];

    private static readonly string[] AddressPool =
    [
        "10.0.1.10", "10.0.1.11", "10.0.1.200", "10.9.9.9", "192.0.2.7", "192.0.2.8", "198.51.100.1", "0.0.0.0",
        "255.255.255.255", "2001:db8:1::10", "2001:db8:1::11", "2001:db8:2::1", "2001:db9::1", "::", "ffff:ffff::1",
    ];

    private static readonly ushort[] PortPool = [0, 1, 22, 53, 80, 443, 554, 555, 8000, 8080, 65535];

    private static Gen<PortRange> PortRangeGen =>
        from a in Gen.Elements(PortPool)
        from span in Gen.Elements(0, 0, 1, 10, 1000, 65535)
        select new PortRange(a, (ushort)Math.Min(65535, a + span));

    private static Gen<RuleSpec> RuleGen =>
        from d in Gen.Elements(Direction.Egress, Direction.Ingress)
        from p in Gen.Elements(RuleProtocol.Tcp, RuleProtocol.Udp, RuleProtocol.Icmp, RuleProtocol.Icmpv6, RuleProtocol.Any)
        from portCount in Gen.Elements(0, 0, 1, 2, 3)
        from ports in Gen.ArrayOf(PortRangeGen, portCount)
        from typeCount in Gen.Elements(0, 0, 1, 2)
        from types in Gen.ArrayOf(Gen.Elements<byte>(0, 3, 8, 11, 128, 129, 255), typeCount)
        from peerCount in Gen.Choose(1, 3)
        from peers in Gen.ArrayOf(Gen.Elements(PeerPool), peerCount)
        select Rule("r", d, p, ports, [.. types.Distinct()], peers);

    private static Gen<RuleSpec[]> RuleSetGen =>
        from n in Gen.Choose(0, 12)
        from rules in Gen.ArrayOf(RuleGen, n)
        select rules.Select((r, i) => r with { Id = $"r{i}" }).ToArray();

    private static Gen<(Direction, byte, ushort, string)> QueryGen =>
        from d in Gen.Elements(Direction.Egress, Direction.Ingress)
        from proto in Gen.Elements<byte>(6, 17, 1, 58, 47)
        from key in Gen.OneOf(Gen.Elements(PortPool), Gen.Elements<ushort>(0, 3, 8, 11, 128, 255), Gen.Choose(0, 65535).Select(x => (ushort)x))
        from addr in Gen.Elements(AddressPool)
        select (d, proto, proto is 1 or 58 ? (ushort)(byte)key : proto is 6 or 17 ? key : (ushort)0, addr); // as the engine keys openers

    [Fact]
    public void Match_RandomRuleSets_AgreesWithNaiveMatcher()
    {
        var gen = from rules in RuleSetGen
                  from queries in Gen.ArrayOf(QueryGen, 40)
                  select (rules, queries);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(gen), input =>
        {
            var (rules, queries) = input;
            var policy = CompiledPolicy.Compile(Spec(Camera("a", 1, rules)), 1, new CameraSlotRegistry(4));
            var set = policy.Record(0).Rules;
            foreach (var (d, proto, key, text) in queries)
            {
                var peer = IPAddress.Parse(text);
                var v6 = peer.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
                var expected = NaiveMatcher.FirstMatch(rules, d, proto, key, peer);
                var actual = set.Match(v6, d, proto, key, IpAddr.FromIPAddress(peer));
                Assert.True(expected == actual, $"{d} {proto} {key} {text}: naive {expected}, compiled {actual}");
            }
        }));
    }

    [Fact]
    public void EffectiveRules_RandomRuleSets_RecompileToSameDecisions()
    {
        // policy -> tables -> show -> tables: the printed rules must mean exactly what the policy meant.
        var gen = from rules in RuleSetGen
                  from queries in Gen.ArrayOf(QueryGen, 40)
                  select (rules, queries);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(Arb.From(gen), input =>
        {
            var (rules, queries) = input;
            var policy = CompiledPolicy.Compile(Spec(Camera("a", 1, rules)), 1, new CameraSlotRegistry(4));
            var shown = policy.EffectiveRules("a");
            Assert.Equal(rules.Select(r => r.Id), shown.Select(r => r.Id));
            foreach (var (d, proto, key, text) in queries)
            {
                var peer = IPAddress.Parse(text);
                Assert.Equal(NaiveMatcher.FirstMatch(rules, d, proto, key, peer), NaiveMatcher.FirstMatch(shown, d, proto, key, peer));
            }

            // And showing is a fixed point: compiling what was shown shows the same thing.
            var again = CompiledPolicy.Compile(Spec(Camera("a", 1, shown)), 2, new CameraSlotRegistry(4)).EffectiveRules("a");
            Assert.Equal(Describe(shown), Describe(again));
        }));
    }

    private static string Describe(IReadOnlyList<RuleSpec> rules)
        => string.Join(";", rules.Select(r => $"{r.Id}|{r.Direction}|{r.Protocol}|{string.Join(",", r.Ports)}|{string.Join(",", r.IcmpTypes)}|{string.Join(",", r.Peers)}"));
}
