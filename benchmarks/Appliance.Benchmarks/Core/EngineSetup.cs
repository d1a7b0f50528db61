using System.Buffers.Binary;
using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Benchmarks.Core;

/// <summary>
/// A synthetic site for the engine benchmarks: <c>n</c> cameras, each bound by MAC and IPv4 address, all built from
/// one profile (so the rule tables are shared, as on a real site), an NVR on the uplink. Frames are written here
/// directly (the benchmarks do not reference test code); the parser checks no checksums.
/// </summary>
internal static class EngineSetup
{
    public static readonly MacAddress NvrMac = new(0x0200_0000_0A01UL);
    public static readonly uint NvrIp = 0x0A00_010A; // 10.0.1.10

    public static MacAddress CameraMac(int i) => new(0x0200_0100_0000UL + (ulong)i);

    public static uint CameraIp(int i) => 0x0A40_0000u + (uint)i; // 10.64.0.0/10: room for 4 million

    public static PolicySpec Site(int cameras)
    {
        RuleSpec[] profile =
        [
            new() { Id = "nvr-rtsp", Direction = Direction.Ingress, Protocol = RuleProtocol.Tcp, Ports = [new(554, 554)], Peers = [IPNetwork.Parse("10.0.1.10/32")] },
            new() { Id = "nvr-upload", Direction = Direction.Egress, Protocol = RuleProtocol.Tcp, Ports = [new(443, 443), new(8000, 8010)], Peers = [IPNetwork.Parse("10.0.1.0/24")] },
            new() { Id = "dns", Direction = Direction.Egress, Protocol = RuleProtocol.Udp, Ports = [new(53, 53)], Peers = [IPNetwork.Parse("10.0.1.1/32")] },
            new() { Id = "ntp", Direction = Direction.Egress, Protocol = RuleProtocol.Udp, Ports = [new(123, 123)], Peers = [IPNetwork.Parse("10.0.1.1/32")] },
            new() { Id = "ping", Direction = Direction.Ingress, Protocol = RuleProtocol.Icmp, IcmpTypes = [8], Peers = [IPNetwork.Parse("10.0.1.10/32")] },
        ];
        var list = new CameraSpec[cameras];
        for (var i = 0; i < cameras; i++)
        {
            list[i] = new CameraSpec
            {
                Name = $"cam-{i}",
                Mac = CameraMac(i),
                Addresses = [IpAddr.FromV4(CameraIp(i)).ToIPAddress()],
                Rules = profile,
            };
        }

        return new PolicySpec { Cameras = list, Sha256 = new string('0', 64) };
    }

    public static PacketEngine Engine(int cameras, EngineOptions options)
    {
        var holder = new PolicyHolder(new CameraSlotRegistry(Math.Max(cameras, 16)));
        holder.Swap(CompiledPolicy.Compile(Site(cameras), holder.NextVersion(), holder.Slots));
        return new PacketEngine(holder, options);
    }

    /// <summary>A 60-byte Ethernet/IPv4/TCP segment (the minimum frame, as at 10GbE line rate).</summary>
    public static byte[] Tcp(MacAddress srcMac, MacAddress dstMac, uint srcIp, uint dstIp, ushort srcPort, ushort dstPort, TcpFlags flags, uint seq = 0, uint ack = 0)
    {
        var f = new byte[60];
        dstMac.WriteTo(f);
        srcMac.WriteTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherTypes.Ipv4);
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], 40);
        ip[8] = 64;
        ip[9] = IpProtocols.Tcp;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], srcIp);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], dstIp);
        var tcp = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], dstPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
        tcp[12] = 5 << 4;
        tcp[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 64240);
        return f;
    }

    /// <summary>Throws unless every frame gets the expected verdict: a benchmark of the wrong path measures nothing.</summary>
    public static void Expect(PacketEngine engine, byte[][] frames, Side side, long nowMs, Reason reason)
    {
        foreach (var frame in frames)
        {
            var v = engine.ProcessFrame(frame, side, nowMs);
            if (v.Reason != reason)
            {
                throw new InvalidOperationException($"benchmark frame decided {v.Reason}, expected {reason}");
            }
        }
    }
}
