using System.Net;
using Appliance.Core.Engine;
using Appliance.Core.Flows;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>Connection tracking through the engine: every TCP transition and timeout, pseudo-flows, related ICMP
/// errors, fragments, revocation, a full table and quotas. The clock is the nowMs argument.</summary>
public class PacketEngineFlowTests
{
    private static readonly EngineOptions Options = new();
    private static readonly long HalfOpen = (long)Options.TcpHalfOpenTimeout.TotalMilliseconds;
    private static readonly long Established = (long)Options.TcpEstablishedTimeout.TotalMilliseconds;
    private static readonly long Closing = (long)Options.TcpClosingTimeout.TotalMilliseconds;
    private static readonly long Udp = (long)Options.UdpTimeout.TotalMilliseconds;
    private static readonly long Icmp = (long)Options.IcmpTimeout.TotalMilliseconds;

    // cam-1 -> NVR:443 (egress rule nvr-upload) and the NVR's answers.
    private static byte[] Out(TcpFlags flags, ushort cameraPort = 40000) => Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, cameraPort, 443, flags).ToArray();

    private static byte[] In(TcpFlags flags, ushort cameraPort = 40000) => Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 443, cameraPort, flags).ToArray();

    private static Verdict Camera(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Camera, now);

    private static Verdict Uplink(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Uplink, now);

    private static FlowState StateOf(PacketEngine e, long now) => Assert.Single(e.Flows.Snapshot(now)).State;

    [Fact]
    public void Tcp_FullHandshakeAndClose_WalksEveryState()
    {
        var e = NewEngine();

        Assert.Equal(Reason.RuleMatch, Camera(e, Out(TcpFlags.Syn), 0).Reason);
        Assert.Equal(FlowState.SynSent, StateOf(e, 0));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), 1).Reason);
        Assert.Equal(FlowState.SynReceived, StateOf(e, 1));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Out(TcpFlags.Ack), 2).Reason);
        Assert.Equal(FlowState.Established, StateOf(e, 2));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack | TcpFlags.Psh), 3).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Out(TcpFlags.Fin | TcpFlags.Ack), 4).Reason);
        Assert.Equal(FlowState.FinWait, StateOf(e, 4));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Fin | TcpFlags.Ack), 5).Reason);
        Assert.Equal(FlowState.Closing, StateOf(e, 5));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Out(TcpFlags.Ack), 6).Reason);

        // Closing times out: the last ACK retransmitted after that is a bypass.
        Assert.Equal(Reason.TcpStateBypass, Camera(e, Out(TcpFlags.Ack), 6 + Closing + 1).Reason);
    }

    [Fact]
    public void Tcp_Rst_ClosesAndLaterDataIsBypass()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Rst | TcpFlags.Ack), 1).Reason); // connection refused
        Assert.Equal(FlowState.Closed, StateOf(e, 1));
        Assert.Equal(Reason.TcpStateBypass, Uplink(e, In(TcpFlags.Ack | TcpFlags.Psh), 2).Reason);
    }

    [Fact]
    public void Tcp_SynAfterClose_ReopensAfterFreshDecision()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);
        Uplink(e, In(TcpFlags.Rst | TcpFlags.Ack), 1);

        Assert.Equal(Reason.RuleMatch, Camera(e, Out(TcpFlags.Syn), 2).Reason);
        Assert.Equal(FlowState.SynSent, StateOf(e, 2));
    }

    [Theory]
    [InlineData(TcpFlags.Ack)]                          // opener ACKs before any SYN-ACK
    [InlineData(TcpFlags.Ack | TcpFlags.Psh)]           // opener sends data before the handshake
    public void Tcp_OpenerSegmentsBeforeSynAck_AreBypass(TcpFlags flags)
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);

        Assert.Equal(Reason.TcpStateBypass, Camera(e, Out(flags), 1).Reason);
    }

    [Fact]
    public void Tcp_ResponderDataBeforeSynAck_IsBypass()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);

        Assert.Equal(Reason.TcpStateBypass, Uplink(e, In(TcpFlags.Ack | TcpFlags.Psh), 1).Reason);
    }

    [Fact]
    public void Tcp_Retransmissions_PassInHalfOpenStates()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);

        Assert.Equal(Reason.EstablishedFlow, Camera(e, Out(TcpFlags.Syn), 1_000).Reason);
        Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), 1_001);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), 2_000).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Out(TcpFlags.Syn), 2_001).Reason);
    }

    [Fact]
    public void Tcp_HalfOpenTimeout_ExpiresTheSyn()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), HalfOpen - 1).Reason);
        Assert.Equal(Reason.TcpStateBypass, Camera(e, Out(TcpFlags.Ack), (2 * HalfOpen) - 1 + 1).Reason);
    }

    [Fact]
    public void Tcp_SynAckAfterHalfOpenTimeout_IsBypass()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);

        Assert.Equal(Reason.TcpStateBypass, Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), HalfOpen).Reason);
        Assert.Equal(0, e.Flows.Count); // the probe reclaimed it
    }

    [Fact]
    public void Tcp_EstablishedTimeout_RefreshedByTrafficThenExpires()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);
        Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), 1);
        Camera(e, Out(TcpFlags.Ack), 2);

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack), Established).Reason);           // 2 + timeout - 2: still alive
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack), (2 * Established) - 1).Reason); // refreshed by the last frame
        Assert.Equal(Reason.TcpStateBypass, Uplink(e, In(TcpFlags.Ack), (3 * Established) - 1).Reason);
    }

    [Fact]
    public void Tcp_IngressFlow_RepliesFromCameraPass()
    {
        var e = NewEngine();

        Assert.Equal(Reason.RuleMatch, Uplink(e, Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 50000, 554, TcpFlags.Syn).ToArray(), 0).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Frames.Tcp(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 554, 50000, TcpFlags.Syn | TcpFlags.Ack).ToArray(), 1).Reason);
        var flow = Assert.Single(e.Flows.Snapshot(1));
        Assert.Equal(Direction.Ingress, flow.Direction);
        Assert.Equal(554, flow.CameraPort);
        Assert.Equal(IpAddr.FromIPAddress(IPAddress.Parse(NvrIp)), flow.PeerAddress);
    }

    [Fact]
    public void Udp_PseudoFlow_RepliesPassUntilTimeout()
    {
        var e = NewEngine();
        var query = Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 5000, 53).ToArray();
        var answer = Frames.Udp(RouterMac, Cam1Mac, DnsIp, Cam1Ip, 53, 5000).ToArray();

        Assert.Equal(Reason.RuleMatch, Camera(e, query, 0).Reason);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, answer, Udp - 1).Reason);
        Assert.Equal(Reason.NoRuleMatched, Uplink(e, answer, (2 * Udp) - 1).Reason); // expired: an ingress opener now
    }

    [Fact]
    public void IcmpEcho_ReplyPassesOnceRequested_AndNotAfterTimeout()
    {
        var e = NewEngine();
        var request = Frames.Echo(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 77).ToArray();
        var reply = Frames.Echo(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 77, reply: true).ToArray();
        var otherId = Frames.Echo(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 78, reply: true).ToArray();

        Assert.Equal(Reason.RuleMatch, Uplink(e, request, 0).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, reply, 1).Reason);
        Assert.Equal(Reason.UnsolicitedReply, Camera(e, otherId, 2).Reason);
        Assert.Equal(Reason.UnsolicitedReply, Uplink(e, Frames.Echo(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 77, reply: true).ToArray(), 3).Reason); // reply from the requester's side
        Assert.Equal(Reason.UnsolicitedReply, Camera(e, reply, 1 + Icmp).Reason);
    }

    [Fact]
    public void IcmpError_QuotingTrackedFlow_PassesAsRelated()
    {
        var e = NewEngine();
        var syn = Frames.Ip(Cam1Ip, NvrIp).Tcp(40000, 443, TcpFlags.Syn);
        Camera(e, Out(TcpFlags.Syn), 0);

        // A router on the path: fragmentation needed (path MTU discovery), quoting the camera's SYN.
        var error = Frames.IcmpError(RouterMac, Cam1Mac, RouterIp, Cam1Ip, 3, 4, syn).ToArray();

        Assert.Equal(Reason.RelatedIcmpError, Uplink(e, error, 1).Reason);
    }

    [Fact]
    public void IcmpError_QuotingUntrackedTuple_IsUnrelated()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);
        var forged = Frames.IcmpError(RouterMac, Cam1Mac, RouterIp, Cam1Ip, 3, 4, Frames.Ip(Cam1Ip, NvrIp).Tcp(40001, 443, TcpFlags.Syn)).ToArray();

        Assert.Equal(Reason.IcmpErrorUnrelated, Uplink(e, forged, 1).Reason);
    }

    [Fact]
    public void IcmpError_OuterDestinationNotTheQuotedSource_IsUnrelated()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);

        // Quotes the tracked tuple but in the reverse orientation, sent to the camera: the camera never sent it.
        var reversed = Frames.IcmpError(RouterMac, Cam1Mac, RouterIp, Cam1Ip, 3, 1, Frames.Ip(NvrIp, Cam1Ip).Tcp(443, 40000, TcpFlags.Ack)).ToArray();

        Assert.Equal(Reason.IcmpErrorUnrelated, Uplink(e, reversed, 1).Reason);
    }

    [Fact]
    public void IcmpError_FromCameraAboutIngressFlow_PassesAsRelated()
    {
        var e = NewEngine();
        Uplink(e, Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 50000, 554, TcpFlags.Syn).ToArray(), 0);
        var quoted = Frames.Ip(NvrIp, Cam1Ip).Tcp(50000, 554, TcpFlags.Syn);

        Assert.Equal(Reason.RelatedIcmpError, Camera(e, Frames.IcmpError(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 3, 3, quoted).ToArray(), 1).Reason);
    }

    [Fact]
    public void IcmpError_QuotingEchoFlow_PassesAsRelated()
    {
        var e = NewEngine();
        Uplink(e, Frames.Echo(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 5).ToArray(), 0);
        var quoted = Frames.Ip(NvrIp, Cam1Ip).Echo(5);

        Assert.Equal(Reason.RelatedIcmpError, Camera(e, Frames.IcmpError(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 11, 0, quoted).ToArray(), 1).Reason);
    }

    [Fact]
    public void Fragments_LaterFragmentOfAllowedDatagram_PassesAndOrphanDrops()
    {
        var e = NewEngine();
        var first = FrameBuilder.Ethernet(Cam1Mac, RouterMac).Ipv4(Cam1Ip, DnsIp).Id(0x4242).Fragment(0, true).Udp(5000, 53).Payload(new byte[32]).ToArray();
        var later = FrameBuilder.Ethernet(Cam1Mac, RouterMac).Ipv4(Cam1Ip, DnsIp).Id(0x4242).Fragment(5, false).Protocol(17).Payload(new byte[16]).ToArray();
        var orphan = FrameBuilder.Ethernet(Cam1Mac, RouterMac).Ipv4(Cam1Ip, DnsIp).Id(0x4343).Fragment(5, false).Protocol(17).Payload(new byte[16]).ToArray();

        Assert.Equal(Reason.RuleMatch, Camera(e, first, 0).Reason);
        Assert.Equal(Reason.FragmentOfAllowed, Camera(e, later, 1).Reason);
        Assert.Equal(Reason.OrphanFragment, Camera(e, orphan, 2).Reason);
    }

    [Fact]
    public void Fragments_LaterFragmentOverlappingFirst_DropsItAndTheRestOfTheDatagram()
    {
        // RFC 5722 / RFC 1858 overlap with the TCP header behind a 40-byte destination-options header: the later
        // fragment (offset 40, next header TCP so it keys like the first) would land on the ports the decision read.
        var e = NewEngine();
        var first = FrameBuilder.Ethernet(NvrMac, Cam5Mac).Ipv6(NvrIp6, Cam5Ip6).FragmentHeader(0, true, 99).DestinationOptions(4)
            .Tcp(50000, 554, TcpFlags.Syn).Payload(new byte[4]).ToArray(); // 40 + 20 + 4 = 64 fragment bytes
        var overlapping = FrameBuilder.Ethernet(NvrMac, Cam5Mac).Ipv6(NvrIp6, Cam5Ip6).FragmentHeader(5, true, 99).Protocol(6).Payload(new byte[24]).ToArray();
        var next = FrameBuilder.Ethernet(NvrMac, Cam5Mac).Ipv6(NvrIp6, Cam5Ip6).FragmentHeader(8, false, 99).Protocol(6).Payload(new byte[16]).ToArray();

        Assert.Equal(Reason.RuleMatch, Uplink(e, first, 0).Reason);
        Assert.Equal(Reason.OverlappingFragment, Uplink(e, overlapping, 1).Reason);
        Assert.Equal(Reason.OrphanFragment, Uplink(e, next, 2).Reason);
    }

    [Fact]
    public void Fragments_LaterFragmentStartingWhereFirstEnded_Passes()
    {
        var e = NewEngine();
        var first = FrameBuilder.Ethernet(NvrMac, Cam5Mac).Ipv6(NvrIp6, Cam5Ip6).FragmentHeader(0, true, 98).DestinationOptions(4)
            .Tcp(50000, 554, TcpFlags.Syn).Payload(new byte[4]).ToArray();
        var next = FrameBuilder.Ethernet(NvrMac, Cam5Mac).Ipv6(NvrIp6, Cam5Ip6).FragmentHeader(8, false, 98).Protocol(6).Payload(new byte[16]).ToArray();

        Assert.Equal(Reason.RuleMatch, Uplink(e, first, 0).Reason);
        Assert.Equal(Reason.FragmentOfAllowed, Uplink(e, next, 1).Reason);
    }

    [Fact]
    public void Dhcp_UnicastReply_PassesOnlyWhileTheCameraIsAsking()
    {
        // A unicast 67->68 from the uplink is a channel into the camera unless the camera itself just asked.
        var e = NewEngine();
        var request = Frames.Udp(Cam1Mac, MacAddress.Broadcast, "0.0.0.0", "255.255.255.255", 68, 67).ToArray();
        var ack = Frames.Udp(RouterMac, Cam1Mac, RouterIp, Cam1Ip, 67, 68).Payload(PacketEngineDhcpRaTests.Bootp(Cam1Mac)).ToArray();

        Assert.Equal(Reason.NoRuleMatched, Uplink(e, ack, 0).Reason);
        Assert.Equal(Reason.DhcpAllowed, Camera(e, request, 1).Reason);
        Assert.Equal(Reason.DhcpAllowed, Uplink(e, ack, 2).Reason);
        Assert.Equal(Reason.NoRuleMatched, Uplink(e, ack, 2 + Udp + 1).Reason);
    }

    [Fact]
    public void Fragments_FirstFragmentDropped_LaterOnesAreOrphans()
    {
        var e = NewEngine();
        var first = FrameBuilder.Ethernet(Cam1Mac, RouterMac).Ipv4(Cam1Ip, InternetIp).Id(7).Fragment(0, true).Udp(5000, 9999).Payload(new byte[32]).ToArray();
        var later = FrameBuilder.Ethernet(Cam1Mac, RouterMac).Ipv4(Cam1Ip, InternetIp).Id(7).Fragment(5, false).Protocol(17).Payload(new byte[16]).ToArray();

        Assert.Equal(Reason.NoRuleMatched, Camera(e, first, 0).Reason);
        Assert.Equal(Reason.OrphanFragment, Camera(e, later, 1).Reason);
    }

    [Fact]
    public void Revocation_TightenedPolicy_DropsTheVeryNextFrameAndRemovesFlow()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);
        Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), 1);
        Camera(e, Out(TcpFlags.Ack), 2);

        Swap(e, Spec(rules: [.. Profile.Where(r => r.Id != "nvr-upload")]));

        Assert.Equal(Reason.FlowRevoked, Uplink(e, In(TcpFlags.Ack | TcpFlags.Psh), 3).Reason);
        Assert.Equal(0, e.Flows.Count);
        Assert.Equal(Reason.TcpStateBypass, Camera(e, Out(TcpFlags.Ack), 4).Reason);
    }

    [Fact]
    public void Revocation_PolicyStillAllows_StampsNewVersionAndPasses()
    {
        var e = NewEngine();
        Camera(e, Out(TcpFlags.Syn), 0);
        var next = Swap(e, Spec(rules: [.. Profile.Where(r => r.Id != "dns")]));

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack), 1).Reason);
        Assert.Equal(next.Version, Assert.Single(e.Flows.Snapshot(1)).PolicyVersion);
    }

    [Fact]
    public void Revocation_UdpAndEchoFlows_AreRecheckedToo()
    {
        var e = NewEngine();
        Camera(e, Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 5000, 53).ToArray(), 0);
        Uplink(e, Frames.Echo(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 3).ToArray(), 0);

        Swap(e, Spec(rules: [Profile[0]]));

        Assert.Equal(Reason.FlowRevoked, Uplink(e, Frames.Udp(RouterMac, Cam1Mac, DnsIp, Cam1Ip, 53, 5000).ToArray(), 1).Reason);
        Assert.Equal(Reason.FlowRevoked, Camera(e, Frames.Echo(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 3, reply: true).ToArray(), 1).Reason);
    }

    [Fact]
    public void TableFull_NewFlowsDroppedExistingKeepWorking()
    {
        var e = NewEngine(options: new EngineOptions { FlowCapacity = 16, DefaultFlowQuota = 1_000 });
        for (ushort port = 1; port <= 16; port++)
        {
            Camera(e, Out(TcpFlags.Syn, port), 0);
            Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack, port), 0);
            Camera(e, Out(TcpFlags.Ack, port), 0); // established: never evicted
        }

        var full = Camera(e, Out(TcpFlags.Syn, 100), 1);

        Assert.Equal(Reason.FlowTableFull, full.Reason);
        Assert.False(full.IsPass);
        Assert.Equal(1, e.Counters.ForReason(Reason.FlowTableFull));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack, 7), 2).Reason);
    }

    [Fact]
    public void TableFull_HalfOpenEvictedBeforeEstablished()
    {
        var e = NewEngine(options: new EngineOptions { FlowCapacity = 16, DefaultFlowQuota = 1_000 });
        for (ushort port = 1; port <= 8; port++)
        {
            Camera(e, Out(TcpFlags.Syn, port), 0);
            Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack, port), 0);
            Camera(e, Out(TcpFlags.Ack, port), 0);
        }

        for (ushort port = 101; port <= 108; port++)
        {
            Camera(e, Out(TcpFlags.Syn, port), 0); // half-open
        }

        for (ushort port = 201; port <= 208; port++)
        {
            Assert.Equal(Reason.RuleMatch, Camera(e, Out(TcpFlags.Syn, port), 1).Reason);
        }

        Assert.Equal(8, e.Flows.Evicted);
        for (ushort port = 1; port <= 8; port++)
        {
            Assert.Equal(Reason.EstablishedFlow, Uplink(e, In(TcpFlags.Ack, port), 2).Reason);
        }
    }

    [Fact]
    public void Quota_CameraAtItsQuota_GetsNoNewFlowsOthersDo()
    {
        // Established flows: half-open and closed ones would yield their places (see PacketEngineQuotaTests), and
        // one peer may hold the whole quota only with the per-peer share turned off.
        var spec = Spec(edit: c => c.Name == "cam-1" ? c with { FlowQuota = 3 } : c);
        var e = NewEngine(spec, new EngineOptions { PeerFlowSharePercent = 100 });
        for (ushort port = 1; port <= 3; port++)
        {
            Assert.Equal(Reason.RuleMatch, Camera(e, Out(TcpFlags.Syn, port), 0).Reason);
            Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack, port), 0);
            Camera(e, Out(TcpFlags.Ack, port), 0);
        }

        Assert.Equal(Reason.FlowQuotaExceeded, Camera(e, Out(TcpFlags.Syn, 4), 0).Reason);
        Assert.Equal(Reason.RuleMatch, Camera(e, Frames.Tcp(Cam2Mac, RouterMac, Cam2Ip, NvrIp, 4, 443, TcpFlags.Syn).ToArray(), 0).Reason);
        Assert.Equal(3, e.Flows.CountForCamera(SlotOf(e, "cam-1")));
    }

    [Fact]
    public void Quota_DefaultFromEngineOptions_Applies()
    {
        var e = NewEngine(options: new EngineOptions { DefaultFlowQuota = 2, PeerFlowSharePercent = 100 });
        for (ushort port = 1; port <= 2; port++)
        {
            Camera(e, Out(TcpFlags.Syn, port), 0);
            Uplink(e, In(TcpFlags.Syn | TcpFlags.Ack, port), 0);
            Camera(e, Out(TcpFlags.Ack, port), 0);
        }

        Assert.Equal(Reason.FlowQuotaExceeded, Camera(e, Out(TcpFlags.Syn, 3), 0).Reason);
    }

    [Fact]
    public void Maintain_ReclaimsExpiredFlowsIncrementally()
    {
        var e = NewEngine(options: new EngineOptions { FlowCapacity = 1_024, MaintenanceSlotsPerCall = 256 });
        for (ushort port = 1; port <= 100; port++)
        {
            Camera(e, Out(TcpFlags.Syn, port), 0);
        }

        Assert.Equal(0, e.Maintain(HalfOpen - 1)); // nothing has expired yet
        var reclaimed = 0;
        var calls = 0;
        while (e.Flows.Count > 0 && calls++ < 100)
        {
            reclaimed += e.Maintain(HalfOpen);
        }

        Assert.Equal(100, reclaimed);
        // About one sweep of the table in bounded slices (removals spend budget too), never all at once.
        Assert.InRange(calls, e.Flows.SlotCount / 256, (e.Flows.SlotCount / 256) + 1);
        Assert.Equal(0, e.Flows.CountForCamera(SlotOf(e, "cam-1")));
    }

    [Fact]
    public void MonitoredCamera_OpenerTrackedSoRepliesAreNotReported()
    {
        var e = NewEngine();
        var syn = Frames.Tcp(Cam6Mac, RouterMac, Cam6Ip, InternetIp, 40000, 443, TcpFlags.Syn).ToArray();
        var synAck = Frames.Tcp(RouterMac, Cam6Mac, InternetIp, Cam6Ip, 443, 40000, TcpFlags.Syn | TcpFlags.Ack).ToArray();

        Assert.True(Camera(e, syn, 0).Monitored);
        var reply = Uplink(e, synAck, 1);

        Assert.Equal(Reason.EstablishedFlow, reply.Reason);
        Assert.False(reply.Monitored);
        Assert.Equal(1, e.Events.Count);
        Assert.True(Assert.Single(e.Flows.Snapshot(1)).Monitored);
    }
    [Fact]
    public void IcmpV6PacketTooBig_QuotingTrackedFlow_PassesAsRelated()
    {
        // IPv6 path MTU discovery: routers never fragment, so a lost packet-too-big stalls the connection.
        var e = NewEngine();
        Uplink(e, Frames.Tcp(NvrMac, Cam5Mac, NvrIp6, Cam5Ip6, 50000, 554, TcpFlags.Syn).ToArray(), 0);
        var fromCamera = Frames.Ip(Cam5Ip6, NvrIp6).Tcp(554, 50000, TcpFlags.Syn | TcpFlags.Ack).Payload(new byte[64]);

        var tooBig = Frames.IcmpError(RouterMac, Cam5Mac, "2001:db8:ffff::1", Cam5Ip6, 2, 0, fromCamera).ToArray();
        var forged = Frames.IcmpError(RouterMac, Cam5Mac, "2001:db8:ffff::1", Cam5Ip6, 2, 0, Frames.Ip(Cam5Ip6, NvrIp6).Tcp(554, 50001, TcpFlags.Ack)).ToArray();

        Assert.Equal(Reason.RelatedIcmpError, Uplink(e, tooBig, 1).Reason);
        Assert.Equal(Reason.IcmpErrorUnrelated, Uplink(e, forged, 1).Reason);
    }

    [Fact]
    public void Flow_SameTupleOnAnotherVlan_IsNotTheSameFlow()
    {
        var e = NewEngine();
        Camera(e, FrameBuilder.Ethernet(Cam1Mac, RouterMac).Vlan(10).Ipv4(Cam1Ip, NvrIp).Tcp(40000, 443, TcpFlags.Syn).ToArray(), 0);

        var sameVlan = FrameBuilder.Ethernet(NvrMac, Cam1Mac).Vlan(10).Ipv4(NvrIp, Cam1Ip).Tcp(443, 40000, TcpFlags.Syn | TcpFlags.Ack).ToArray();
        var otherVlan = FrameBuilder.Ethernet(NvrMac, Cam1Mac).Vlan(20).Ipv4(NvrIp, Cam1Ip).Tcp(443, 40000, TcpFlags.Syn | TcpFlags.Ack).ToArray();

        Assert.Equal(Reason.TcpStateBypass, Uplink(e, otherVlan, 1).Reason);
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, sameVlan, 1).Reason);
    }
}
