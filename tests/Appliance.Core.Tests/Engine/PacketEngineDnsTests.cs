using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Tests.Wire;
using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Names in rules through the engine (issue 15): a camera learns names only from answers to its own queries, from the
/// resolver it asked, before the answer is forwarded; name rules admit only what the camera's own answers taught; lapse,
/// bounds, CNAME chains, AAAA, DNS over TCP, malformed answers. Frames are raw bytes; the clock is the nowMs argument.
/// </summary>
public class PacketEngineDnsTests
{
    internal const string Cloud = "203.0.113.50";
    internal const string Cloud2 = "203.0.113.51";
    internal const string Cloud6 = "2001:db8:50::1";

    /// <summary>The shared profile plus DNS over TCP and three name rules.</summary>
    internal static IReadOnlyList<RuleSpec> NameRules { get; } =
    [
        .. Profile,
        Rule("dns-tcp", Direction.Egress, RuleProtocol.Tcp, [new(53, 53)], [], ["10.0.1.1/32"]),
        Rule("ntp", Direction.Egress, RuleProtocol.Udp, [new(123, 123)], [], []) with { Names = ["time.vendor.example"] },
        Rule("firmware", Direction.Egress, RuleProtocol.Tcp, [new(443, 443)], [], []) with { Names = ["*.fw.vendor.example"] },
        Rule("ping-time", Direction.Egress, RuleProtocol.Icmpv6, [], [128], []) with { Names = ["time.vendor.example"] },
    ];

    internal static PacketEngine Engine(EngineOptions? options = null, TimeSpan? minTtl = null, DnsGuardAction guard = DnsGuardAction.Report)
    {
        var spec = Spec(rules: NameRules);
        if (minTtl is { } t)
        {
            spec = spec with { Site = spec.Site with { DnsMinTtl = t } };
        }

        spec = spec with { Site = spec.Site with { DnsGuard = spec.Site.DnsGuard with { Action = guard } } };

        return NewEngine(spec, options);
    }

    internal static byte[] Query(string cameraMac, string cameraIp, ushort port, ushort id, string name, ushort type = DnsTypes.A, string resolver = DnsIp)
        => Frames.Udp(Frames.Mac(cameraMac), RouterMac, cameraIp, resolver, port, 53)
            .Payload(DnsWire.Header(id, 0x0100, 1, 0).Question(name, type).ToArray()).ToArray();

    internal static byte[] Answer(string cameraMac, string cameraIp, ushort port, ushort id, byte[] message, string resolver = DnsIp)
        => Frames.Udp(RouterMac, Frames.Mac(cameraMac), resolver, cameraIp, 53, port).Payload(message).ToArray();

    internal static byte[] AnswerA(ushort id, string name, string address, uint ttl = 60, ushort type = DnsTypes.A)
        => (type == DnsTypes.A
            ? DnsWire.Response(id, 1).Question(name).A(name, address, ttl)
            : DnsWire.Response(id, 1).Question(name, type).Aaaa(name, address, ttl)).ToArray();

    internal static byte[] Syn(string cameraMac, string cameraIp, string peer, ushort port = 443, ushort cameraPort = 41000)
        => Frames.Tcp(Frames.Mac(cameraMac), RouterMac, cameraIp, peer, cameraPort, port, TcpFlags.Syn).ToArray();

    private static readonly string Cam1 = Cam1Mac.ToString();
    private static readonly string Cam2 = Cam2Mac.ToString();
    private static readonly string Cam5 = Cam5Mac.ToString();

    private static Verdict Camera(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Camera, now);

    private static Verdict Uplink(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Uplink, now);

    /// <summary>cam-1 asks the site resolver for <paramref name="name"/> and gets <paramref name="message"/> back.</summary>
    private static void Resolve(PacketEngine e, string name, byte[] message, long now, ushort id = 0x1234, ushort port = 40000, ushort type = DnsTypes.A)
    {
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, port, id, name, type), now).Reason);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Answer(Cam1, Cam1Ip, port, id, message), now + 1).Reason);
    }

    [Fact]
    public void NameRule_BeforeAnyAnswer_Denies()
    {
        var e = Engine();
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 0).Reason);
    }

    [Fact]
    public void Answer_ToTheCamerasOwnQuery_AdmitsThatAddressForThatRuleOnly()
    {
        var e = Engine();
        Resolve(e, "a.fw.vendor.example", AnswerA(0x1234, "a.fw.vendor.example", Cloud), 0);

        var v = Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2);
        Assert.Equal(Reason.RuleMatch, v.Reason);
        Assert.Equal("firmware", e.Policies.Current!.RuleIds[v.RuleIndex]);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud, port: 80), 3).Reason); // the rule's port only
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud2), 4).Reason);          // only the answered address
        Assert.Equal(1, e.DnsStats.Learned);
        Assert.Equal("a.fw.vendor.example", e.NameFor(SlotOf(e, "cam-1"), IpAddr.FromIPAddress(System.Net.IPAddress.Parse(Cloud))));
    }

    [Fact]
    public void Answer_ForANameNoRuleNames_IsLearnedForReportsButAdmitsNothing()
    {
        var e = Engine();
        Resolve(e, "p2p.other.example", AnswerA(0x1234, "p2p.other.example", Cloud), 0);

        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);
        Assert.Equal("p2p.other.example", e.NameFor(SlotOf(e, "cam-1"), IpAddr.FromIPAddress(System.Net.IPAddress.Parse(Cloud))));
    }

    [Fact]
    public void Answer_ToAnotherCamera_TeachesThisCameraNothing()
    {
        var e = Engine();
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam2, Cam2Ip, 40000, 7, "a.fw.vendor.example"), 0).Reason);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Answer(Cam2, Cam2Ip, 40000, 7, AnswerA(7, "a.fw.vendor.example", Cloud)), 1).Reason);

        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam2, Cam2Ip, Cloud), 3).Reason); // positive control
    }

    [Theory]
    [InlineData("unsolicited: no query at all")]
    [InlineData("another transaction id")]
    [InlineData("another client port")]
    [InlineData("another question")]
    [InlineData("another question type")]
    [InlineData("a query, not a response")]
    public void Answer_NotMatchingTheQuery_TeachesNothing(string variant)
    {
        var e = Engine();
        ushort port = 40000;
        if (variant != "unsolicited: no query at all")
        {
            Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, port, 0x1234, "a.fw.vendor.example"), 0).Reason);
        }

        if (variant == "another client port")
        {
            // A query on another port (so its UDP flow lets the answer in), with another id and name.
            port = 40001;
            Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, port, 0x4321, "x.example"), 0).Reason);
        }

        var message = variant switch
        {
            "another transaction id" => AnswerA(0x9999, "a.fw.vendor.example", Cloud),
            "another question" => AnswerA(0x1234, "b.fw.vendor.example", Cloud),
            "another question type" => DnsWire.Response(0x1234, 1).Question("a.fw.vendor.example", DnsTypes.Aaaa).A("a.fw.vendor.example", Cloud).ToArray(),
            "a query, not a response" => DnsWire.Header(0x1234, 0x0100, 1, 1).Question("a.fw.vendor.example").A("a.fw.vendor.example", Cloud).ToArray(),
            _ => AnswerA(0x1234, "a.fw.vendor.example", Cloud),
        };

        Uplink(e, Answer(Cam1, Cam1Ip, port, 0, message), 1);

        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);
        Assert.Equal(0, e.DnsStats.Learned);
        Assert.Equal(0, e.DnsNames.AddressCount);
    }

    [Fact]
    public void Answer_MismatchedFirst_RealAnswerStillTeaches()
    {
        // A forged answer with the right id but another question must not close the query.
        var e = Engine();
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, 40000, 0x1234, "a.fw.vendor.example"), 0).Reason);
        Uplink(e, Answer(Cam1, Cam1Ip, 40000, 0x1234, AnswerA(0x1234, "b.fw.vendor.example", Cloud2)), 1);
        Uplink(e, Answer(Cam1, Cam1Ip, 40000, 0x1234, AnswerA(0x1234, "a.fw.vendor.example", Cloud)), 2);

        Assert.Equal(1, e.DnsStats.Mismatched);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 3).Reason);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud2, cameraPort: 41001), 4).Reason);
    }

    [Fact]
    public void Answer_FromAnotherServer_IsDroppedAndTeachesNothing()
    {
        var e = Engine();
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, 40000, 0x1234, "a.fw.vendor.example"), 0).Reason);
        var forged = Answer(Cam1, Cam1Ip, 40000, 0x1234, AnswerA(0x1234, "a.fw.vendor.example", Cloud), resolver: "10.0.1.2");

        Assert.False(Uplink(e, forged, 1).IsPass);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);
    }

    [Fact]
    public void Answer_Malformed_IsDroppedWithItsReason()
    {
        var e = Engine();
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, 40000, 0x1234, "a.fw.vendor.example"), 0).Reason);
        var loop = DnsWire.Response(0x1234, 1).Question("a.fw.vendor.example").Pointer(39).RecordHead(1, 60, 4).Raw(203, 0, 113, 50).ToArray();

        var v = Uplink(e, Answer(Cam1, Cam1Ip, 40000, 0x1234, loop), 1);

        Assert.Equal(Reason.DnsPointerLoop, v.Reason);
        Assert.False(v.IsPass);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);
    }

    [Fact]
    public void Address_LapsesAfterMinTtl_UnlessAFlowItAdmittedIsLive()
    {
        // A small flow table so that one Maintain call sweeps all of it.
        var e = Engine(new EngineOptions { FlowCapacity = 1024 }, minTtl: TimeSpan.FromSeconds(120));
        Resolve(e, "time.vendor.example", AnswerA(0x1234, "time.vendor.example", Cloud, ttl: 5), 0);
        byte[] Ntp(ushort port) => Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, Cloud, port, 123).Payload(new byte[48]).ToArray();

        // TTL 5 s, but min_ttl 120 s: still admitted at 119 s.
        Assert.Equal(Reason.RuleMatch, Camera(e, Ntp(50000), 119_000).Reason);

        // Lapsed at 120 s, but the NTP flow admitted at 119 s is live until 179 s (UDP timeout 60 s): kept.
        Assert.Equal(Reason.RuleMatch, Camera(e, Ntp(50001), 150_000).Reason);

        // Every flow with it gone (expired and reclaimed): the name no longer admits.
        e.Maintain(300_000);
        Assert.Equal(0, e.Flows.Count);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Ntp(50002), 300_000).Reason);
    }

    [Fact]
    public void Address_LongTtl_WinsOverMinTtl()
    {
        var e = Engine(new EngineOptions { FlowCapacity = 1024 }, minTtl: TimeSpan.FromSeconds(10));
        Resolve(e, "a.fw.vendor.example", AnswerA(0x1234, "a.fw.vendor.example", Cloud, ttl: 600), 0);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 599_000).Reason);

        // The half-open flow that SYN made keeps the name until it is reclaimed.
        e.Maintain(900_000);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud, cameraPort: 41001), 900_000).Reason);
    }

    [Fact]
    public void NewAnswer_AddsAddresses_DoesNotOverwrite()
    {
        var e = Engine();
        Resolve(e, "a.fw.vendor.example", AnswerA(0x1234, "a.fw.vendor.example", Cloud), 0);
        Resolve(e, "a.fw.vendor.example", AnswerA(0x2222, "a.fw.vendor.example", Cloud2), 10, id: 0x2222, port: 40001);

        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 20).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud2), 21).Reason);
    }

    [Fact]
    public void CnameChain_AdmitsTheFinalAddressForTheAskedName()
    {
        // The camera asks for cdn.vendor.example, which is an alias of edge.fw.vendor.example: the firmware wildcard
        // admits the address because the chain leads there; the name it asked for is what reports show.
        var e = Engine();
        var withAddress = DnsWire.Response(0x1234, 4).Question("cdn.vendor.example")
            .Cname("cdn.vendor.example", "edge.cdn.example")
            .A("other.fw.vendor.example", Cloud2) // not on the chain: teaches nothing
            .Cname("edge.cdn.example", "edge.fw.vendor.example")
            .A("edge.fw.vendor.example", Cloud)
            .ToArray();
        Resolve(e, "cdn.vendor.example", withAddress, 0);

        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud2), 3).Reason);
        Assert.Equal("cdn.vendor.example", e.NameFor(SlotOf(e, "cam-1"), IpAddr.FromIPAddress(System.Net.IPAddress.Parse(Cloud))));
    }

    [Fact]
    public void Aaaa_LearnedOnlyForACameraWithIpv6()
    {
        var e = Engine();
        Resolve(e, "time.vendor.example", AnswerA(0x1234, "time.vendor.example", Cloud6, type: DnsTypes.Aaaa), 0, type: DnsTypes.Aaaa);
        Assert.Equal(1, e.DnsStats.AaaaNotLearned);
        Assert.Equal(0, e.DnsNames.AddressCount);

        // cam-5 is dual stack: it learns, and its ICMPv6 echo to the name's address is admitted.
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam5, Cam5Ip, 40000, 9, "time.vendor.example", DnsTypes.Aaaa), 10).Reason);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Answer(Cam5, Cam5Ip, 40000, 9, AnswerA(9, "time.vendor.example", Cloud6, type: DnsTypes.Aaaa)), 11).Reason);
        var echo = Frames.Echo(Cam5Mac, RouterMac, Cam5Ip6, Cloud6, 7).ToArray();
        Assert.Equal(Reason.RuleMatch, Camera(e, echo, 12).Reason);
    }

    [Fact]
    public void DnsOverTcp_WholeMessageSegment_Teaches_SplitOneDoesNot()
    {
        var e = Engine();
        var query = DnsWire.Header(0x77, 0x0100, 1, 0).Question("a.fw.vendor.example").ToArray();
        var answer = AnswerA(0x77, "a.fw.vendor.example", Cloud);
        byte[] Framed(byte[] m) => [(byte)(m.Length >> 8), (byte)m.Length, .. m];
        byte[] Out(TcpFlags f, byte[] payload) => Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 45000, 53, f).Payload(payload).ToArray();
        byte[] In(TcpFlags f, byte[] payload) => Frames.Tcp(RouterMac, Cam1Mac, DnsIp, Cam1Ip, 53, 45000, f).Payload(payload).ToArray();

        Assert.Equal(Reason.RuleMatch, Camera(e, Out(TcpFlags.Syn, []), 0).Reason);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack, []), 1).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Out(TcpFlags.Ack | TcpFlags.Psh, Framed(query)), 2).Reason);

        // First the answer split in two segments: forwarded, teaches nothing.
        var framed = Framed(answer);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack | TcpFlags.Psh, framed[..10]), 3).Reason);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack | TcpFlags.Psh, framed[10..]), 4).Reason);
        Assert.Equal(2, e.DnsStats.TcpSegmentsNotWhole);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 5).Reason);

        // Then in one segment: the query is still open, and this teaches.
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack | TcpFlags.Psh, framed), 6).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud, cameraPort: 41001), 7).Reason);
    }

    [Fact]
    public void PolicyReload_KeepsLearnedNames()
    {
        var e = Engine();
        Resolve(e, "a.fw.vendor.example", AnswerA(0x1234, "a.fw.vendor.example", Cloud), 0);
        Swap(e, Spec(rules: NameRules));
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);

        // A reload that drops the name rule revokes the flow it admitted.
        Swap(e, Spec(rules: Profile));
        Assert.Equal(Reason.FlowRevoked, Camera(e, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, Cloud, 41000, 443, TcpFlags.Ack).ToArray(), 3).Reason);
    }

    [Fact]
    public void Bounds_AddressesPerName_OldestLapseGoesFirstAndIsCounted()
    {
        var e = Engine(new EngineOptions { DnsAddressesPerName = 2 }, minTtl: TimeSpan.Zero);
        var message = DnsWire.Response(0x1234, 3).Question("a.fw.vendor.example")
            .A("a.fw.vendor.example", "203.0.113.1", ttl: 300)
            .A("a.fw.vendor.example", "203.0.113.2", ttl: 100) // lapses first: pushed out by the third
            .A("a.fw.vendor.example", "203.0.113.3", ttl: 200)
            .ToArray();
        Resolve(e, "a.fw.vendor.example", message, 0);

        Assert.Equal(2, e.DnsNames.AddressCount);
        Assert.Equal(1, e.DnsNames.Evictions);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.1"), 2).Reason);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.2"), 3).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.3"), 4).Reason);
    }

    [Fact]
    public void Bounds_NamesPerCamera_OldestLapseGoesFirst()
    {
        var e = Engine(new EngineOptions { DnsNamesPerCamera = 2 }, minTtl: TimeSpan.Zero);
        Resolve(e, "a.fw.vendor.example", AnswerA(1, "a.fw.vendor.example", "203.0.113.1", ttl: 300), 0, id: 1, port: 40001);
        Resolve(e, "b.fw.vendor.example", AnswerA(2, "b.fw.vendor.example", "203.0.113.2", ttl: 100), 0, id: 2, port: 40002);
        Resolve(e, "c.fw.vendor.example", AnswerA(3, "c.fw.vendor.example", "203.0.113.3", ttl: 200), 0, id: 3, port: 40003);

        Assert.Equal(2, e.DnsNames.NameCount);
        Assert.Equal(1, e.DnsNames.Evictions);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.2"), 3).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.3"), 4).Reason);
    }

    [Fact]
    public void Bounds_TotalAddresses_StayBoundedUnderAFlood()
    {
        // 500 distinct names in 5 s is what the tunnel guard reports (dns-tunnel-subdomains); this test is about the
        // name table's bounds, so the guard is off.
        var e = Engine(new EngineOptions { DnsAddressCapacity = 64, DnsNameCapacity = 32 }, guard: DnsGuardAction.Off);
        for (var i = 0; i < 500; i++)
        {
            var name = $"h{i}.fw.vendor.example";
            Resolve(e, name, AnswerA((ushort)i, name, $"203.0.113.{i % 250}"), i * 10, id: (ushort)i, port: (ushort)(30000 + i));
        }

        Assert.True(e.DnsNames.AddressCount <= 64);
        Assert.True(e.DnsNames.NameCount <= 32);
        Assert.True(e.DnsNames.Evictions > 0);

        // The newest answer is always there.
        Assert.Equal("h499.fw.vendor.example", e.NameFor(SlotOf(e, "cam-1"), IpAddr.FromIPAddress(System.Net.IPAddress.Parse($"203.0.113.{499 % 250}"))));
    }

    [Fact]
    public void AnswerPath_AllocatesNothing()
    {
        // 200 queries in 200 ms trip the tunnel guard's rate at the 121st, and a path's first run (JIT) in the middle of
        // this one measured window would count; the guard's paths have their own windowed gate
        // (PacketEngineAllocationTests), so this one measures the answer path alone.
        var e = Engine(guard: DnsGuardAction.Off);
        var query = Query(Cam1, Cam1Ip, 40000, 0x1234, "a.fw.vendor.example");
        var answer = Answer(Cam1, Cam1Ip, 40000, 0x1234, AnswerA(0x1234, "a.fw.vendor.example", Cloud));
        var syn = Syn(Cam1, Cam1Ip, Cloud);
        Camera(e, query, 0);
        Uplink(e, answer, 1);
        Camera(e, syn, 2);

        // Warm-up rounds first (tiering, static initialisers); a one-time runtime event shows in one window at most,
        // a per-frame allocation in every window, so the last window must be zero.
        var passed = 0;
        var rounds = 0;
        var windows = AllocationWindows.Measure(
            r =>
            {
                rounds++;
                passed += Camera(e, query, 10 + r).IsPass ? 1 : 0;
                passed += Uplink(e, answer, 10 + r).IsPass ? 1 : 0;
                passed += Camera(e, syn, 10 + r).IsPass ? 1 : 0;
            },
            warmupRounds: 30,
            roundsPerWindow: 100);

        Assert.True(windows[^1] == 0, AllocationWindows.Describe(windows));
        Assert.Equal(3 * rounds, passed);
        Assert.True(e.DnsStats.Learned > 100);
    }
}
