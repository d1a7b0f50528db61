using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;

namespace Appliance.Transport;

/// <summary>
/// Warms the decision path before the ports open, so the first frames after a start (upgrade, watchdog, power) are
/// not decided by cold code while the capture rings fill: a throwaway engine with its own small policy, flow table
/// and counters decides synthetic traffic (TCP handshakes, data both ways, closes; UDP streams and answers; drops;
/// ARP; IPv6) in bursts with pauses between them, so the runtime's tiered JIT counts the calls and installs its
/// optimised code for the parser, the engine and the flow table. Nothing of the real engines is touched.
/// </summary>
public static class EngineWarmup
{
    private const int Cameras = 16;
    private const int Bursts = 8;
    private const int RoundsPerBurst = 64;

    /// <summary>Runs the warm-up (about a second) and returns how long it took and how many frames it decided.</summary>
    public static (TimeSpan Elapsed, long Frames) Run()
    {
        var started = Stopwatch.GetTimestamp();
        var holder = new PolicyHolder(new CameraSlotRegistry());
        holder.Swap(CompiledPolicy.Compile(Spec(), holder.NextVersion(), holder.Slots));
        var engine = new PacketEngine(holder, new EngineOptions { FlowCapacity = 4096, EventRingCapacity = 1024, MaintenanceSlotsPerCall = 256 });
        Span<byte> frame = stackalloc byte[1514];
        var now = 1_000_000L;
        var port = (ushort)20000;
        for (var burst = 0; burst < Bursts; burst++)
        {
            for (var round = 0; round < RoundsPerBurst; round++)
            {
                for (var c = 0; c < Cameras; c++)
                {
                    Traffic(engine, frame, c, port++, now);
                    if (port > 60000)
                    {
                        port = 20000;
                    }
                }

                engine.Maintain(now);
                now += 7;
            }

            // Tiered compilation starts counting calls once no new method was compiled for a moment, then compiles
            // the hot ones in the background: pause so the next burst runs, and counts, the recompiled code.
            Thread.Sleep(120);
        }

        return (Stopwatch.GetElapsedTime(started), engine.Counters.FramesTotal);
    }

    private static void Traffic(PacketEngine engine, Span<byte> buffer, int camera, ushort port, long now)
    {
        var camMac = 0x0200_0000_0100UL + (ulong)camera;
        const ulong RouterMac = 0x0200_0000_0A01UL;
        var cam = 0xC000_0200u + 10 + (uint)camera; // 192.0.2.10+
        const uint Peer = 0xC633_6414u;             // 198.51.100.20
        const byte Syn = 0x02, Ack = 0x10, Psh = 0x08, Fin = 0x01, Rst = 0x04;

        // TCP: the NVR opens RTSP, data both ways, both close.
        Decide(engine, buffer[..Tcp(buffer, RouterMac, camMac, Peer, cam, port, 554, Syn, 0)], Side.Uplink, now);
        Decide(engine, buffer[..Tcp(buffer, camMac, RouterMac, cam, Peer, 554, port, Syn | Ack, 0)], Side.Camera, now);
        Decide(engine, buffer[..Tcp(buffer, RouterMac, camMac, Peer, cam, port, 554, Ack, 0)], Side.Uplink, now);
        for (var i = 0; i < 8; i++)
        {
            Decide(engine, buffer[..Tcp(buffer, camMac, RouterMac, cam, Peer, 554, port, Psh | Ack, 1200)], Side.Camera, now);
            Decide(engine, buffer[..Tcp(buffer, RouterMac, camMac, Peer, cam, port, 554, Ack, 0)], Side.Uplink, now);
        }

        Decide(engine, buffer[..Tcp(buffer, camMac, RouterMac, cam, Peer, 554, port, Fin | Ack, 0)], Side.Camera, now);
        Decide(engine, buffer[..Tcp(buffer, RouterMac, camMac, Peer, cam, port, 554, Fin | Ack, 0)], Side.Uplink, now);
        Decide(engine, buffer[..Tcp(buffer, camMac, RouterMac, cam, Peer, 554, port, Ack, 0)], Side.Camera, now);

        // UDP video out and an answer; a refused opener, a reset without a flow, an unknown device.
        for (var i = 0; i < 8; i++)
        {
            Decide(engine, buffer[..Udp(buffer, camMac, RouterMac, cam, Peer, port, 5004, 1400)], Side.Camera, now);
        }

        Decide(engine, buffer[..Udp(buffer, RouterMac, camMac, Peer, cam, 5004, port, 40)], Side.Uplink, now);
        Decide(engine, buffer[..Tcp(buffer, camMac, RouterMac, cam, Peer, port, 443, Syn, 0)], Side.Camera, now);
        Decide(engine, buffer[..Tcp(buffer, RouterMac, camMac, Peer, cam, port, 80, Rst, 0)], Side.Uplink, now);
        Decide(engine, buffer[..Udp(buffer, 0x0200_0000_0BFFUL, RouterMac, 0xC000_02FEu, Peer, port, 53, 40)], Side.Camera, now);

        // ARP and IPv6.
        Decide(engine, buffer[..Arp(buffer, camMac, cam, 0xC000_0201u)], Side.Camera, now);
        Decide(engine, buffer[..Udp6(buffer, camMac, RouterMac, camera, port, 5004, 1200)], Side.Camera, now);
    }

    private static void Decide(PacketEngine engine, ReadOnlySpan<byte> frame, Side side, long now) => engine.ProcessFrame(frame, side, now);

    private static int Ethernet(Span<byte> f, ulong src, ulong dst, ushort etherType)
    {
        new MacAddress(dst).WriteTo(f);
        new MacAddress(src).WriteTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], etherType);
        return 14;
    }

    private static int Ipv4(Span<byte> f, uint src, uint dst, byte protocol, int payload)
    {
        f[0] = 0x45;
        f[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(f[2..], (ushort)(20 + payload));
        BinaryPrimitives.WriteUInt32BigEndian(f[4..], 0x4000_0000u); // id 0, DF
        f[8] = 64;
        f[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(f[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(f[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(f[16..], dst);
        return 20;
    }

    private static int Tcp(Span<byte> f, ulong srcMac, ulong dstMac, uint src, uint dst, ushort sport, ushort dport, byte flags, int data)
    {
        var o = Ethernet(f, srcMac, dstMac, 0x0800);
        o += Ipv4(f[o..], src, dst, 6, 20 + data);
        f.Slice(o, 20 + data).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(f[o..], sport);
        BinaryPrimitives.WriteUInt16BigEndian(f[(o + 2)..], dport);
        f[o + 12] = 5 << 4;
        f[o + 13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(f[(o + 14)..], 65535);
        return o + 20 + data;
    }

    private static int Udp(Span<byte> f, ulong srcMac, ulong dstMac, uint src, uint dst, ushort sport, ushort dport, int data)
    {
        var o = Ethernet(f, srcMac, dstMac, 0x0800);
        o += Ipv4(f[o..], src, dst, 17, 8 + data);
        return o + UdpHeader(f[o..], sport, dport, data);
    }

    private static int Udp6(Span<byte> f, ulong srcMac, ulong dstMac, int camera, ushort sport, ushort dport, int data)
    {
        var o = Ethernet(f, srcMac, dstMac, 0x86DD);
        f.Slice(o, 40).Clear();
        f[o] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(f[(o + 4)..], (ushort)(8 + data));
        f[o + 6] = 17;
        f[o + 7] = 64;
        BinaryPrimitives.WriteUInt128BigEndian(f[(o + 8)..], Camera6(camera));
        BinaryPrimitives.WriteUInt128BigEndian(f[(o + 24)..], Peer6);
        o += 40;
        return o + UdpHeader(f[o..], sport, dport, data);
    }

    private static int UdpHeader(Span<byte> f, ushort sport, ushort dport, int data)
    {
        f[..(8 + data)].Clear();
        BinaryPrimitives.WriteUInt16BigEndian(f, sport);
        BinaryPrimitives.WriteUInt16BigEndian(f[2..], dport);
        BinaryPrimitives.WriteUInt16BigEndian(f[4..], (ushort)(8 + data));
        return 8 + data;
    }

    private static int Arp(Span<byte> f, ulong mac, uint ip, uint target)
    {
        var o = Ethernet(f, mac, 0xFFFF_FFFF_FFFFUL, 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(f[o..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(f[(o + 2)..], 0x0800);
        f[o + 4] = 6;
        f[o + 5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(f[(o + 6)..], 1);
        new MacAddress(mac).WriteTo(f[(o + 8)..]);
        BinaryPrimitives.WriteUInt32BigEndian(f[(o + 14)..], ip);
        f.Slice(o + 18, 6).Clear();
        BinaryPrimitives.WriteUInt32BigEndian(f[(o + 24)..], target);
        return o + 28;
    }

    private static readonly UInt128 Peer6 = new(0x2001_0DB8_0064_0000UL, 0x20);

    private static UInt128 Camera6(int camera) => new(0x2001_0DB8_0002_0000UL, 0x10 + (ulong)camera);

    private static PolicySpec Spec()
    {
        var peers = new List<IPNetwork> { IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("2001:db8:64::/48") };
        var rules = new List<RuleSpec>
        {
            new() { Id = "rtsp", Direction = Direction.Ingress, Protocol = RuleProtocol.Tcp, Ports = [new PortRange(554, 554)], Peers = peers },
            new() { Id = "video", Direction = Direction.Egress, Protocol = RuleProtocol.Udp, Ports = [new PortRange(5004, 5004)], Peers = peers },
        };
        var cameras = new List<CameraSpec>();
        for (var c = 0; c < Cameras; c++)
        {
            cameras.Add(new CameraSpec
            {
                Name = $"warmup-{c}",
                Mac = new MacAddress(0x0200_0000_0100UL + (ulong)c),
                Addresses = [new IPAddress(BinaryPrimitives.ReverseEndianness(0xC000_0200u + 10 + (uint)c)), IPAddress.Parse($"2001:db8:2::{0x10 + c:x}")],
                AllowIpv6 = true,
                Rules = rules,
            });
        }

        return new PolicySpec { Cameras = cameras, Sha256 = new string('0', 64) };
    }
}
