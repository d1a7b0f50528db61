using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Tests.Wire;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using Xunit.Abstractions;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// The DNS tunnel guard (issue 15): on by default, reporting; each trigger its reason, counted every time, reported
/// once per camera and trigger per 10 s; dropping where the camera's guard says so. Replays scapy-made iodine- and
/// dnscat2-style tunnels (must fire, figures printed) and a normal camera's hour with the lab generator's queries
/// (must not fire).
/// </summary>
public class PacketEngineDnsGuardTests(ITestOutputHelper output)
{
    private static readonly string Cam1 = Cam1Mac.ToString();

    private static PacketEngine Engine(DnsGuardAction? cam1 = null, DnsGuardSpec? site = null)
    {
        var spec = Spec(rules: NameRules, edit: c => c.Name == "cam-1" ? c with { DnsGuard = cam1 } : c);
        return NewEngine(spec with { Site = spec.Site with { DnsGuard = site ?? new DnsGuardSpec() } });
    }

    private static Verdict Send(PacketEngine e, byte[] message, long now, ushort port = 40000, string mac = "", string ip = Cam1Ip)
        => e.ProcessFrame(Frames.Udp(Frames.Mac(mac.Length == 0 ? Cam1 : mac), RouterMac, ip, DnsIp, port, 53).Payload(message).ToArray(), Side.Camera, now);

    private static byte[] Q(string name, ushort type = DnsTypes.A, ushort id = 1) => DnsWire.Header(id, 0x0100, 1, 0).Question(name, type).ToArray();

    private static byte[] QLabels(params byte[][] labels)
    {
        var w = DnsWire.Header(1, 0x0100, 1, 0);
        foreach (var l in labels)
        {
            w.Raw((byte)l.Length).Raw(l);
        }

        return w.Raw(0).U16(1).U16(1).ToArray();
    }

    private static List<DropEvent> Events(PacketEngine e)
    {
        var list = new List<DropEvent>();
        while (e.Events.TryRead(out var ev))
        {
            list.Add(ev);
        }

        return list;
    }

    [Theory]
    [InlineData(DnsTypes.Txt, "txt")]
    [InlineData(DnsTypes.Null, "null")]
    [InlineData((ushort)15, "mx")]
    [InlineData(DnsTypes.Cname, "cname")]
    [InlineData((ushort)255, "any")]
    public void UnusualQueryType_ReportedNotDropped_ByDefault(ushort type, string what)
    {
        var e = Engine();
        var v = Send(e, Q("x.vendor.example", type), 0);

        Assert.True(v.IsPass, what);
        Assert.True(v.Monitored);
        Assert.Equal(Reason.DnsTunnelQueryType, v.Reason);
        var ev = Assert.Single(Events(e));
        Assert.Equal("x.vendor.example", e.Events.NameOf(in ev));
        Assert.Equal(1, e.DnsQueries.Count); // it went to the resolver: its answer is matched as any other

        // Positive control: the usual types pass without a word.
        Assert.Equal(Reason.EstablishedFlow, Send(e, Q("x.vendor.example", DnsTypes.Aaaa, 2), 1).Reason);
        Assert.Empty(Events(e));
    }

    [Fact]
    public void Guard_Drop_DropsTunnelShapedQueries_Off_LetsThemBe()
    {
        var dropping = Engine(DnsGuardAction.Drop);
        var v = Send(dropping, Q("x.vendor.example", DnsTypes.Txt), 0);
        Assert.Equal(VerdictAction.Drop, v.Action);
        Assert.Equal(Reason.DnsTunnelQueryType, v.Reason);
        Assert.Equal(0, dropping.DnsQueries.Count);

        var off = Engine(DnsGuardAction.Off);
        Assert.Equal(Reason.RuleMatch, Send(off, Q("x.vendor.example", DnsTypes.Txt), 0).Reason);
        Assert.Empty(Events(off));

        // The site's action is the default; the camera's own wins.
        var siteDrops = Engine(site: new DnsGuardSpec { Action = DnsGuardAction.Drop });
        Assert.Equal(VerdictAction.Drop, Send(siteDrops, Q("x.vendor.example", DnsTypes.Txt), 0).Action);
        Assert.True(Send(Engine(DnsGuardAction.Report, new DnsGuardSpec { Action = DnsGuardAction.Drop }), Q("x.vendor.example", DnsTypes.Txt), 0).IsPass);
    }

    [Fact]
    public void LongLabelOrName_Fires()
    {
        var e = Engine(DnsGuardAction.Drop);
        Assert.Equal(Reason.RuleMatch, Send(e, Q(new string('a', 52) + ".vendor.example"), 0).Reason);
        Assert.Equal(Reason.DnsTunnelLongName, Send(e, Q(new string('a', 53) + ".vendor.example"), 1).Reason);
        var name = string.Join('.', Enumerable.Repeat("abcdefghij", 11)) + ".example"; // 129 characters
        Assert.Equal(Reason.DnsTunnelLongName, Send(e, Q(name), 2).Reason);
    }

    [Fact]
    public void HighEntropyOrBinaryLabels_Fire()
    {
        var e = Engine(DnsGuardAction.Drop);
        Assert.Equal(Reason.DnsTunnelEntropy, Send(e, Q("k2zri1r0wyojfljooa5lqsaj0x.uid3zzzzg4zdmen2khvdga.t.attacker.example"), 0).Reason);
        Assert.Equal(Reason.DnsTunnelEntropy, Send(e, QLabels([0x01, 0xfe, 0x41], "t"u8.ToArray(), "attacker"u8.ToArray(), "example"u8.ToArray()), 1).Reason);
        Assert.Equal(Reason.DnsTunnelEntropy, Send(e, QLabels("a.b"u8.ToArray(), "attacker"u8.ToArray(), "example"u8.ToArray()), 2).Reason);

        // Positive control: long but wordy (37 characters, about 3.97 bits each).
        Assert.Equal(Reason.EstablishedFlow, Send(e, Q("firmware-download-eu-west-1.cdn-images.vendor.example"), 3).Reason);
    }

    [Fact]
    public void ManyDistinctSubdomainsUnderOneParent_FireWithinTheWindow_NotAcrossWindows()
    {
        var e = Engine(DnsGuardAction.Drop);
        var fired = -1;
        for (var i = 0; i < 60 && fired < 0; i++)
        {
            if (Send(e, Q($"s{i}.t.attacker.example", id: (ushort)i), i * 100).Reason == Reason.DnsTunnelSubdomains)
            {
                fired = i;
            }
        }

        Assert.InRange(fired, 30, 45); // the 31st distinct name, give or take the 256-bit map's collisions

        // Spread out: 12 names a minute (at most 24 over the two windows counted) never fires...
        var slow = Engine(DnsGuardAction.Drop);
        for (var i = 0; i < 200; i++)
        {
            Assert.NotEqual(Reason.DnsTunnelSubdomains, Send(slow, Q($"s{i}.t.attacker.example", id: (ushort)i), i * 5000L).Reason);
        }

        // ...but one a second does, and keeps firing after the window turns (the previous window still counts).
        var steady = Engine(DnsGuardAction.Drop);
        var flagged = 0;
        for (var i = 0; i < 300; i++)
        {
            flagged += Send(steady, Q($"s{i}.t.attacker.example", id: (ushort)i), i * 1000L).Reason == Reason.DnsTunnelSubdomains ? 1 : 0;
        }

        Assert.InRange(flagged, 240, 275); // all but the first ~31
    }

    [Fact]
    public void QueryRate_AboveTheBudget_Fires()
    {
        var e = Engine(DnsGuardAction.Drop);
        for (var i = 0; i < 120; i++)
        {
            Assert.True(Send(e, Q("time.vendor.example", id: (ushort)i), i).IsPass, $"query {i}");
        }

        Assert.Equal(Reason.DnsTunnelRate, Send(e, Q("time.vendor.example", id: 999), 120).Reason);

        // Half a second later one more has been earned (two a second).
        Assert.True(Send(e, Q("time.vendor.example", id: 1000), 120 + 500).IsPass);
    }

    [Fact]
    public void Reports_OnePerCameraAndTriggerPer10Seconds_EveryQueryCounted()
    {
        var e = Engine();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(Reason.DnsTunnelQueryType, Send(e, Q($"q{i}.vendor.example", DnsTypes.Txt, (ushort)i), i * 100).Reason);
        }

        Assert.Single(Events(e));
        Assert.Equal(50, e.Counters.ForReason(Reason.DnsTunnelQueryType));
        Assert.Equal(Reason.DnsTunnelQueryType, Send(e, Q("late.vendor.example", DnsTypes.Txt, 77), 10_000).Reason);
        var late = Assert.Single(Events(e));
        Assert.Equal("late.vendor.example", e.Events.NameOf(in late));
    }

    [Fact]
    public void ReportedName_BinaryLabelsEscaped()
    {
        var e = Engine();
        Send(e, QLabels([0x01, (byte)'A', (byte)'.', (byte)'\\'], "attacker"u8.ToArray(), "example"u8.ToArray()), 0);
        var ev = Assert.Single(Events(e));
        Assert.Equal("\\001a\\046\\092.attacker.example", e.Events.NameOf(in ev));
    }

    public static TheoryData<string> Tunnels => new() { "iodine-null", "iodine-a", "dnscat2", "dnscat2-a" };

    [Theory]
    [MemberData(nameof(Tunnels))]
    public void TunnelSample_Replayed_Detected(string sample)
    {
        var (first, fired, counts) = Replay(sample);
        output.WriteLine($"{sample}: {DnsTunnelSamples.Of(sample).Count} queries; first detection at query {first + 1} ({ReasonNames.Name(fired)}); " +
            string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{ReasonNames.Name(c.Key)} {c.Value}")));
        Assert.InRange(first, 0, 9); // within the first ten queries
        Assert.True(counts.Values.Sum() >= DnsTunnelSamples.Of(sample).Count / 2, "most of the tunnel's queries are flagged");
    }

    [Fact]
    public void NormalCamera_AnHourWithTheLabGenerator_NeverFires()
    {
        var (first, fired, counts) = Replay("normal");
        output.WriteLine($"normal: {DnsTunnelSamples.Of("normal").Count} queries; {(first < 0 ? "nothing fired" : $"fired at {first + 1}: {fired}")}");
        Assert.True(DnsTunnelSamples.Of("normal").Count > 1800);
        Assert.Equal(-1, first);
        Assert.Empty(counts);
    }

    [Fact]
    public void LearnSiteCapture_Replayed_NeverFires()
    {
        // The learn tests' site: three cameras' DNS, NTP, NVR streams, ARP, DHCP, WS-Discovery over two captured hours.
        RuleSpec[] rules = [Rule("dns", Direction.Egress, RuleProtocol.Udp, [new(53, 53)], [], ["0.0.0.0/0"])];
        var spec = Spec() with
        {
            Cameras =
            [
                new() { Name = "hik1", Mac = LearnSite.Hik1, Addresses = [System.Net.IPAddress.Parse(LearnSite.Hik1Ip)], Rules = rules },
                new() { Name = "hik2", Mac = LearnSite.Hik2, Addresses = [System.Net.IPAddress.Parse(LearnSite.Hik2Ip)], Rules = rules },
                new() { Name = "dahua", Mac = LearnSite.Dahua, Addresses = [System.Net.IPAddress.Parse(LearnSite.DahuaIp)], Rules = rules },
            ],
        };
        var e = NewEngine(spec);
        var queries = 0;
        foreach (var f in LearnSite.Capture(later: false).All.Concat(LearnSite.Capture(later: true).All))
        {
            var v = e.ProcessFrame(f.Frame, f.Side, f.TimestampMicros / 1000);
            Assert.False(v.Reason is >= Reason.DnsTunnelRate and <= Reason.DnsTunnelQueryType, $"{v.Reason} on a {f.Label} frame");
        }

        queries = (int)e.DnsStats.Queries;
        Assert.True(queries >= 20, $"the capture holds {queries} queries the engine read");
    }

    private static (int First, Reason Fired, Dictionary<Reason, int> Counts) Replay(string sample)
    {
        var e = Engine();
        var first = -1;
        var fired = Reason.RuleMatch;
        var counts = new Dictionary<Reason, int>();
        var queries = DnsTunnelSamples.Of(sample);
        for (var i = 0; i < queries.Count; i++)
        {
            var v = Send(e, queries[i].Message, queries[i].TimeMs, (ushort)(40000 + (i % 64)));
            Assert.True(v.IsPass, $"the guard reports by default, it does not drop ({v.Reason})");
            if (v.Reason is >= Reason.DnsTunnelRate and <= Reason.DnsTunnelQueryType)
            {
                counts[v.Reason] = counts.GetValueOrDefault(v.Reason) + 1;
                if (first < 0)
                {
                    (first, fired) = (i, v.Reason);
                }
            }
        }

        return (first, fired, counts);
    }
}
