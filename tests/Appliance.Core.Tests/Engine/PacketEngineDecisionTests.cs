using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>One frame into a fresh engine: identity, spoofing, special cases and rule lookups, as raw frames.</summary>
public class PacketEngineDecisionTests
{
    private static readonly MacAddress AllHostsV6Mac = Frames.Mac("33:33:ff:00:00:10");
    private static readonly MacAddress SsdpMac = Frames.Mac("01:00:5e:7f:ff:fa");
    private static readonly MacAddress AllNodesV6Mac = Frames.Mac("33:33:00:00:00:01");

    public static TheoryData<string, Side, byte[], Reason, bool> CameraSideCases => new()
    {
        // comment, side, frame, expected reason, expected pass
        { "bound camera opens an allowed TCP connection", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.RuleMatch, true },
        { "second port range of the same rule", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 8005, TcpFlags.Syn).ToArray(), Reason.RuleMatch, true },
        { "allowed port, peer outside the rule's network", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, InternetIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, false },
        { "allowed peer, port just past the range", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 8011, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, false },
        { "ingress-only rule does not open egress", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 554, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, false },
        { "allowed UDP datagram", Side.Camera, Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 5000, 53).ToArray(), Reason.RuleMatch, true },
        { "UDP to a TCP-only port", Side.Camera, Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 5000, 443).ToArray(), Reason.NoRuleMatched, false },
        { "camera MAC with an address it does not own", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, "10.0.0.50", NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.MacSpoof, false },
        { "camera MAC with another camera's address", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam2Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.IpSpoof, false },
        { "camera address behind a foreign MAC", Side.Camera, Frames.Tcp(UnknownMac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.IpSpoof, false },
        { "device that is not listed", Side.Camera, Frames.Tcp(UnknownMac, RouterMac, UnknownIp, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.UnknownDevice, false },
        { "camera listed by address alone, any MAC", Side.Camera, Frames.Tcp(UnknownMac, RouterMac, Cam3Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.RuleMatch, true },
        { "camera listed by MAC alone, any address", Side.Camera, Frames.Tcp(Cam4Mac, RouterMac, "10.0.0.77", NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.RuleMatch, true },
        { "camera to camera through the bridge", Side.Camera, Frames.Tcp(Cam1Mac, Cam2Mac, Cam1Ip, Cam2Ip, 40000, 443, TcpFlags.Syn).ToArray(), Reason.NotForCamera, false },
        { "ACK without a flow", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Ack).ToArray(), Reason.TcpStateBypass, false },
        { "data without a flow", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Ack | TcpFlags.Psh).Payload(1, 2, 3).ToArray(), Reason.TcpStateBypass, false },
        { "SYN+FIN never opens anything", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn | TcpFlags.Fin).ToArray(), Reason.TcpBadFlags, false },
        { "echo reply nobody asked for", Side.Camera, Frames.Echo(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 7, reply: true).ToArray(), Reason.UnsolicitedReply, false },
        { "IPv6 from a camera without IPv6", Side.Camera, Frames.Tcp(Cam1Mac, RouterMac, "fe80::1", "fe80::2", 40000, 443, TcpFlags.Syn).ToArray(), Reason.Ipv6Disabled, false },
        { "IPv6 opener, rule lists IPv4 peers only", Side.Camera, Frames.Tcp(Cam5Mac, RouterMac, Cam5Ip6, NvrIp6, 40000, 443, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, false },
        { "DHCP discover from 0.0.0.0, known MAC", Side.Camera, Frames.Udp(Cam1Mac, MacAddress.Broadcast, "0.0.0.0", "255.255.255.255", 68, 67).ToArray(), Reason.DhcpAllowed, true },
        { "DHCP discover from an unknown MAC", Side.Camera, Frames.Udp(UnknownMac, MacAddress.Broadcast, "0.0.0.0", "255.255.255.255", 68, 67).ToArray(), Reason.UnknownDevice, false },
        { "DHCP from a camera without DHCP", Side.Camera, Frames.Udp(UnknownMac, MacAddress.Broadcast, Cam3Ip, "255.255.255.255", 68, 67).ToArray(), Reason.DhcpBlocked, false },
        { "WS-Discovery hello, allowed", Side.Camera, Frames.Udp(Cam5Mac, SsdpMac, Cam5Ip, "239.255.255.250", 3702, 3702).ToArray(), Reason.DiscoveryAllowed, true },
        { "SSDP from a camera without discovery", Side.Camera, Frames.Udp(Cam1Mac, SsdpMac, Cam1Ip, "239.255.255.250", 1900, 1900).ToArray(), Reason.DiscoveryBlocked, false },
        { "other broadcast", Side.Camera, Frames.Udp(Cam1Mac, MacAddress.Broadcast, Cam1Ip, "255.255.255.255", 9999, 9999).ToArray(), Reason.BroadcastBlocked, false },
        { "neighbour solicitation, hop limit 255", Side.Camera, FrameBuilder.Ethernet(Cam5Mac, AllHostsV6Mac).Ipv6(Cam5Ip6, "ff02::1:ff00:10").Ttl(255).Icmp(135).Payload(new byte[20]).ToArray(), Reason.NeighborDiscoveryAllowed, true },
        { "neighbour solicitation routed (hop limit 64) is not ND", Side.Camera, FrameBuilder.Ethernet(Cam5Mac, AllHostsV6Mac).Ipv6(Cam5Ip6, "ff02::1:ff00:10").Ttl(64).Icmp(135).Payload(new byte[20]).ToArray(), Reason.BroadcastBlocked, false },
        { "neighbour solicitation from link-local", Side.Camera, FrameBuilder.Ethernet(Cam5Mac, AllHostsV6Mac).Ipv6("fe80::5", "ff02::1:ff00:10").Ttl(255).Icmp(135).Payload(new byte[20]).ToArray(), Reason.NeighborDiscoveryAllowed, true },
        { "monitored camera, would-be drop passes", Side.Camera, Frames.Tcp(Cam6Mac, RouterMac, Cam6Ip, InternetIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, true },
        { "monitored camera, spoof passes too", Side.Camera, Frames.Tcp(Cam6Mac, RouterMac, "10.0.0.66", NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Reason.MacSpoof, true },
        { "DHCP port pair unicast to an internet host is no DHCP pass (exfiltration)", Side.Camera, Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, InternetIp, 68, 67).Payload(new byte[64]).ToArray(), Reason.NoRuleMatched, false },
        { "DHCP port pair to another camera", Side.Camera, Frames.Udp(Cam1Mac, Cam2Mac, Cam1Ip, Cam2Ip, 68, 67).ToArray(), Reason.NotForCamera, false },
        { "router advertisement from a camera (rogue router)", Side.Camera, FrameBuilder.Ethernet(Cam5Mac, AllNodesV6Mac).Ipv6("fe80::5", "ff02::1").Ttl(255).Icmp(134).Payload(new byte[8]).ToArray(), Reason.RouterGuard, false },
        { "redirect from a camera", Side.Camera, FrameBuilder.Ethernet(Cam5Mac, NvrMac).Ipv6("fe80::5", "fe80::10").Ttl(255).Icmp(137).Payload(new byte[32]).ToArray(), Reason.RouterGuard, false },
        { "neighbour advertisement from a camera still passes", Side.Camera, FrameBuilder.Ethernet(Cam5Mac, NvrMac).Ipv6(Cam5Ip6, NvrIp6).Ttl(255).Icmp(136).Payload(new byte[20]).ToArray(), Reason.NeighborDiscoveryAllowed, true },
    };

    public static TheoryData<string, Side, byte[], Reason, bool> UplinkSideCases => new()
    {
        { "NVR opens RTSP to the camera", Side.Uplink, Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 50000, 554, TcpFlags.Syn).ToArray(), Reason.RuleMatch, true },
        { "NVR opens another port", Side.Uplink, Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 50000, 80, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, false },
        { "internet host opens RTSP", Side.Uplink, Frames.Tcp(RouterMac, Cam1Mac, InternetIp, Cam1Ip, 50000, 554, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, false },
        { "NVR over IPv6 to a dual-stack camera", Side.Uplink, Frames.Tcp(NvrMac, Cam5Mac, NvrIp6, Cam5Ip6, 50000, 554, TcpFlags.Syn).ToArray(), Reason.RuleMatch, true },
        { "SYN-ACK without a SYN", Side.Uplink, Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 443, 40000, TcpFlags.Syn | TcpFlags.Ack).ToArray(), Reason.TcpStateBypass, false },
        { "uplink host using a camera's address", Side.Uplink, Frames.Tcp(UnknownMac, Cam2Mac, Cam1Ip, Cam2Ip, 50000, 554, TcpFlags.Syn).ToArray(), Reason.IpSpoof, false },
        { "uplink host using a camera's MAC", Side.Uplink, Frames.Tcp(Cam1Mac, Cam2Mac, NvrIp, Cam2Ip, 50000, 554, TcpFlags.Syn).ToArray(), Reason.MacSpoof, false },
        { "camera's address behind the wrong MAC", Side.Uplink, Frames.Tcp(NvrMac, RouterMac, NvrIp, Cam1Ip, 50000, 554, TcpFlags.Syn).ToArray(), Reason.IpSpoof, false },
        { "to a device that is not listed", Side.Uplink, Frames.Tcp(NvrMac, UnknownMac, NvrIp, UnknownIp, 50000, 554, TcpFlags.Syn).ToArray(), Reason.UnknownDevice, false },
        { "NVR pings the camera", Side.Uplink, Frames.Echo(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 9).ToArray(), Reason.RuleMatch, true },
        { "internet host pings the camera", Side.Uplink, Frames.Echo(RouterMac, Cam1Mac, InternetIp, Cam1Ip, 9).ToArray(), Reason.NoRuleMatched, false },
        { "NVR pings over IPv6", Side.Uplink, Frames.Echo(NvrMac, Cam5Mac, NvrIp6, Cam5Ip6, 9).ToArray(), Reason.RuleMatch, true },
        { "DHCP offer broadcast", Side.Uplink, Frames.Udp(RouterMac, MacAddress.Broadcast, RouterIp, "255.255.255.255", 67, 68).Payload(PacketEngineDhcpRaTests.Bootp(Cam1Mac)).ToArray(), Reason.DhcpAllowed, true },
        { "DHCP ack unicast to a camera without DHCP", Side.Uplink, Frames.Udp(RouterMac, UnknownMac, RouterIp, Cam3Ip, 67, 68).ToArray(), Reason.DhcpBlocked, false },
        { "WS-Discovery probe, some camera answers it", Side.Uplink, Frames.Udp(NvrMac, SsdpMac, NvrIp, "239.255.255.250", 40000, 3702).ToArray(), Reason.DiscoveryAllowed, true },
        { "SSDP search, no camera answers it", Side.Uplink, Frames.Udp(NvrMac, SsdpMac, NvrIp, "239.255.255.250", 40000, 1900).ToArray(), Reason.DiscoveryBlocked, false },
        { "other broadcast", Side.Uplink, Frames.Udp(NvrMac, MacAddress.Broadcast, NvrIp, "255.255.255.255", 40000, 9).ToArray(), Reason.BroadcastBlocked, false },
        { "monitored camera, would-be drop passes", Side.Uplink, Frames.Tcp(RouterMac, Cam6Mac, InternetIp, Cam6Ip, 50000, 23, TcpFlags.Syn).ToArray(), Reason.NoRuleMatched, true },
        { "DHCP port pair unicast from an internet host, camera asked nothing", Side.Uplink, Frames.Udp(RouterMac, Cam1Mac, InternetIp, Cam1Ip, 67, 68).Payload(new byte[64]).ToArray(), Reason.NoRuleMatched, false },
        { "DHCP port pair in a broadcast frame to a camera's unicast address", Side.Uplink, Frames.Udp(RouterMac, MacAddress.Broadcast, InternetIp, Cam3Ip, 67, 68).ToArray(), Reason.BroadcastBlocked, false },
        { "neighbour discovery in a multicast frame to a unicast address", Side.Uplink, FrameBuilder.Ethernet(RouterMac, AllHostsV6Mac).Ipv6("fe80::1", "2001:db8::99").Ttl(255).Icmp(136).Payload(new byte[20]).ToArray(), Reason.BroadcastBlocked, false },
    };

    public static TheoryData<string, Side, byte[], Reason, bool> ArpCases => new()
    {
        { "camera asks for its gateway", Side.Camera, Frames.ArpRequest(Cam1Mac, Cam1Ip, RouterIp).ToArray(), Reason.ArpAllowed, true },
        { "RFC 5227 probe from a camera MAC", Side.Camera, Frames.ArpRequest(Cam1Mac, "0.0.0.0", Cam1Ip).ToArray(), Reason.ArpAllowed, true },
        { "camera MAC claims another address", Side.Camera, Frames.ArpRequest(Cam1Mac, "10.0.0.50", RouterIp).ToArray(), Reason.ArpSpoof, false },
        { "camera MAC claims another camera's address", Side.Camera, Frames.ArpRequest(Cam1Mac, Cam2Ip, RouterIp).ToArray(), Reason.ArpSpoof, false },
        { "gratuitous ARP from a stranger for a camera's address", Side.Camera, Frames.ArpRequest(UnknownMac, Cam1Ip, Cam1Ip).ToArray(), Reason.ArpSpoof, false },
        { "Ethernet source differs from the ARP sender", Side.Camera, FrameBuilder.Ethernet(UnknownMac, MacAddress.Broadcast).ArpRequest(Cam1Mac, Cam1Ip, RouterIp).ToArray(), Reason.ArpSpoof, false },
        { "camera without ARP", Side.Camera, Frames.ArpRequest(UnknownMac, Cam3Ip, RouterIp).ToArray(), Reason.ArpBlocked, false },
        { "device that is not listed", Side.Camera, Frames.ArpRequest(UnknownMac, UnknownIp, RouterIp).ToArray(), Reason.UnknownDevice, false },
        { "gateway asks for a camera", Side.Uplink, Frames.ArpRequest(RouterMac, RouterIp, Cam1Ip).ToArray(), Reason.ArpAllowed, true },
        { "gateway replies to a camera", Side.Uplink, Frames.ArpReply(RouterMac, RouterIp, Cam1Mac, Cam1Ip).ToArray(), Reason.ArpAllowed, true },
        { "reply to a camera's address, wrong target MAC", Side.Uplink, Frames.ArpReply(RouterMac, RouterIp, UnknownMac, Cam1Ip).ToArray(), Reason.ArpSpoof, false },
        { "uplink host claims a camera's address", Side.Uplink, Frames.ArpReply(UnknownMac, Cam1Ip, RouterMac, RouterIp).ToArray(), Reason.ArpSpoof, false },
        { "uplink gratuitous ARP for a camera's address", Side.Uplink, Frames.ArpRequest(UnknownMac, Cam2Ip, Cam2Ip).ToArray(), Reason.ArpSpoof, false },
        { "asks for a device that is not listed", Side.Uplink, Frames.ArpRequest(RouterMac, RouterIp, UnknownIp).ToArray(), Reason.UnknownDevice, false },
        { "asks for a camera without ARP", Side.Uplink, Frames.ArpRequest(RouterMac, RouterIp, Cam3Ip).ToArray(), Reason.ArpBlocked, false },
    };

    [Theory]
    [MemberData(nameof(CameraSideCases))]
    [MemberData(nameof(UplinkSideCases))]
    [MemberData(nameof(ArpCases))]
    public void ProcessFrame_SingleFrame_DecidesAsTabled(string comment, Side side, byte[] frame, Reason reason, bool pass)
    {
        var engine = NewEngine();

        var verdict = engine.ProcessFrame(frame, side, nowMs: 1_000);

        Assert.True(reason == verdict.Reason, $"{comment}: expected {reason}, got {verdict.Reason}");
        Assert.Equal(pass, verdict.IsPass);
    }

    [Fact]
    public void ProcessFrame_RuleMatch_NamesTheRuleAndTheCamera()
    {
        var engine = NewEngine();

        var verdict = engine.ProcessFrame(Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 8001, TcpFlags.Syn).ToArray(), Side.Camera, 1);

        Assert.Equal("nvr-upload", engine.Policies.Current!.RuleIds[verdict.RuleIndex]);
        Assert.Equal(SlotOf(engine, "cam-1"), verdict.CameraSlot);
        Assert.False(verdict.Monitored);
    }

    [Fact]
    public void ProcessFrame_MonitoredCamera_FlagsVerdictAndReports()
    {
        var engine = NewEngine();

        var verdict = engine.ProcessFrame(Frames.Tcp(Cam6Mac, RouterMac, Cam6Ip, InternetIp, 40000, 443, TcpFlags.Syn).ToArray(), Side.Camera, 5);

        Assert.True(verdict.Monitored);
        Assert.True(engine.Events.TryRead(out var e));
        Assert.Equal(Reason.NoRuleMatched, e.Reason);
        Assert.True(e.Monitored);
        Assert.Equal(VerdictAction.Pass, e.Action);
        Assert.Equal(SlotOf(engine, "cam-6"), e.CameraSlot);
    }

    [Theory]
    [InlineData(UnknownDeviceMode.Deny, false)]   // unknown devices get nothing
    [InlineData(UnknownDeviceMode.Monitor, true)] // unknown devices pass and are reported
    public void ProcessFrame_UnknownDevice_FollowsSiteMode(UnknownDeviceMode mode, bool pass)
    {
        var engine = NewEngine(Spec(mode));

        var verdict = engine.ProcessFrame(Frames.Tcp(UnknownMac, RouterMac, UnknownIp, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Side.Camera, 1);

        Assert.Equal(Reason.UnknownDevice, verdict.Reason);
        Assert.Equal(pass, verdict.IsPass);
        Assert.Equal(pass, verdict.Monitored);
        Assert.True(engine.Events.TryRead(out var e));
        Assert.Equal(Reason.UnknownDevice, e.Reason);
    }

    [Fact]
    public void ProcessFrame_NoPolicy_DropsEverything()
    {
        var engine = new Appliance.Core.Engine.PacketEngine(new PolicyHolder());

        var verdict = engine.ProcessFrame(Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Side.Camera, 1);

        Assert.Equal(Reason.NoPolicy, verdict.Reason);
        Assert.False(verdict.IsPass);
        Assert.Equal(1, engine.Counters.ForReason(Reason.NoPolicy));
    }

    [Fact]
    public void ProcessFrame_Malformed_DroppedWithParserReasonAndCounted()
    {
        var engine = NewEngine();
        var frame = Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray();

        var verdict = engine.ProcessFrame(frame.AsSpan(0, 20), Side.Camera, 1);

        Assert.False(verdict.IsPass);
        Assert.True(ReasonNames.IsMalformed(verdict.Reason), verdict.Reason.ToString());
        Assert.Equal(1, engine.Counters.ForReason(verdict.Reason));
        Assert.True(engine.Events.TryRead(out var e));
        Assert.Equal(verdict.Reason, e.Reason);
    }

    [Fact]
    public void ProcessPacket_L3_IdentifiesCameraByAddressAlone()
    {
        var engine = NewEngine();

        var egress = engine.ProcessPacket(Frames.Ip(Cam1Ip, NvrIp).Tcp(40000, 443, TcpFlags.Syn).ToArray(), Side.Camera, 1);
        var ingress = engine.ProcessPacket(Frames.Ip(NvrIp, Cam2Ip).Tcp(50000, 554, TcpFlags.Syn).ToArray(), Side.Uplink, 1);
        var spoofFromUplink = engine.ProcessPacket(Frames.Ip(Cam1Ip, Cam2Ip).Tcp(50000, 554, TcpFlags.Syn).ToArray(), Side.Uplink, 1);

        Assert.Equal(Reason.RuleMatch, egress.Reason);
        Assert.Equal(SlotOf(engine, "cam-1"), egress.CameraSlot);
        Assert.Equal(Reason.RuleMatch, ingress.Reason);
        Assert.Equal(SlotOf(engine, "cam-2"), ingress.CameraSlot);
        Assert.Equal(Reason.IpSpoof, spoofFromUplink.Reason);
    }

    [Fact]
    public void ProcessFrame_Vlan_DecidesInnerFrame()
    {
        var engine = NewEngine();
        var frame = FrameBuilder.Ethernet(Cam1Mac, RouterMac).QinQ(100, 200).Ipv4(Cam1Ip, NvrIp).Tcp(40000, 443, TcpFlags.Syn).ToArray();

        var verdict = engine.ProcessFrame(frame, Side.Camera, 1);

        Assert.Equal(Reason.RuleMatch, verdict.Reason);
        var flow = Assert.Single(engine.Flows.Snapshot(1));
        Assert.Equal(100, flow.OuterVlan);
        Assert.Equal(200, flow.InnerVlan);
    }

    [Fact]
    public void ProcessFrame_LoggedRule_WritesLoggedMatchEvent()
    {
        var engine = NewEngine();

        engine.ProcessFrame(Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Side.Camera, 1);
        engine.ProcessFrame(Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 5000, 53).ToArray(), Side.Camera, 1); // not logged

        Assert.True(engine.Events.TryRead(out var e));
        Assert.True(e.IsLoggedMatch);
        Assert.Equal(VerdictAction.Pass, e.Action);
        Assert.Equal("nvr-upload", engine.Policies.Current!.RuleIds[e.RuleIndex]);
        Assert.Equal(443, e.DestinationPort);
        Assert.False(engine.Events.TryRead(out _));
    }

    [Fact]
    public void Counters_PerCameraAndReason_CountFramesAndBytes()
    {
        var engine = NewEngine();
        var pass = Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 5000, 53).ToArray();
        var drop = Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, InternetIp, 40000, 443, TcpFlags.Syn).ToArray();

        engine.ProcessFrame(pass, Side.Camera, 10);
        engine.ProcessFrame(drop, Side.Camera, 20);
        engine.ProcessFrame(drop, Side.Camera, 30);

        var c = engine.Counters.ForCamera(SlotOf(engine, "cam-1"));
        Assert.Equal(1, c.FramesPassed);
        Assert.Equal(pass.Length, c.BytesPassed);
        Assert.Equal(2, c.FramesDropped);
        Assert.Equal(2L * drop.Length, c.BytesDropped);
        Assert.Equal(30, c.LastSeenMs);
        Assert.Equal(1, engine.Counters.ForReason(Reason.RuleMatch));
        Assert.Equal(2, engine.Counters.ForReason(Reason.NoRuleMatched));
        Assert.Equal(3, engine.Counters.FramesTotal);
        Assert.Equal(2, engine.Events.Count); // both drops reported, the unlogged match not
    }
}
