using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;
using static Appliance.Transport.Xdp.Tests.XdpBridgeLab;

namespace Appliance.Transport.Xdp.Tests;

/// <summary>
/// The XDP fast path on real veths: the kernel forwards only what the engine would pass, and the engine's counters,
/// deadlines and revocations stay authoritative. Root only (namespaces, XDP).
/// </summary>
public sealed class XdpOffloadTests
{
    private const ushort Rtsp = 554;
    private const ushort Video = 5004;
    private const TcpFlags SynAck = TcpFlags.Syn | TcpFlags.Ack;
    private const TcpFlags PshAck = TcpFlags.Psh | TcpFlags.Ack;

    [RootFact]
    public async Task Offload_EstablishedTcpFlow_KernelForwardsAndEngineCountsEveryFrame()
    {
        await using var lab = Create(offload: true);
        Handshake(lab, 40000);
        Eventually.True(() => lab.Offload!.Entries == 1, "the established flow was installed");
        var receivedBefore = lab.Bridge.UplinkSide.FramesReceived;
        var passedBefore = lab.Engine.Counters.FramesPassed;

        for (var i = 0; i < 200; i++)
        {
            lab.FromUplink(NvrToCamera(40000, PshAck, i));
        }

        Assert.Equal(200, lab.ArrivedAtCamera().Count(IsData));

        // Delivered by the kernel: user space never saw them, yet the engine counts every one (read back by the sweep).
        Assert.True(lab.Bridge.UplinkSide.FramesReceived - receivedBefore < 10, $"user space received {lab.Bridge.UplinkSide.FramesReceived - receivedBefore} of them");
        Eventually.True(() => lab.Engine.Counters.FramesPassed - passedBefore == 200, $"engine counted {lab.Engine.Counters.FramesPassed - passedBefore}");
        Assert.Equal(200, lab.Offload!.FramesForwarded);
        Assert.True(lab.Engine.Counters.ForCamera(0).FramesPassed >= 203);
    }

    /// <summary>
    /// A blind attacker who spoofs the NVR's address and knows the port pair sends RSTs on a stream the kernel
    /// carries. Before, the program stopped forwarding the flow at the first one and the engine, which had not seen the
    /// kernel's segments, took it unchecked: one forged frame cut the camera's stream. Now the program follows where
    /// each side's sequence numbers end and the engine judges the RST against that.
    /// </summary>
    [RootFact]
    public async Task Offload_BlindRstFromTheUplink_StreamStaysInTheKernelAndTheRealRstEndsIt()
    {
        await using var lab = Create(offload: true);
        const ushort NvrPort = 44000;
        Handshake(lab, NvrPort); // the NVR's SYN is at 0: its data starts at 1
        Eventually.True(() => lab.Offload!.Entries == 1, "the established flow was installed");
        _ = lab.ArrivedAtCamera(); // the handshake's frames
        var nvrEnd = 1u;
        void Stream(int segments)
        {
            for (var i = 0; i < segments; i++)
            {
                lab.FromUplink(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(NvrPort, Rtsp, PshAck).Seq(nvrEnd).Payload(Data).ToArray());
                nvrEnd += (uint)Data.Length;
            }
        }

        byte[] Rst(uint sequence) => FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(NvrPort, Rtsp, TcpFlags.Rst).Seq(sequence).ToArray();

        Stream(1_000); // 100,000 bytes through the kernel: the engine's own idea of the NVR's end is now far behind
        Assert.Equal(1_000, lab.WaitArrival(atCamera: true, 1_000).Count(IsData));
        Eventually.True(() => lab.Offload!.FramesForwarded >= 1_000, $"the kernel forwarded {lab.Offload!.FramesForwarded}");

        // Out of the window below where the NVR's data ends, though within it below where the engine last saw it.
        lab.Settled(() => lab.FromUplink(Rst(nvrEnd - 80_000)));
        lab.Settled(() => lab.FromUplink(Rst(nvrEnd + 0x4000_0000)));
        Assert.Equal(2, lab.Engine.Counters.ForReason(Reason.TcpOutOfWindow));

        var forwarded = lab.Offload!.FramesForwarded;
        Stream(50);
        Assert.Equal(50, lab.WaitArrival(atCamera: true, 50).Count(IsData));
        Eventually.True(() => lab.Offload!.FramesForwarded - forwarded == 50, "the stream stayed in the kernel");

        // The NVR's own RST, where its data ends: the flow ends, and nothing of it crosses after.
        lab.Settled(() => lab.FromUplink(Rst(nvrEnd)));
        Stream(5);
        Assert.DoesNotContain(lab.ArrivedAtCamera(), IsData);
        Assert.True(lab.Engine.Counters.ForReason(Reason.TcpStateBypass) >= 5, $"{lab.Engine.Counters.ForReason(Reason.TcpStateBypass)} dropped after the RST");
    }

    [RootFact]
    public async Task Offload_SameTrafficOnAndOff_DeliversIdenticalFrames()
    {
        var (offCamera, offUplink, offPassed, offDropped) = await RunScenario(offload: false);
        var (onCamera, onUplink, onPassed, onDropped) = await RunScenario(offload: true);

        // Positive control: the scenario does deliver, and does drop.
        Assert.True(offCamera.Count > 50 && offUplink.Count > 50, $"{offCamera.Count} / {offUplink.Count} delivered");
        Assert.True(offDropped >= 8, $"{offDropped} dropped");
        Assert.Equal(offCamera, onCamera);
        Assert.Equal(offUplink, onUplink);
        Assert.Equal(offPassed, onPassed);
        Assert.Equal(offDropped, onDropped);
    }

    /// <summary>
    /// Flows that end every way the tracker knows, with frames after the end that the engine must drop: RST while
    /// offloaded, a half-close, a reverse SYN on an established and on a closed flow, spoofed sources, VLAN tags and
    /// IPv6. Returns what arrived on each side (sorted: the fast path may reorder frames that were in flight while a
    /// flow was installed) and the engine's pass/drop counters once the kernel's counts are read back.
    /// </summary>
    private static async Task<(List<string> Camera, List<string> Uplink, long Passed, long Dropped)> RunScenario(bool offload)
    {
        await using var lab = Create(offload);
        var seq = 0;
        void Up(byte[] f) { lab.FromUplink(f); Thread.Sleep(2); }
        void Cam(byte[] f) { lab.FromCamera(f); Thread.Sleep(2); }

        // Frames that change a flow's state are sent once the frames before them are through, and waited for.
        void UpSettled(byte[] f) { Thread.Sleep(50); lab.Settled(() => lab.FromUplink(f)); }
        void CamSettled(byte[] f) { Thread.Sleep(50); lab.Settled(() => lab.FromCamera(f)); }

        // 1. Established, data both ways, then an RST from the NVR while the flow is in the kernel: nothing after it.
        Handshake(lab, 41000);
        WaitInstalled(lab, offload, 1);
        for (var i = 0; i < 30; i++)
        {
            Up(NvrToCamera(41000, PshAck, seq++));
            Cam(CameraToNvr(41000, TcpFlags.Ack, seq++));
        }

        // The NVR's RST and its next segments back to back, in one port's order: the segments must not overtake the
        // RST through the kernel while the engine has yet to read it (the program marks the entry ended itself).
        Thread.Sleep(50);
        lab.FromUplink(NvrToCamera(41000, TcpFlags.Rst | TcpFlags.Ack, seq++));
        for (var i = 0; i < 5; i++)
        {
            lab.FromUplink(NvrToCamera(41000, PshAck, seq++));
        }

        Thread.Sleep(50);
        for (var i = 0; i < 5; i++)
        {
            Cam(CameraToNvr(41000, TcpFlags.Ack, seq++));
        }

        // A reverse SYN on the closed flow (the camera opening towards the NVR's port): no rule, dropped.
        CamSettled(CameraToNvr(41000, TcpFlags.Syn, seq++));

        // 2. Half-close: the camera's FIN; the NVR's data still passes, then its FIN, the last ACK.
        Handshake(lab, 42000);
        WaitInstalled(lab, offload, 1);
        for (var i = 0; i < 10; i++)
        {
            Up(NvrToCamera(42000, PshAck, seq++));
        }

        CamSettled(CameraToNvr(42000, TcpFlags.Fin | TcpFlags.Ack, seq++));
        for (var i = 0; i < 10; i++)
        {
            Up(NvrToCamera(42000, PshAck, seq++));
        }

        UpSettled(NvrToCamera(42000, TcpFlags.Fin | TcpFlags.Ack, seq++));
        Cam(CameraToNvr(42000, TcpFlags.Ack, seq++));

        // 3. A reverse SYN on an established, offloaded flow is the engine's: dropped (no egress rule), the flow stays.
        Handshake(lab, 43000);
        WaitInstalled(lab, offload, 1);
        CamSettled(CameraToNvr(43000, TcpFlags.Syn, seq++));
        Up(NvrToCamera(43000, PshAck, seq++));

        // 4. Spoofs on an offloaded flow's 5-tuple: the camera's address from the uplink side; a stranger's MAC.
        Up(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Camera, Nvr).Tcp(Rtsp, 43000, PshAck).Seq((uint)seq++).Payload(Data).ToArray());
        Up(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(Rtsp, 43000, PshAck).Seq((uint)seq++).Payload(Data).ToArray());
        Up(FrameBuilder.Ethernet(Mac(0x02_00_00_00_0B_99), CameraMac).Ipv4(Nvr, Camera).Tcp(43000, Rtsp, PshAck).Seq((uint)seq++).Payload(Data).ToArray());

        // 5. URG, ECE and a segment without ACK on an established flow: up to the engine, which decides as always.
        Up(NvrToCamera(43000, TcpFlags.Ack | TcpFlags.Urg, seq++));
        Up(NvrToCamera(43000, TcpFlags.Psh, seq++));

        // 6. UDP video from the camera (offloaded), the NVR's reply, a camera-spoofing datagram from the uplink.
        for (var i = 0; i < 40; i++)
        {
            Cam(FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Udp(6000, Video).Payload(Payload(seq++)).ToArray());
        }

        Up(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Udp(Video, 6000).Payload(Payload(seq++)).ToArray());
        Up(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Camera, Nvr).Udp(6000, Video).Payload(Payload(seq++)).ToArray());

        // 7. The same over 802.1Q and QinQ, and over IPv6.
        for (var i = 0; i < 20; i++)
        {
            Cam(FrameBuilder.Ethernet(CameraMac, RouterMac).Vlan(20).Ipv4(Camera, Nvr).Udp(6001, Video).Payload(Payload(seq++)).ToArray());
            Cam(FrameBuilder.Ethernet(CameraMac, RouterMac).QinQ(100, 20).Ipv4(Camera, Nvr).Udp(6002, Video).Payload(Payload(seq++)).ToArray());
            Cam(FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv6(Camera6, Nvr6).Udp(6003, Video).Payload(Payload(seq++)).ToArray());
        }

        // 8. A fragment of the video flow and one with IP options: the program passes them up, the engine decides.
        Cam(FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Id(7).Fragment(0, moreFragments: true).Udp(6000, Video).Payload(Payload(seq++)).ToArray());
        Cam(FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Ipv4Options(1, 1, 1, 0).Udp(6000, Video).Payload(Payload(seq++)).ToArray());

        // 9. Lengths that disagree with the frame, on offloaded flows: an IPv4 total length and an IPv6 payload length
        // 8 bytes past the frame's end (the engine drops them; the program must pass them up, never forward them), and
        // a short datagram followed by Ethernet padding (legitimate: forwarded either way, padding and all).
        var longIpv4 = FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Udp(6000, Video).Payload(Payload(seq++)).ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(longIpv4.AsSpan(14 + 2), (ushort)(longIpv4.Length - 14 + 8));
        Cam(longIpv4);
        var longIpv6 = FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv6(Camera6, Nvr6).Udp(6003, Video).Payload(Payload(seq++)).ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(longIpv6.AsSpan(14 + 4), (ushort)(longIpv6.Length - 14 - 40 + 8));
        Cam(longIpv6);
        byte[] padded = [.. FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Udp(6000, Video).Payload([(byte)seq++, 1, 2, 3]).ToArray(), .. new byte[12]];
        Cam(padded);

        var camera = lab.ArrivedAtCamera(TimeSpan.FromMilliseconds(500)).Select(Convert.ToHexString).Order(StringComparer.Ordinal).ToList();
        var uplink = lab.ArrivedAtUplink(TimeSpan.FromMilliseconds(500)).Select(Convert.ToHexString).Order(StringComparer.Ordinal).ToList();
        if (offload)
        {
            // Positive control: the kernel did forward a share of it, and its counts reach the engine.
            Eventually.True(() => lab.Offload!.FramesForwarded > 100, $"only {lab.Offload!.FramesForwarded} frames went through the kernel");
            var before = -1L;
            Eventually.True(
                () =>
                {
                    var now = lab.Engine.Counters.FramesTotal;
                    var settled = now == before;
                    before = now;
                    return settled;
                },
                "the engine's counts settled (two readings 300 ms apart agree)",
                every: TimeSpan.FromMilliseconds(300));
        }

        return (camera, uplink, lab.Engine.Counters.FramesPassed, lab.Engine.Counters.FramesDropped);
    }

    [RootFact]
    public async Task Offload_PolicySwapMidStream_NextFrameIsDropped()
    {
        await using var lab = Create(offload: true);
        var sent = 0;
        Eventually.True(
            () =>
            {
                lab.FromCamera(VideoFrame(sent++));
                return lab.Offload!.FramesForwarded > 0;
            },
            "the video flow was installed and the kernel forwarded some of it");

        // Under load: a sender keeps the stream going while the policy is swapped for one without the rule.
        using var stop = new CancellationTokenSource();
        var sender = Task.Run(() =>
        {
            var n = 1000;
            while (!stop.IsCancellationRequested)
            {
                lab.FromCamera(VideoFrame(n++));
                if (n % 50 == 0)
                {
                    Thread.Sleep(1);
                }
            }

            return n;
        });
        Thread.Sleep(300);
        lab.Swap(RevokedPolicy);

        // Frames sent after the swap returned carry a mark (sequence from 1,000,000): none of them may arrive.
        var afterSwap = Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                lab.FromCamera(VideoFrame(1_000_000 + i));
            }
        });
        await afterSwap;
        await stop.CancelAsync();
        var total = await sender;

        var arrived = lab.ArrivedAtUplink(TimeSpan.FromMilliseconds(500)).Select(SequenceOf).ToList();
        Assert.True(arrived.Count(s => s >= 1000 && s < 1_000_000) > 10, $"positive control: {arrived.Count} frames of the stream arrived before the swap ({total - 1000} sent)");
        Assert.DoesNotContain(arrived, s => s >= 1_000_000);
        Assert.True(lab.Engine.Counters.ForReason(Reason.FlowRevoked) >= 1, "the engine revoked the flow");
    }

    [RootFact]
    public async Task Offload_IdleFlowPastItsTimeout_ExpiresAndLaterSegmentsAreDropped()
    {
        var options = new EngineOptions { TcpEstablishedTimeout = TimeSpan.FromSeconds(2) };
        await using var lab = Create(offload: true, options);
        Handshake(lab, 44000);
        Eventually.True(() => lab.Offload!.Entries == 1, $"installed {lab.Offload!.Installed}, flows {lab.Engine.Flows.Count}, passed {lab.Engine.Counters.FramesPassed}");

        // Busy for twice the timeout, all of it in the kernel: the read-back keeps the flow alive.
        var until = DateTime.UtcNow.AddSeconds(4);
        var sent = 0;
        while (DateTime.UtcNow < until)
        {
            lab.FromUplink(NvrToCamera(44000, PshAck, sent++));
            Thread.Sleep(20);
        }

        Assert.Equal(sent, lab.ArrivedAtCamera().Count(IsData));
        Assert.True(lab.Offload!.FramesForwarded > sent / 2, $"the kernel forwarded {lab.Offload.FramesForwarded} of {sent}");

        // Idle past the timeout: the engine expires it and the kernel entry goes with it.
        Eventually.True(() => lab.Engine.Flows.Count == 0 && lab.Offload.Entries == 0, "the flow expired", within: TimeSpan.FromSeconds(20));
        for (var i = 0; i < 5; i++)
        {
            lab.FromUplink(NvrToCamera(44000, PshAck, sent++));
        }

        Assert.DoesNotContain(lab.ArrivedAtCamera(), IsData);
        Assert.True(lab.Engine.Counters.ForReason(Reason.TcpStateBypass) >= 5);
    }

    // ---- frames ----

    private static readonly byte[] Data = new byte[100];

    private static void Handshake(XdpBridgeLab lab, ushort nvrPort)
    {
        // Without payload, so that only data segments count as data.
        lab.Settled(() => lab.FromUplink(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(nvrPort, Rtsp, TcpFlags.Syn).ToArray()));
        lab.Settled(() => lab.FromCamera(FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Tcp(Rtsp, nvrPort, SynAck).ToArray()));
        lab.Settled(() => lab.FromUplink(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(nvrPort, Rtsp, TcpFlags.Ack).ToArray()));
    }

    private static void WaitInstalled(XdpBridgeLab lab, bool offload, int atLeast)
    {
        if (offload)
        {
            Eventually.True(() => lab.Offload!.Installed >= atLeast, "the flow was installed");
        }
        else
        {
            Thread.Sleep(20);
        }
    }

    private static byte[] NvrToCamera(ushort nvrPort, TcpFlags flags, int seq)
        => FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(nvrPort, Rtsp, flags).Seq((uint)seq).Payload(Payload(seq)).ToArray();

    private static byte[] CameraToNvr(ushort nvrPort, TcpFlags flags, int seq)
        => FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Tcp(Rtsp, nvrPort, flags).Seq((uint)seq).Payload(Payload(seq)).ToArray();

    private static byte[] VideoFrame(int seq)
        => FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Udp(6000, Video).Payload(Payload(seq)).ToArray();

    /// <summary>A 100-byte payload starting with the sequence number, so each frame is distinct and traceable.</summary>
    private static byte[] Payload(int seq)
    {
        var p = new byte[100];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(p, seq);
        return p;
    }

    private static bool IsData(byte[] frame) => frame.Length >= 14 + 20 + 20 + 100;

    private static int SequenceOf(byte[] frame) => frame.Length >= 46 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(42)) : -1;

    private static MacAddress Mac(ulong value) => new(value);
}
