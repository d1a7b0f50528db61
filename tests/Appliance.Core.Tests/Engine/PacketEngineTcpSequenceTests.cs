using Appliance.Core.Engine;
using Appliance.Core.Flows;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using FsCheck;
using FsCheck.Fluent;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// What ends a tracked TCP flow (RST, FIN, and the SYN-ACK that fixes the responder's sequence numbers) must come from
/// where its sender can be. Before, any RST or FIN on a known port pair ended the flow: anyone on the site network who
/// spoofed the NVR's address could cut every stream of a camera with one RST per NVR port, though the endpoints
/// themselves would have ignored those segments (RFC 5961).
/// </summary>
public class PacketEngineTcpSequenceTests
{
    private static readonly EngineOptions Options = new();
    private static readonly long Closing = (long)Options.TcpClosingTimeout.TotalMilliseconds;

    // NVR:50000 opens to cam-1:554. The NVR's sequence numbers start at 1000, the camera's at 5000.
    private const uint NvrIsn = 1000;
    private const uint CamIsn = 5000;
    private const uint Blind = 0x4000_0000; // a quarter of the sequence space away from anything real

    private static byte[] Nvr(TcpFlags flags, uint seq, uint ack, int payload = 0)
        => Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 50000, 554, flags).Seq(seq).Ack(ack).Payload(new byte[payload]).ToArray();

    private static byte[] Cam(TcpFlags flags, uint seq, uint ack, int payload = 0)
        => Frames.Tcp(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 554, 50000, flags).Seq(seq).Ack(ack).Payload(new byte[payload]).ToArray();

    private static Reason Uplink(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Uplink, now).Reason;

    private static Reason Camera(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Camera, now).Reason;

    private static FlowState State(PacketEngine e, long now) => Assert.Single(e.Flows.Snapshot(now)).State;

    /// <summary>Handshake, then the camera sends 1,000 bytes of video: the NVR's end is 1001, the camera's 6001.</summary>
    private static PacketEngine Streaming(IFlowOffload? offload = null)
    {
        var e = NewEngine();
        if (offload is not null)
        {
            e.AttachOffload(offload);
        }

        Assert.Equal(Reason.RuleMatch, Uplink(e, Nvr(TcpFlags.Syn, NvrIsn, 0), 0));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Syn | TcpFlags.Ack, CamIsn, NvrIsn + 1), 1));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Ack, NvrIsn + 1, CamIsn + 1), 2));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Ack | TcpFlags.Psh, CamIsn + 1, NvrIsn + 1, 1000), 3));
        return e;
    }

    [Theory]
    [InlineData(NvrIsn + 1 + Blind)]
    [InlineData(unchecked(NvrIsn + 1 - Blind))]
    [InlineData(NvrIsn + 1 + 70_000)]   // ahead of anything the NVR sent
    [InlineData(unchecked(NvrIsn + 1 - 70_000))]   // more than the close window below it
    public void Tcp_BlindRstFromTheUplink_IsDroppedAndTheStreamKeepsFlowing(uint sequence)
    {
        var e = Streaming();

        Assert.Equal(Reason.TcpOutOfWindow, Uplink(e, Nvr(TcpFlags.Rst, sequence, 0), 10));
        Assert.Equal(Reason.TcpOutOfWindow, Uplink(e, Nvr(TcpFlags.Rst | TcpFlags.Ack, sequence, CamIsn + 1001), 11));

        Assert.Equal(FlowState.Established, State(e, 12));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Ack | TcpFlags.Psh, CamIsn + 1001, NvrIsn + 1, 1000), 12 + Closing + 1));
        Assert.Equal(2, e.Counters.ForReason(Reason.TcpOutOfWindow));
    }

    [Theory]
    [InlineData(NvrIsn + 1)]            // a live sender's RST: its next sequence number
    [InlineData(unchecked(NvrIsn + 1 - 60_000))]   // within the close window below it (a host that lost the connection)
    public void Tcp_RstWhereItsSenderIs_EndsTheFlow(uint sequence)
    {
        var e = Streaming();

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Rst, sequence, 0), 10));

        Assert.Equal(FlowState.Closed, State(e, 10));
        Assert.Equal(Reason.TcpStateBypass, Camera(e, Cam(TcpFlags.Ack | TcpFlags.Psh, CamIsn + 1001, NvrIsn + 1, 10), 10 + Closing + 1));
    }

    [Fact]
    public void Tcp_CameraRstAfterItsVideo_EndsTheFlowAtItsOwnSequence()
    {
        var e = Streaming();

        // The camera's end moved with its 1,000 bytes of video: a RST past it is not the camera's.
        Assert.Equal(Reason.TcpOutOfWindow, Camera(e, Cam(TcpFlags.Rst, CamIsn + 1001 + 10, 0), 10));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Rst, CamIsn + 1001, 0), 11));
        Assert.Equal(FlowState.Closed, State(e, 11));
    }

    [Fact]
    public void Tcp_ForgedFinsFromTheUplink_DoNotMoveTheFlowTowardsClosing()
    {
        var e = Streaming();

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Fin | TcpFlags.Ack, NvrIsn + 1 + Blind, CamIsn + 1001), 10));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Fin | TcpFlags.Ack, unchecked(NvrIsn + 1 - Blind), 0), 11));
        Assert.Equal(FlowState.Established, State(e, 11));

        // The real close still works: the NVR's FIN at its sequence end, the camera's at its own.
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Fin | TcpFlags.Ack, NvrIsn + 1, CamIsn + 1001), 20));
        Assert.Equal(FlowState.FinWait, State(e, 20));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Fin | TcpFlags.Ack, CamIsn + 1001, NvrIsn + 2), 21));
        Assert.Equal(FlowState.Closing, State(e, 21));
    }

    [Fact]
    public void Tcp_SynAckThatDoesNotAcknowledgeTheSyn_IsDroppedAndTheRealOneCompletes()
    {
        var e = NewEngine();
        Assert.Equal(Reason.RuleMatch, Uplink(e, Nvr(TcpFlags.Syn, NvrIsn, 0), 0));

        Assert.Equal(Reason.TcpOutOfWindow, Camera(e, Cam(TcpFlags.Syn | TcpFlags.Ack, 7, NvrIsn + 2), 1));
        Assert.Equal(FlowState.SynSent, State(e, 1));

        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Syn | TcpFlags.Ack, CamIsn, NvrIsn + 1), 2));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Ack, NvrIsn + 1, CamIsn + 1), 3));
        Assert.Equal(FlowState.Established, State(e, 3));
    }

    [Fact]
    public void Tcp_RefusalInSynSent_MustAcknowledgeTheSyn()
    {
        var e = Frames.Tcp(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 554, 50000, TcpFlags.Rst | TcpFlags.Ack);
        var engine = NewEngine();
        Assert.Equal(Reason.RuleMatch, Uplink(engine, Nvr(TcpFlags.Syn, NvrIsn, 0), 0));

        Assert.Equal(Reason.TcpOutOfWindow, Camera(engine, e.Seq(0).Ack(NvrIsn + 5).ToArray(), 1));
        Assert.Equal(Reason.TcpOutOfWindow, Camera(engine, Cam(TcpFlags.Rst, 0, 0), 1));
        Assert.Equal(FlowState.SynSent, State(engine, 1));

        Assert.Equal(Reason.EstablishedFlow, Camera(engine, Cam(TcpFlags.Rst | TcpFlags.Ack, 0, NvrIsn + 1), 2));
        Assert.Equal(FlowState.Closed, State(engine, 2));
    }

    [Fact]
    public void Tcp_ForgedDataFarAhead_DoesNotMoveWhereAResetMustFall()
    {
        var e = Streaming();
        var forged = NvrIsn + 1 + 300_000; // past the gap a lost burst can leave

        // Data passes whatever its sequence number (the camera judges it), but the engine does not follow it.
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Ack | TcpFlags.Psh, forged, CamIsn + 1001, 100), 10));
        Assert.Equal(Reason.TcpOutOfWindow, Uplink(e, Nvr(TcpFlags.Rst, forged + 100, 0), 11));

        // A burst lost before the bridge (a gap the sender's retransmission fills later) is followed.
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Ack | TcpFlags.Psh, NvrIsn + 1 + 20_000, CamIsn + 1001, 100), 12));
        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Rst, NvrIsn + 1 + 20_100, 0), 13));
        Assert.Equal(FlowState.Closed, State(e, 13));
    }

    [Fact]
    public void Tcp_OffloadedFlowOnAFastPathThatCannotSay_ItsRstIsTakenUnchecked()
    {
        // A fast path that forwarded segments the engine never saw and cannot say where they ended (no
        // TryReadSequenceEnds): the engine cannot say where a RST must fall, and takes it, as Linux's flowtable does.
        var offload = new RecordingOffload();
        var e = Streaming(offload);
        Assert.Equal(1, offload.Offloaded);

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Rst, NvrIsn + 1 + Blind, 0), 10));

        Assert.Equal(1, offload.Withdrawn);
        Assert.Equal(FlowState.Closed, State(e, 10));
    }

    [Fact]
    public void Tcp_OffloadedFlow_BlindRstIsJudgedAgainstTheEndsTheFastPathTracked()
    {
        // The kernel forwarded 50,000 bytes of the NVR's and 2 MB of the camera's since the engine last saw the flow.
        var offload = new SequenceReportingOffload { CameraEnd = CamIsn + 1001 + 2_000_000, NvrEnd = NvrIsn + 1 + 50_000 };
        var e = Streaming(offload);
        Assert.Equal(1, offload.Offloaded);
        Assert.Equal(CamIsn + 1, offload.LastOffered.CameraSequenceEnd); // seeded with what the engine had seen (at the handshake's end)
        Assert.Equal(NvrIsn + 1, offload.LastOffered.PeerSequenceEnd);

        // Blind: out of the window below the NVR's end as the kernel has it, though within the engine's stale one.
        Assert.Equal(Reason.TcpOutOfWindow, Uplink(e, Nvr(TcpFlags.Rst, unchecked(NvrIsn + 1 - 20_000), 0), 10));
        Assert.Equal(Reason.TcpOutOfWindow, Uplink(e, Nvr(TcpFlags.Rst | TcpFlags.Ack, NvrIsn + 1 + Blind, 0), 11));
        Assert.Equal(FlowState.Established, State(e, 12));
        Assert.Equal(0, offload.Withdrawn);

        // The camera's RST where the kernel says its data ends: the flow ends and leaves the fast path.
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Rst, CamIsn + 1001 + 2_000_000, 0), 13));
        Assert.Equal(FlowState.Closed, State(e, 13));
        Assert.Equal(1, offload.Withdrawn);
    }

    [Fact]
    public void Tcp_OffloadedFlow_FinOnlyWhereTheKernelSaysItsSenderEnds()
    {
        var offload = new SequenceReportingOffload { CameraEnd = CamIsn + 1001 + 2_000_000, NvrEnd = NvrIsn + 1 + 100_000 };
        var e = Streaming(offload);

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Fin | TcpFlags.Ack, NvrIsn + 1, CamIsn + 1001), 10)); // the engine's stale end, 100,000 behind
        Assert.Equal(FlowState.Established, State(e, 10));
        Assert.Equal(0, offload.Withdrawn);

        Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Fin | TcpFlags.Ack, NvrIsn + 1 + 100_000, CamIsn + 1001), 11));
        Assert.Equal(FlowState.FinWait, State(e, 11));
        Assert.Equal(1, offload.Withdrawn);

        // Out of the fast path the engine has taken over the kernel's ends: the camera's FIN at its real end closes,
        // and a RST at the camera's stale pre-offload end is now out of window.
        Assert.Equal(Reason.TcpOutOfWindow, Camera(e, Cam(TcpFlags.Rst, unchecked(CamIsn + 1001 - 100_000), 0), 12));
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Fin | TcpFlags.Ack, CamIsn + 1001 + 2_000_000, NvrIsn + 100_002), 13));
        Assert.Equal(FlowState.Closing, State(e, 13));
    }

    /// <summary>
    /// Whatever a blind attacker on the uplink sends on the NVR's port pair (RST, FIN, SYN-ACK, data, in any order and
    /// at any time), with sequence numbers outside where the NVR's can be, the camera's stream and the NVR's ACKs keep
    /// passing past every closing deadline, and the real close still ends the flow.
    /// </summary>
    [Fact]
    public void Tcp_NoBlindUplinkSequence_EndsAnEstablishedStream()
    {
        var forgedFlags = Gen.Elements(
            TcpFlags.Rst, TcpFlags.Rst | TcpFlags.Ack, TcpFlags.Fin | TcpFlags.Ack, TcpFlags.Fin | TcpFlags.Ack | TcpFlags.Psh,
            TcpFlags.Ack | TcpFlags.Psh, TcpFlags.Syn | TcpFlags.Ack, TcpFlags.Ack);
        var forged = from flags in forgedFlags
                     // At least 400,000 away from the NVR's end either way: flipping the top bit instead of negating once put a RST
                     // 14,789 below it, where a real one may fall (the close window), and the property failed for the test's fault.
                     from offset in Gen.Choose(400_000, int.MaxValue).Select(o => (uint)o).Two()
                     from negative in Gen.Elements(true, false)
                     from payload in Gen.Elements(0, 0, 1, 100)
                     from pause in Gen.Choose(0, (int)(2 * Closing))
                     select (flags, negative ? unchecked(0u - offset.Item1) : offset.Item1, payload, pause);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(Arb.From(Gen.ListOf(forged)), attack =>
        {
            var e = Streaming();
            uint camSeq = CamIsn + 1001;
            long now = 10;
            foreach (var (flags, offset, payload, pause) in attack)
            {
                var seq = unchecked(NvrIsn + 1 + offset);
                Uplink(e, Nvr(flags, seq, CamIsn + 1001, payload), now);
                now += pause;
                Assert.Equal(Reason.EstablishedFlow, Camera(e, Cam(TcpFlags.Ack | TcpFlags.Psh, camSeq, NvrIsn + 1, 500), now));
                camSeq = unchecked(camSeq + 500);
                Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Ack, NvrIsn + 1, camSeq), now));
            }

            Assert.Equal(Reason.EstablishedFlow, Uplink(e, Nvr(TcpFlags.Rst, NvrIsn + 1, 0), now + 1));
            Assert.Equal(FlowState.Closed, State(e, now + 1));
        }));
    }

    /// <summary>A fast path that tracked the flow's sequence numbers while it forwarded, as the XDP program does.</summary>
    private sealed class SequenceReportingOffload : IFlowOffload
    {
        public uint CameraEnd { get; init; }

        public uint NvrEnd { get; init; }

        public int Offloaded { get; private set; }

        public int Withdrawn { get; private set; }

        public OffloadedFlow LastOffered { get; private set; }

        public void Offload(in OffloadedFlow flow)
        {
            Offloaded++;
            LastOffered = flow;
        }

        public void Withdraw(in OffloadedFlow flow) => Withdrawn++;

        public bool TryReadSequenceEnds(in OffloadedFlow flow, out uint cameraEnd, out uint peerEnd)
        {
            cameraEnd = CameraEnd;
            peerEnd = NvrEnd;
            return Withdrawn == 0;
        }
    }

    private sealed class RecordingOffload : IFlowOffload
    {
        public int Offloaded { get; private set; }

        public int Withdrawn { get; private set; }

        public void Offload(in OffloadedFlow flow) => Offloaded++;

        public void Withdraw(in OffloadedFlow flow) => Withdrawn++;
    }
}
