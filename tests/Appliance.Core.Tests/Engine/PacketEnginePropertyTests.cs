using System.Net;
using Appliance.Core.Engine;
using Appliance.Core.Tests.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using FsCheck;
using FsCheck.Fluent;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Properties over random and mutated frames and random frame sequences: the engine never faults, never passes an
/// opener the policy (checked by the naive matcher) does not allow, and never lets a reply through without an
/// allowed opener before it.
/// </summary>
public class PacketEnginePropertyTests
{
    private static readonly EngineOptions Small = new() { FlowCapacity = 256, EventRingCapacity = 64 };

    private static readonly Reason[] StatelessPassReasons =
    [
        Reason.ArpAllowed, Reason.DhcpAllowed, Reason.DiscoveryAllowed, Reason.NeighborDiscoveryAllowed,
    ];

    private static byte[][] Corpus { get; } =
    [
        Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(),
        Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 443, 40000, TcpFlags.Syn | TcpFlags.Ack).ToArray(),
        Frames.Tcp(NvrMac, Cam5Mac, NvrIp6, Cam5Ip6, 50000, 554, TcpFlags.Syn).ToArray(),
        Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 5000, 53).ToArray(),
        Frames.Echo(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 9).ToArray(),
        Frames.ArpRequest(Cam1Mac, Cam1Ip, RouterIp).ToArray(),
        Frames.IcmpError(RouterMac, Cam1Mac, RouterIp, Cam1Ip, 3, 4, Frames.Ip(Cam1Ip, NvrIp).Tcp(40000, 443, TcpFlags.Syn)).ToArray(),
        FrameBuilder.Ethernet(Cam1Mac, RouterMac).Vlan(10).Ipv4(Cam1Ip, DnsIp).Id(5).Fragment(0, true).Udp(5000, 53).Payload(new byte[24]).ToArray(),
        FrameBuilder.Ethernet(Cam1Mac, RouterMac).Ipv4(Cam1Ip, DnsIp).Id(5).Fragment(4, false).Protocol(17).Payload(new byte[24]).ToArray(),
        FrameBuilder.Ethernet(Cam5Mac, Frames.Mac("33:33:ff:00:00:10")).Ipv6(Cam5Ip6, "ff02::1:ff00:10").Ttl(255).Icmp(135).Payload(new byte[20]).ToArray(),
    ];

    private static Gen<byte[]> Mutated =>
        from index in Gen.Choose(0, Corpus.Length - 1)
        from count in Gen.Choose(1, 4)
        from edits in Gen.ArrayOf(
            from position in Gen.Choose(0, 120)
            from value in Gen.Choose(0, 255)
            select (position, (byte)value),
            count)
        from cut in Gen.Elements(0, 0, 0, 1, 7, 30)
        select Apply(Corpus[index], edits, cut);

    private static byte[] Apply(byte[] frame, (int Position, byte Value)[] edits, int cut)
    {
        var bytes = (byte[])frame.Clone();
        foreach (var (position, value) in edits)
        {
            if (position < bytes.Length)
            {
                bytes[position] = value;
            }
        }

        return bytes[..Math.Max(0, bytes.Length - cut)];
    }

    private static Gen<byte[]> RandomBytes => Gen.Choose(0, 200).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));

    [Fact]
    public void ProcessFrame_RandomAndMutatedFrames_NeverFaultAndPassOnlyWhatPolicyAllows()
    {
        var engine = NewEngine(options: Small);
        var gen = from frame in Gen.OneOf(Mutated, Mutated, RandomBytes)
                  from side in Gen.Elements(Side.Camera, Side.Uplink)
                  from l3 in Gen.Elements(false, false, true)
                  select (frame, side, l3);
        long now = 0;
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(3_000), Prop.ForAll(Arb.From(gen), input =>
        {
            var (frame, side, l3) = input;
            now += 10;
            var verdict = l3 ? engine.ProcessPacket(frame, side, now) : engine.ProcessFrame(frame, side, now);
            Assert.NotEqual(Reason.EngineFault, verdict.Reason);
            if (!verdict.IsPass)
            {
                return;
            }

            var info = default(PacketInfo);
            Assert.True(l3 ? FrameParser.ParseIp(frame, out info) : FrameParser.ParseEthernet(frame, out info), "a malformed frame passed");
            if (verdict.Monitored)
            {
                Assert.Equal(SlotOf(engine, "cam-6"), verdict.CameraSlot); // the only monitored camera
                return;
            }

            if (verdict.Reason == Reason.RuleMatch)
            {
                AssertOpenerAllowed(engine, ref info, side, verdict);
                return;
            }

            Assert.True(
                StatelessPassReasons.Contains(verdict.Reason) || verdict.Reason is Reason.EstablishedFlow or Reason.RelatedIcmpError or Reason.FragmentOfAllowed,
                verdict.Reason.ToString());
        }));
    }

    private static void AssertOpenerAllowed(PacketEngine engine, ref PacketInfo info, Side side, Verdict verdict)
    {
        var policy = engine.Policies.Current!;
        Assert.True(policy.TryGetCameraBySlot(verdict.CameraSlot, out var camera));
        var egress = side == Side.Camera;
        var peer = (egress ? info.Destination : info.Source).ToIPAddress();
        var key = info.Protocol switch
        {
            6 or 17 => info.DestinationPort,
            1 or 58 => info.IcmpType,
            _ => (ushort)0,
        };
        var spec = policy.Spec.Cameras.Single(c => c.Name == camera.Name);
        var naive = NaiveMatcher.FirstMatch(spec.Rules, egress ? Direction.Egress : Direction.Ingress, info.Protocol, key, peer);
        Assert.True(naive >= 0, $"passed an opener no rule allows: {info.Protocol} {peer} {key}");
        Assert.Equal(spec.Rules[naive].Id, policy.RuleIds[verdict.RuleIndex]);

        // The camera end really is the camera: its MAC (when bound and layer 2 is present) and its address.
        var end = egress ? info.Source : info.Destination;
        if (camera.Addresses.Count > 0)
        {
            Assert.Contains(end.ToIPAddress(), camera.Addresses);
        }

        if (info.HasEthernet && camera.Mac is { } mac)
        {
            Assert.Equal(mac, egress ? info.SourceMac : info.DestinationMac);
        }
    }

    // ---- Sequences: no reply without an allowed opener ----

    private enum Kind
    {
        Tcp,
        Udp,
        EchoRequest,
        EchoReply,
    }

    private sealed record Step(Side Side, Kind Kind, TcpFlags Flags, ushort CameraPort, string Peer, ushort PeerPort, long Advance);

    private static readonly string[] Peers = [NvrIp, DnsIp, InternetIp];

    private static Gen<Step> StepGen =>
        from side in Gen.Elements(Side.Camera, Side.Uplink)
        from kind in Gen.Elements(Kind.Tcp, Kind.Tcp, Kind.Udp, Kind.EchoRequest, Kind.EchoReply)
        from flags in Gen.Elements(TcpFlags.Syn, TcpFlags.Syn | TcpFlags.Ack, TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Psh, TcpFlags.Fin | TcpFlags.Ack, TcpFlags.Rst, TcpFlags.None, TcpFlags.Syn | TcpFlags.Fin)
        from cameraPort in Gen.Elements<ushort>(40000, 554, 53)
        from peer in Gen.Elements(Peers)
        from peerPort in Gen.Elements<ushort>(443, 53, 554, 50000)
        from advance in Gen.Elements(0L, 0L, 1L, 1_000L, 40_000L, 100_000L)
        select new Step(side, kind, flags, cameraPort, peer, peerPort, advance);

    [Fact]
    public void ProcessFrame_AnySequence_NoReplyWithoutAllowedOpener()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), Prop.ForAll(Arb.From(Gen.ListOf(StepGen).Select(l => l.ToArray())), steps =>
        {
            var engine = NewEngine(options: Small);
            var rules = engine.Policies.Current!.Spec.Cameras[0].Rules;

            // Model: camera-relative tuples an allowed opener has opened (ever: a superset of what may be live).
            var opened = new HashSet<(Kind, ushort, string, ushort)>();
            long now = 0;
            foreach (var s in steps)
            {
                now += s.Advance;
                var egress = s.Side == Side.Camera;
                var (src, dst) = egress ? (Cam1Ip, s.Peer) : (s.Peer, Cam1Ip);
                var (srcMac, dstMac) = egress ? (Cam1Mac, RouterMac) : (RouterMac, Cam1Mac);
                var (srcPort, dstPort) = egress ? (s.CameraPort, s.PeerPort) : (s.PeerPort, s.CameraPort);
                var frame = s.Kind switch
                {
                    Kind.Tcp => Frames.Tcp(srcMac, dstMac, src, dst, srcPort, dstPort, s.Flags),
                    Kind.Udp => Frames.Udp(srcMac, dstMac, src, dst, srcPort, dstPort),
                    _ => Frames.Echo(srcMac, dstMac, src, dst, s.CameraPort, reply: s.Kind == Kind.EchoReply),
                };
                var verdict = engine.ProcessFrame(frame.ToArray(), s.Side, now);
                var flowKind = s.Kind == Kind.EchoReply ? Kind.EchoRequest : s.Kind;
                var tuple = flowKind is Kind.EchoRequest ? (flowKind, s.CameraPort, s.Peer, (ushort)0) : (flowKind, s.CameraPort, s.Peer, s.PeerPort);
                switch (verdict.Reason)
                {
                    case Reason.RuleMatch:
                        var opener = s.Kind switch
                        {
                            Kind.Tcp => s.Flags == TcpFlags.Syn,
                            Kind.Udp => true,
                            Kind.EchoRequest => true,
                            _ => false,
                        };
                        Assert.True(opener, $"{s}: RuleMatch for a non-opener");
                        var protocol = s.Kind switch { Kind.Tcp => (byte)6, Kind.Udp => (byte)17, _ => (byte)1 };
                        var key = s.Kind == Kind.EchoRequest ? (ushort)8 : dstPort;
                        Assert.True(NaiveMatcher.FirstMatch(rules, egress ? Direction.Egress : Direction.Ingress, protocol, key, IPAddress.Parse(s.Peer)) >= 0, $"{s}: opener not allowed");
                        opened.Add(tuple);
                        break;
                    case Reason.EstablishedFlow:
                        Assert.True(opened.Contains(tuple), $"{s}: passed as a flow nobody opened");
                        break;
                    default:
                        Assert.False(verdict.IsPass, $"{s}: passed with {verdict.Reason}");
                        break;
                }
            }
        }));
    }

    // ---- TCP: the side that did not open a connection never starts one the policy does not allow it ----

    private const string MailIp = "192.0.2.25";

    private sealed record TcpStep(Side Side, TcpFlags Flags, ushort CameraPort, string Peer, ushort PeerPort, long Advance);

    private static Gen<TcpStep> TcpStepGen =>
        from side in Gen.Elements(Side.Camera, Side.Uplink)
        from flags in Gen.Elements(
            TcpFlags.Syn, TcpFlags.Syn, TcpFlags.Syn | TcpFlags.Ack, TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Psh,
            TcpFlags.Fin | TcpFlags.Ack, TcpFlags.Fin, TcpFlags.Rst, TcpFlags.Rst | TcpFlags.Ack, TcpFlags.None)
        from tuple in Gen.Elements<(ushort, string, ushort)>(
            (554, NvrIp, 50000), (554, NvrIp, 50001), (40000, NvrIp, 443), (40000, MailIp, 25), (25, MailIp, 40000))
        from advance in Gen.Elements(0L, 0L, 1L, 1_000L, 10_000L, 29_999L, 30_000L, 3_600_000L, 8_000_000L)
        select new TcpStep(side, flags, tuple.Item1, tuple.Item2, tuple.Item3, advance);

    [Fact]
    public void ProcessFrame_AnyTcpSequence_NonOpenerNeverStartsADisallowedConnection()
    {
        // The policy allows some tuples one way (NVR -> cam:554, cam -> NVR:443, cam -> mail:25) and one tuple both
        // ways (cam:554 <-> NVR:50000), so reopening in the other direction is sometimes allowed and sometimes not.
        var rules = new List<Appliance.Core.Policy.RuleSpec>(Profile)
        {
            Rule("smtp", Direction.Egress, Appliance.Core.Policy.RuleProtocol.Tcp, [new(25, 25)], [], [MailIp + "/32"]),
            Rule("callback", Direction.Egress, Appliance.Core.Policy.RuleProtocol.Tcp, [new(50000, 50000)], [], [NvrIp + "/32"]),
        };
        var spec = Spec(rules: rules);
        var closing = Small.TcpClosingTimeout.TotalMilliseconds;
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1_500), Prop.ForAll(Arb.From(Gen.ListOf(TcpStepGen).Select(l => l.ToArray())), steps =>
        {
            var engine = NewEngine(spec, Small);

            // Model per camera-relative tuple, since the last opener that passed (null: none ever did): which sides
            // have sent a FIN that passed, and when the connection ended (both FINs, or an RST).
            var model = new Dictionary<(ushort, string, ushort), (bool FinCamera, bool FinPeer, long? EndedAt)>();
            long now = 0;
            foreach (var s in steps)
            {
                now += s.Advance;
                var egress = s.Side == Side.Camera;
                var frame = egress
                    ? Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, s.Peer, s.CameraPort, s.PeerPort, s.Flags)
                    : Frames.Tcp(RouterMac, Cam1Mac, s.Peer, Cam1Ip, s.PeerPort, s.CameraPort, s.Flags);
                var verdict = engine.ProcessFrame(frame.ToArray(), s.Side, now);
                var tuple = (s.CameraPort, s.Peer, s.PeerPort);
                var direction = egress ? Direction.Egress : Direction.Ingress;
                var allowed = NaiveMatcher.FirstMatch(rules, direction, 6, egress ? s.PeerPort : s.CameraPort, IPAddress.Parse(s.Peer)) >= 0;
                if (!verdict.IsPass)
                {
                    continue;
                }

                Assert.False(verdict.Monitored, $"{s}: monitored");
                if (s.Flags == TcpFlags.Syn)
                {
                    // The property: a connection attempt passes only from a side the policy lets open this tuple.
                    Assert.True(allowed, $"{s} at {now}: a pure SYN passed ({verdict.Reason}) from a side the policy lets open nothing here");
                }

                if (verdict.Reason == Reason.RuleMatch)
                {
                    Assert.Equal(TcpFlags.Syn, s.Flags);
                    model[tuple] = (false, false, null);
                    continue;
                }

                Assert.Equal(Reason.EstablishedFlow, verdict.Reason);
                Assert.True(model.TryGetValue(tuple, out var m), $"{s}: passed on a tuple nobody opened");
                Assert.True(m.EndedAt is null || now < m.EndedAt + closing, $"{s} at {now}: passed {now - m.EndedAt} ms after the connection ended");
                if ((s.Flags & TcpFlags.Rst) != 0)
                {
                    m.EndedAt ??= now;
                }
                else if ((s.Flags & TcpFlags.Fin) != 0)
                {
                    m = egress ? m with { FinCamera = true } : m with { FinPeer = true };
                    if (m.FinCamera && m.FinPeer)
                    {
                        m.EndedAt ??= now;
                    }
                }

                model[tuple] = m;
            }
        }));
    }
}
