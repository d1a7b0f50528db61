using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// DNS over TLS/QUIC (853) and known DNS-over-HTTPS resolvers are refused unless a rule says <c>encrypted_dns: true</c>
/// (issue 15): a camera with a wide HTTPS rule must not take its questions past the site resolver. Raw frames.
/// </summary>
public class PacketEngineEncryptedDnsTests
{
    private static readonly string Cam1 = Cam1Mac.ToString();

    /// <summary>cam-1 may open TCP/UDP 443 and 853 to anywhere (the kind of rule a cloud camera gets).</summary>
    private static PacketEngine Engine(bool encryptedDns = false, IReadOnlyList<string>? doh = null, CameraMode mode = CameraMode.Enforce)
    {
        IReadOnlyList<RuleSpec> rules =
        [
            .. Profile,
            Rule("cloud", Direction.Egress, RuleProtocol.Any, [new(443, 443), new(853, 853)], [], ["0.0.0.0/0", "::/0"]) with { EncryptedDns = encryptedDns },
        ];
        var spec = Spec(rules: rules, edit: c => c.Name == "cam-1" ? c with { Mode = mode } : c);
        return NewEngine(spec with { Site = spec.Site with { DohResolvers = doh ?? SiteSpec.DefaultDohResolvers } });
    }

    private static byte[] Udp(string peer, ushort port) => Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, peer, 41000, port).Payload(1, 2, 3).ToArray();

    private static Verdict Camera(PacketEngine e, byte[] frame, long now = 0) => e.ProcessFrame(frame, Side.Camera, now);

    [Theory]
    [InlineData("1.1.1.1", 853, "DoT to a public resolver")]
    [InlineData("198.51.100.7", 853, "DoT to any address")]
    [InlineData("1.1.1.1", 443, "DoH to Cloudflare")]
    [InlineData("8.8.4.4", 443, "DoH to Google")]
    [InlineData("9.9.9.9", 443, "DoH to Quad9")]
    public void TcpOpener_ToEncryptedDns_Refused(string peer, ushort port, string what)
    {
        var e = Engine();
        var v = Camera(e, Syn(Cam1, Cam1Ip, peer, port));

        Assert.True(v.Action == VerdictAction.Drop, what);
        Assert.Equal(Reason.EncryptedDnsRefused, v.Reason);
        Assert.Equal("cloud", e.Policies.Current!.RuleIds[v.RuleIndex]); // the rule that matched, named in the event
        Assert.True(e.Events.TryRead(out var ev));
        Assert.Equal(Reason.EncryptedDnsRefused, ev.Reason);
        Assert.Equal(0, e.Flows.Count);

        // Positive control: the same rule opens HTTPS to an address that is no DoH resolver.
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.9", 443), 1).Reason);
    }

    [Fact]
    public void IPv6Opener_ToDohResolver_Refused()
    {
        var e = Engine();
        var frame = Frames.Tcp(Cam5Mac, RouterMac, Cam5Ip6, "2606:4700:4700::1111", 41000, 443, TcpFlags.Syn).ToArray();
        Assert.Equal(Reason.EncryptedDnsRefused, Camera(e, frame).Reason);
    }

    [Theory]
    [InlineData("8.8.8.8", 443)] // DoH over HTTP/3
    [InlineData("198.51.100.7", 853)] // DoQ
    public void UdpOpener_ToEncryptedDns_Refused(string peer, ushort port)
    {
        var e = Engine();
        Assert.Equal(Reason.EncryptedDnsRefused, Camera(e, Udp(peer, port)).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Udp("203.0.113.9", 443)).Reason); // positive control
    }

    [Fact]
    public void DohByName_TheCamerasOwnAnswerMapsAListedNameToTheAddress_Refused()
    {
        var e = Engine();
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, 40000, 5, "dns.google")).Reason);
        Assert.True(e.ProcessFrame(Answer(Cam1, Cam1Ip, 40000, 5, AnswerA(5, "dns.google", "203.0.113.77")), Side.Uplink, 1).IsPass);
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, 40001, 6, "dot.cloudflare-dns.com")).Reason);
        Assert.True(e.ProcessFrame(Answer(Cam1, Cam1Ip, 40001, 6, AnswerA(6, "dot.cloudflare-dns.com", "203.0.113.78")), Side.Uplink, 1).IsPass);

        Assert.Equal(Reason.EncryptedDnsRefused, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.77", 443), 2).Reason);
        Assert.Equal(Reason.EncryptedDnsRefused, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.78", 443), 3).Reason); // a wildcard
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "203.0.113.79", 443), 4).Reason);

        // Another camera never learned the name: the address is just an address to it.
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam2Mac.ToString(), Cam2Ip, "203.0.113.77", 443), 5).Reason);
    }

    [Fact]
    public void RuleWithEncryptedDns_AdmitsThem()
    {
        var e = Engine(encryptedDns: true);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "1.1.1.1", 853)).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "1.1.1.1", 443, cameraPort: 41001), 1).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Udp("8.8.8.8", 443), 2).Reason);
    }

    [Fact]
    public void SiteList_Replaced_OnlyItsEntriesCount_Port853Always()
    {
        var e = Engine(doh: ["198.51.100.53", "doh.site.example"]);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "1.1.1.1", 443)).Reason);
        Assert.Equal(Reason.EncryptedDnsRefused, Camera(e, Syn(Cam1, Cam1Ip, "198.51.100.53", 443, cameraPort: 41001), 1).Reason);
        Assert.Equal(Reason.EncryptedDnsRefused, Camera(e, Syn(Cam1, Cam1Ip, "1.1.1.1", 853, cameraPort: 41002), 2).Reason);

        var none = Engine(doh: []);
        Assert.Equal(Reason.RuleMatch, Camera(none, Syn(Cam1, Cam1Ip, "8.8.8.8", 443)).Reason);
    }

    [Fact]
    public void MonitoredCamera_PassesAndIsReported()
    {
        var e = Engine(mode: CameraMode.Monitor);
        var v = Camera(e, Syn(Cam1, Cam1Ip, "1.1.1.1", 853));
        Assert.Equal(Reason.EncryptedDnsRefused, v.Reason);
        Assert.True(v.Monitored);
        Assert.True(v.IsPass);
    }

    [Theory]
    [InlineData("1.1.1.1", 853, "DoT")]
    [InlineData("8.8.8.8", 443, "DoH to Google")]
    public void Reload_RuleLosesEncryptedDns_RevokesTheFlowItAdmitted(string peer, ushort port, string what)
    {
        // A flow admitted under `encrypted_dns: true` is judged again after the reload like an opener: without the flag
        // the same rule no longer admits it. (Before, only openers were judged: the DoH stream outlived the reload.)
        var e = Engine(encryptedDns: true);
        byte[] Out(TcpFlags flags, string to) => Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, to, 41000, port, flags).ToArray();
        byte[] In(TcpFlags flags, string from) => Frames.Tcp(RouterMac, Cam1Mac, from, Cam1Ip, port, 41000, flags).ToArray();
        foreach (var to in new[] { peer, "203.0.113.9" })
        {
            Assert.Equal(Reason.RuleMatch, Camera(e, Out(TcpFlags.Syn, to), 0).Reason);
            Assert.Equal(Reason.EstablishedFlow, e.ProcessFrame(In(TcpFlags.Syn | TcpFlags.Ack, to), Side.Uplink, 1).Reason);
            Assert.Equal(Reason.EstablishedFlow, Camera(e, Out(TcpFlags.Ack, to), 2).Reason);
        }

        Swap(e, Spec(rules: [.. Profile, Rule("cloud", Direction.Egress, RuleProtocol.Any, [new(443, 443), new(853, 853)], [], ["0.0.0.0/0", "::/0"])]));

        Assert.Equal(Reason.FlowRevoked, e.ProcessFrame(In(TcpFlags.Ack | TcpFlags.Psh, peer), Side.Uplink, 3).Reason);
        Assert.Equal(Reason.EncryptedDnsRefused, Camera(e, Out(TcpFlags.Syn, peer), 4).Reason);

        // Positive control: the same rule's flow to an address that is no resolver lives on (when 443 is the port).
        var other = e.ProcessFrame(In(TcpFlags.Ack | TcpFlags.Psh, "203.0.113.9"), Side.Uplink, 5).Reason;
        Assert.True(port == 853 ? other == Reason.FlowRevoked : other == Reason.EstablishedFlow, $"{what}: {other}");
    }

    [Fact]
    public void Reload_MonitoredCamera_EncryptedDnsFlowPassesAsAWouldBeDrop()
    {
        var e = Engine(encryptedDns: true, mode: CameraMode.Monitor);
        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, "1.1.1.1", 853)).Reason);
        Assert.Equal(Reason.EstablishedFlow, e.ProcessFrame(Frames.Tcp(RouterMac, Cam1Mac, "1.1.1.1", Cam1Ip, 853, 41000, TcpFlags.Syn | TcpFlags.Ack).ToArray(), Side.Uplink, 1).Reason);

        var rules = (IReadOnlyList<RuleSpec>)[.. Profile, Rule("cloud", Direction.Egress, RuleProtocol.Any, [new(443, 443), new(853, 853)], [], ["0.0.0.0/0", "::/0"])];
        Swap(e, Spec(rules: rules, edit: c => c.Name == "cam-1" ? c with { Mode = CameraMode.Monitor } : c));

        Assert.True(Camera(e, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, "1.1.1.1", 41000, 853, TcpFlags.Ack).ToArray(), 2).IsPass);
        Assert.Equal(1, e.Flows.Count);
        Assert.True(e.Flows.Snapshot(2).Single().Monitored);
    }

    [Fact]
    public void IngressTo853_NotAffected()
    {
        // The rule is about the camera asking; an ingress rule to a camera's port 853 is whatever the site says.
        IReadOnlyList<RuleSpec> rules = [.. Profile, Rule("in", Direction.Ingress, RuleProtocol.Tcp, [new(853, 853)], [], ["0.0.0.0/0"])];
        var e = NewEngine(Spec(rules: rules));
        var syn = Frames.Tcp(RouterMac, Cam1Mac, "1.1.1.1", Cam1Ip, 41000, 853, TcpFlags.Syn).ToArray();
        Assert.Equal(Reason.RuleMatch, e.ProcessFrame(syn, Side.Uplink, 0).Reason);
    }
}
