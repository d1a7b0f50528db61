using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Tests.Wire;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Which learned names may admit through a name rule (issues 15 x 16). The attacker: a camera in learn (or monitor)
/// mode passes everything, so it can ask a resolver of its own choosing for any name, with any TTL, in queries no rule
/// admits; the answers are learned (the proposal names peers by them). When the admin then enforces, those answers must
/// not admit anything through a name rule: under enforcement the query would never have left. Likewise a reload that
/// takes away the resolver or the question a mapping came from. Raw frames; the clock is the nowMs argument.
/// </summary>
public class PacketEngineDnsAdmissionTests
{
    private const string Evil = "203.0.113.9";
    private const string OwnResolver = "198.51.100.53";
    private const uint Day = 86_400;

    private static readonly string Cam1 = Cam1Mac.ToString();

    private static Verdict Camera(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Camera, now);

    private static Verdict Uplink(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Uplink, now);

    private static RuleSpec HttpsTo(string pattern) => Rule("evil-https", Direction.Egress, RuleProtocol.Tcp, [new(443, 443)], [], []) with { Names = [pattern] };

    private static RuleSpec DnsTo(string resolver) => Rule("own-dns", Direction.Egress, RuleProtocol.Udp, [new(53, 53)], [], [resolver + "/32"]);

    private static PolicySpec Site(IReadOnlyList<RuleSpec> rules, CameraMode mode = CameraMode.Enforce, Func<CameraSpec, CameraSpec>? more = null)
        => Spec(rules: rules, edit: c => c.Name == "cam-1" ? (more ?? (x => x))(c with { Mode = mode }) : c);

    /// <summary>cam-1 asks <paramref name="resolver"/> for <paramref name="name"/> and gets <paramref name="message"/>; both pass.</summary>
    private static void Resolve(PacketEngine e, string name, byte[] message, long now, string resolver = DnsIp, ushort id = 0x4242, ushort port = 40000)
    {
        Assert.True(Camera(e, Query(Cam1, Cam1Ip, port, id, name, resolver: resolver), now).IsPass);
        Assert.True(Uplink(e, Answer(Cam1, Cam1Ip, port, id, message, resolver), now + 1).IsPass);
    }

    [Theory]
    [InlineData("cdn.evil.example", "no rules while learning: the site resolver")]
    [InlineData("*.evil.example", "no rules while learning: the site resolver")]
    [InlineData("cdn.evil.example", "the camera's own resolver")]
    [InlineData("*.evil.example", "the camera's own resolver")]
    public void LearnModeLookup_ReloadToEnforce_NameRuleAdmitsNothingUntilAFreshAdmittedAnswer(string pattern, string how)
    {
        var own = how.Contains("own", StringComparison.Ordinal);
        var e = NewEngine(Site(own ? Profile : [], CameraMode.Learn));

        // Learning: a query no rule admits passes (learn mode), and its day-long answer is learned, for the proposal.
        Resolve(e, "cdn.evil.example", AnswerA(0x4242, "cdn.evil.example", Evil, ttl: Day), 0, own ? OwnResolver : DnsIp);
        Assert.Equal("cdn.evil.example", e.NameFor(SlotOf(e, "cam-1"), Ip(Evil)));
        var open = Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41000), 2);
        Assert.True(open.IsPass && open.Monitored, how);

        // The admin enforces, with a name rule for the name: nothing admitted that lookup.
        Swap(e, Site([.. Profile, HttpsTo(pattern)]));
        Assert.Equal(Reason.FlowRevoked, Uplink(e, Frames.Tcp(RouterMac, Cam1Mac, Evil, Cam1Ip, 443, 41000, TcpFlags.Syn | TcpFlags.Ack).ToArray(), 3).Reason);
        var v = Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41001), 4);
        Assert.Equal(VerdictAction.Drop, v.Action);
        Assert.Equal(Reason.NoRuleMatched, v.Reason);
        Assert.Equal("cdn.evil.example", e.NameFor(SlotOf(e, "cam-1"), Ip(Evil))); // still named in reports

        // A fresh answer to an admitted query (the site resolver, under enforcement) admits it.
        Resolve(e, "cdn.evil.example", AnswerA(0x4343, "cdn.evil.example", Evil, ttl: 60), 10, id: 0x4343, port: 40001);
        v = Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41002), 12);
        Assert.Equal(Reason.RuleMatch, v.Reason);
        Assert.Equal("evil-https", e.Policies.Current!.RuleIds[v.RuleIndex]);
    }

    [Fact]
    public void LearnModeAdmittedLookup_ReloadToEnforce_StillAdmits()
    {
        // The positive control of the test above: a learn-mode camera's query that a rule admitted would have left under
        // enforcement too, so its answer admits after the switch, like any learned name across a reload.
        var e = NewEngine(Site(Profile, CameraMode.Learn));
        Resolve(e, "cdn.evil.example", AnswerA(0x4242, "cdn.evil.example", Evil), 0);
        Swap(e, Site([.. Profile, HttpsTo("*.evil.example")]));
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Evil), 2).Reason);
    }

    [Fact]
    public void LearnModeLookup_SameLearnPolicyWithANameRule_IsAWouldBeDropNotAMatch()
    {
        // While learning, the report tells the truth about enforcement: the name rule would not have admitted it.
        var e = NewEngine(Site([.. Profile, HttpsTo("*.evil.example")], CameraMode.Learn));
        Resolve(e, "cdn.evil.example", AnswerA(0x4242, "cdn.evil.example", Evil), 0, OwnResolver);
        var v = Camera(e, Syn(Cam1, Cam1Ip, Evil), 2);
        Assert.True(v.IsPass && v.Monitored);
        Assert.Equal(Reason.NoRuleMatched, v.Reason);
    }

    [Fact]
    public void MonitoredCameraGuardDrop_FlaggedLookup_AdmitsNothingAfterEnforce()
    {
        // Monitored, a query the tunnel guard would drop passes; enforced, it would not have left.
        var longName = new string('a', 60) + ".evil.example";
        Func<CameraSpec, CameraSpec> drop = c => c with { DnsGuard = DnsGuardAction.Drop };
        var e = NewEngine(Site([.. Profile, HttpsTo("*.evil.example")], CameraMode.Monitor, drop));
        Resolve(e, longName, AnswerA(0x4242, longName, Evil), 0);
        Assert.Equal(longName, e.NameFor(SlotOf(e, "cam-1"), Ip(Evil)));

        Swap(e, Site([.. Profile, HttpsTo("*.evil.example")], CameraMode.Enforce, drop));
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Evil), 2).Reason);

        // Positive control: the same, with the guard reporting only (the query would have left), admits.
        Func<CameraSpec, CameraSpec> report = c => c with { DnsGuard = DnsGuardAction.Report };
        e = NewEngine(Site([.. Profile, HttpsTo("*.evil.example")], CameraMode.Monitor, report));
        Resolve(e, longName, AnswerA(0x4242, longName, Evil), 0);
        Swap(e, Site([.. Profile, HttpsTo("*.evil.example")], CameraMode.Enforce, report));
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Evil), 2).Reason);
    }

    [Fact]
    public void Reload_ResolverNoLongerAdmitted_NameAdmitsNothing()
    {
        IReadOnlyList<RuleSpec> rules = [.. Profile, HttpsTo("*.evil.example")];
        var e = NewEngine(Site([.. rules, DnsTo(OwnResolver)]));
        Resolve(e, "cdn.evil.example", AnswerA(0x4242, "cdn.evil.example", Evil, ttl: Day), 0, OwnResolver);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41000), 2).Reason); // admitted while it may ask there

        // Reloaded with the same rules: still admitted (names survive a reload).
        Swap(e, Site([.. rules, DnsTo(OwnResolver)]));
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41001), 3).Reason);

        // Reloaded without that resolver: its answers admit nothing any more, and the flows they admitted are revoked.
        Swap(e, Site(rules));
        Assert.Equal(Reason.FlowRevoked, Uplink(e, Frames.Tcp(RouterMac, Cam1Mac, Evil, Cam1Ip, 443, 41001, TcpFlags.Syn | TcpFlags.Ack).ToArray(), 4).Reason);
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41002), 5).Reason);

        // Even when the resolver comes back: a mapping judged out stays out until an admitted answer teaches it again.
        Swap(e, Site([.. rules, DnsTo(OwnResolver)]));
        Assert.Equal(Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41003), 6).Reason);
        Resolve(e, "cdn.evil.example", AnswerA(0x4343, "cdn.evil.example", Evil), 10, OwnResolver, id: 0x4343);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41004), 12).Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reload_QueryFilterNoLongerAllowsTheQuestion_CnameTargetAdmitsNothing(bool alsoAllowsTheQuestion)
    {
        // The camera asked portal.other.example, an alias of cdn.evil.example: the target matches the rule, but what a
        // later filter judges is the question the camera sent.
        IReadOnlyList<RuleSpec> rules = [.. Profile, HttpsTo("*.evil.example")];
        var e = NewEngine(Site(rules));
        var answer = DnsWire.Response(0x4242, 2).Question("portal.other.example")
            .Cname("portal.other.example", "cdn.evil.example")
            .A("cdn.evil.example", Evil, Day)
            .ToArray();
        Resolve(e, "portal.other.example", answer, 0);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41000), 2).Reason);

        Swap(e, Site(rules, more: c => c with { DnsQueries = DnsQueryScope.Rules, DnsAlso = alsoAllowsTheQuestion ? ["portal.other.example"] : [] }));
        Assert.Equal(alsoAllowsTheQuestion ? Reason.RuleMatch : Reason.NoRuleMatched, Camera(e, Syn(Cam1, Cam1Ip, Evil, cameraPort: 41001), 3).Reason);
    }

    [Fact]
    public void Snapshot_SaysWhichMappingsAdmit()
    {
        var e = NewEngine(Site(Profile, CameraMode.Learn));
        Resolve(e, "cdn.evil.example", AnswerA(0x4242, "cdn.evil.example", Evil), 0, OwnResolver);
        Resolve(e, "time.vendor.example", AnswerA(0x4343, "time.vendor.example", "203.0.113.10"), 0, id: 0x4343, port: 40001);

        var names = e.DnsNames.Snapshot(2).ToDictionary(n => n.Name);
        Assert.Null(names["cdn.evil.example"].AdmitsRemainingMs);
        Assert.Null(names["cdn.evil.example"].Question);
        var admitted = names["time.vendor.example"];
        Assert.True(admitted.AdmitsRemainingMs > 0);
        Assert.Equal(admitted.RemainingMs, admitted.AdmitsRemainingMs);
        Assert.Equal(Ip(DnsIp), admitted.Resolver);
        Assert.Equal(IpProtocols.Udp, admitted.Protocol);
        Assert.Equal("time.vendor.example", admitted.Question);
    }

    [Fact]
    public void NameRuleAfterEveryReload_JudgedAgain_AllocatesNothing()
    {
        // Every round swaps in a new policy version (compiled beforehand: compiling allocates, off the data path) and opens
        // a connection by name, so each round judges the learned mapping again (resolver rule, question) and recomputes
        // the name's rule mask before admitting.
        IReadOnlyList<RuleSpec> rules = [.. Profile, HttpsTo("*.evil.example")];
        Func<CameraSpec, CameraSpec> restricted = c => c with { DnsQueries = DnsQueryScope.Rules };
        var e = NewEngine(Site(rules, more: restricted));
        Resolve(e, "cdn.evil.example", AnswerA(0x4242, "cdn.evil.example", Evil, ttl: Day), 0);
        const int Warmup = 20, PerWindow = 100, Windows = 3;
        var policies = new CompiledPolicy[Warmup + (PerWindow * Windows)];
        for (var i = 0; i < policies.Length; i++)
        {
            policies[i] = CompiledPolicy.Compile(Site(rules, more: restricted), e.Policies.NextVersion(), e.Policies.Slots);
        }

        var syns = new byte[policies.Length][];
        for (var i = 0; i < syns.Length; i++)
        {
            syns[i] = Syn(Cam1, Cam1Ip, Evil, cameraPort: (ushort)(20_000 + i));
        }

        var matched = 0;
        var windows = Appliance.TestSupport.AllocationWindows.Measure(
            round =>
            {
                e.Policies.Swap(policies[round - 1]);
                matched += e.ProcessFrame(syns[round - 1], Side.Camera, 10 + round).Reason == Reason.RuleMatch ? 1 : 0;
            },
            Warmup,
            PerWindow,
            Windows);

        Assert.True(windows[^1] == 0, Appliance.TestSupport.AllocationWindows.Describe(windows));
        Assert.Equal(Warmup + (PerWindow * windows.Count), matched); // every round admitted by name, under its own version
    }

    private static IpAddr Ip(string address) => IpAddr.FromIPAddress(System.Net.IPAddress.Parse(address));
}
