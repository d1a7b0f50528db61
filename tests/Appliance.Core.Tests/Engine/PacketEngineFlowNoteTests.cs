using Appliance.Core.Engine;
using Appliance.Core.Flows;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Learn mode's notes (issue 16): the engine itself tells the learner of every flow of a learn-mode camera as it
/// opens and as it leaves the table, with its volume, so a connection shorter than any sampling interval is learned.
/// </summary>
public sealed class PacketEngineFlowNoteTests
{
    private static readonly long Closing = (long)new EngineOptions().TcpClosingTimeout.TotalMilliseconds;

    /// <summary>A table small enough that one <see cref="PacketEngine.Maintain"/> call visits every slot.</summary>
    private static readonly EngineOptions Small = new() { FlowCapacity = 64 };

    private static byte[] Out(TcpFlags flags, ushort cameraPort = 40000) => Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, cameraPort, 443, flags).ToArray();

    private static byte[] In(TcpFlags flags, ushort cameraPort = 40000) => Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 443, cameraPort, flags).ToArray();

    private static PolicySpec Learning(CameraMode mode = CameraMode.Learn, CameraMode? site = null)
    {
        var spec = Spec(edit: c => c.Name == "cam-1" ? c with { Mode = mode } : c);
        return spec with { Site = spec.Site with { Mode = site } };
    }

    private static List<FlowNote> Drain(PacketEngine engine)
    {
        var notes = new List<FlowNote>();
        while (engine.FlowNotes.TryRead(out var n))
        {
            notes.Add(n);
        }

        return notes;
    }

    [Fact]
    public void ShortConnection_OpenedAndClosedWithinMilliseconds_NotedWithHandshakeAndVolume()
    {
        var engine = NewEngine(Learning(), Small);
        byte[][] camera = [Out(TcpFlags.Syn), Out(TcpFlags.Ack), Out(TcpFlags.Fin | TcpFlags.Ack), Out(TcpFlags.Ack)];
        byte[][] uplink = [In(TcpFlags.Syn | TcpFlags.Ack), In(TcpFlags.Fin | TcpFlags.Ack)];

        Assert.True(engine.ProcessFrame(camera[0], Side.Camera, 1_000).IsPass);
        Assert.True(engine.ProcessFrame(uplink[0], Side.Uplink, 1_001).IsPass);
        Assert.True(engine.ProcessFrame(camera[1], Side.Camera, 1_002).IsPass);
        Assert.True(engine.ProcessFrame(camera[2], Side.Camera, 1_003).IsPass);
        Assert.True(engine.ProcessFrame(uplink[1], Side.Uplink, 1_004).IsPass);
        Assert.True(engine.ProcessFrame(camera[3], Side.Camera, 1_005).IsPass);
        engine.Maintain(1_005 + Closing + 1); // gone long before any 2 s sample could have seen it settle
        var notes = Drain(engine);

        Assert.Equal([FlowNoteKind.Opened, FlowNoteKind.Closed], notes.Select(n => n.Kind));
        var opened = notes[0];
        Assert.Equal((Direction.Egress, (byte)IpProtocols.Tcp, (ushort)40000, (ushort)443, false, 1_000L), (opened.Direction, opened.Protocol, opened.CameraPort, opened.PeerPort, opened.Established, opened.CreatedMs));
        Assert.Equal(IpAddr.FromIPAddress(System.Net.IPAddress.Parse(NvrIp)), opened.Peer);
        var closed = notes[1];
        Assert.True(closed.Established);
        Assert.True(closed.Replied);
        Assert.Equal(FlowState.Closing, closed.State);
        Assert.Equal(6u, closed.Packets);
        Assert.Equal(camera.Sum(f => f.Length) + uplink.Sum(f => f.Length), closed.Bytes);
        Assert.Equal(SlotOf(engine, "cam-1"), closed.CameraSlot);
    }

    [Fact]
    public void RefusedConnection_ClosedNoteSaysNeverEstablished()
    {
        var engine = NewEngine(Learning(), Small);
        engine.ProcessFrame(Out(TcpFlags.Syn), Side.Camera, 0);
        engine.ProcessFrame(In(TcpFlags.Rst | TcpFlags.Ack), Side.Uplink, 1);
        engine.Maintain(1 + Closing + 1);

        var closed = Assert.Single(Drain(engine), n => n.Kind == FlowNoteKind.Closed);

        Assert.False(closed.Established);
        Assert.Equal(FlowState.Closed, closed.State);
        Assert.Equal(2u, closed.Packets);
    }

    [Theory]
    [InlineData(CameraMode.Enforce)]
    [InlineData(CameraMode.Monitor)]
    public void CameraNotLearning_NoNotes(CameraMode mode)
    {
        var engine = NewEngine(Learning(mode), Small);
        engine.ProcessFrame(Out(TcpFlags.Syn), Side.Camera, 0);
        engine.ProcessFrame(In(TcpFlags.Syn | TcpFlags.Ack), Side.Uplink, 1);
        engine.Maintain(10_000_000);

        Assert.Equal(0, engine.Flows.Count); // positive control: the flow came and went
        Assert.Equal(1, engine.Flows.Expired);
        Assert.Empty(Drain(engine));
    }

    [Fact]
    public void LearnMode_WouldBeDropPasses_AndIsReportedLikeMonitor()
    {
        var engine = NewEngine(Learning());
        var telnet = Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, InternetIp, 40001, 23, TcpFlags.Syn).ToArray();

        var verdict = engine.ProcessFrame(telnet, Side.Camera, 0);

        Assert.True(verdict.IsPass);
        Assert.True(verdict.Monitored);
        Assert.True(engine.Events.TryRead(out var e));
        Assert.Equal((Reason.NoRuleMatched, true), (e.Reason, e.Monitored));
        Assert.Contains(Drain(engine), n => n.Kind == FlowNoteKind.Opened && n.PeerPort == 23);
    }

    [Fact]
    public void RingFull_NotesCountedAsLost_FlowsStillPass()
    {
        var engine = NewEngine(Learning(), new EngineOptions { FlowNoteRingCapacity = 4 });
        var passed = 0;
        for (ushort port = 1000; port < 1010; port++)
        {
            passed += engine.ProcessFrame(Out(TcpFlags.Syn, port), Side.Camera, 0).IsPass ? 1 : 0;
        }

        Assert.Equal(10, passed);
        Assert.Equal(4, Drain(engine).Count);
        Assert.Equal(6, engine.FlowNotes.Lost);
    }

    [Fact]
    public void SiteLearning_UnknownCameraSideDevice_NotedOncePerInterval()
    {
        var spec = Spec(unknown: UnknownDeviceMode.Monitor);
        var engine = NewEngine(spec with { Site = spec.Site with { Mode = CameraMode.Learn } });
        var frame = Frames.Tcp(UnknownMac, RouterMac, UnknownIp, NvrIp, 40000, 443, TcpFlags.Syn).ToArray();

        for (var i = 0; i < 5; i++)
        {
            engine.ProcessFrame(frame, Side.Camera, i);
        }

        engine.ProcessFrame(frame, Side.Camera, PacketEngine.UnknownNoteIntervalMs + 10);
        var notes = Drain(engine);

        Assert.Equal(2, notes.Count);
        Assert.All(notes, n => Assert.Equal((FlowNoteKind.UnknownDevice, UnknownMac, IpAddr.FromIPAddress(System.Net.IPAddress.Parse(UnknownIp))), (n.Kind, n.CameraMac, n.Camera)));
    }

    [Fact]
    public void SiteNotLearning_UnknownDevice_NotNoted()
    {
        var engine = NewEngine(Spec(unknown: UnknownDeviceMode.Monitor));
        var verdict = engine.ProcessFrame(Frames.Tcp(UnknownMac, RouterMac, UnknownIp, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Side.Camera, 0);

        Assert.Equal(Reason.UnknownDevice, verdict.Reason); // positive control: it was an unknown device's frame
        Assert.Empty(Drain(engine));
    }

    [Fact]
    public void Snapshot_OpenFlow_CarriesVolumeSoFar()
    {
        var engine = NewEngine(Learning());
        var syn = Out(TcpFlags.Syn);
        var synAck = In(TcpFlags.Syn | TcpFlags.Ack);
        engine.ProcessFrame(syn, Side.Camera, 0);
        engine.ProcessFrame(synAck, Side.Uplink, 1);
        engine.ProcessFrame(Out(TcpFlags.Ack), Side.Camera, 2);

        var flow = Assert.Single(engine.Flows.Snapshot(3));

        Assert.Equal(3u, flow.Packets);
        Assert.Equal(syn.Length + synAck.Length + Out(TcpFlags.Ack).Length, flow.Bytes);
        Assert.True(flow.EverEstablished);
    }

    [Fact]
    public void ProcessFrame_LearnModeFlowsOpeningAndClosing_AllocatesNothingPerFrame()
    {
        var engine = NewEngine(Learning(), new EngineOptions { FlowCapacity = 4_096, FlowNoteRingCapacity = 64, DefaultFlowQuota = 100_000 });
        var established = In(TcpFlags.Ack | TcpFlags.Psh, 50000);
        engine.ProcessFrame(Out(TcpFlags.Syn, 50000), Side.Camera, 0);
        engine.ProcessFrame(In(TcpFlags.Syn | TcpFlags.Ack, 50000), Side.Uplink, 0);
        engine.ProcessFrame(Out(TcpFlags.Ack, 50000), Side.Camera, 0);
        var syns = new byte[256][];
        for (var i = 0; i < syns.Length; i++)
        {
            syns[i] = Out(TcpFlags.Syn, (ushort)(1_000 + i));
        }

        void Run(long round)
        {
            var now = round * 60_000; // the previous round's half-open flows have expired: closed notes
            for (var i = 0; i < 100; i++)
            {
                engine.ProcessFrame(established, Side.Uplink, now);
            }

            foreach (var syn in syns)
            {
                engine.ProcessFrame(syn, Side.Camera, now); // opened notes (the small ring fills: lost)
            }

            engine.Maintain(now);
            while (engine.FlowNotes.TryRead(out _))
            {
            }
        }

        var windows = AllocationWindows.Measure(r => Run(r), warmupRounds: 30, roundsPerWindow: 50);

        Assert.True(windows[^1] == 0, AllocationWindows.Describe(windows));
        Assert.True(engine.FlowNotes.Lost > 0); // the full-ring path ran
        Assert.True(engine.Flows.Expired > 0);
    }
}
