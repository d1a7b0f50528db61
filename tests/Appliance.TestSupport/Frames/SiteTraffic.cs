using System.Buffers.Binary;
using System.Net;
using System.Text;
using Appliance.Core;

namespace Appliance.TestSupport.Frames;

/// <summary>One captured frame: bytes, the bridge side it arrived on, its time, and what the test calls it.</summary>
public sealed record CapturedFrame(byte[] Frame, Side Side, long TimestampMicros, string Label);

/// <summary>
/// Writes realistic site traffic frame by frame, as a capture on the bridge would hold it: whole TCP connections
/// (handshake with real sequence numbers, data, FIN), UDP exchanges, DNS lookups with real answers, ARP, DHCP and
/// WS-Discovery. Every uplink host is behind one router MAC, as on a routed site. Deterministic: ephemeral ports,
/// DNS ids and sequence numbers come from counters, not from a random source.
/// </summary>
public sealed class SiteTraffic(DateTimeOffset start, int portBase = 40000)
{
    private readonly List<CapturedFrame> _frames = [];
    private long _micros = start.ToUnixTimeMilliseconds() * 1000;
    private int _ephemeral = portBase;
    private ushort _dnsId = (ushort)(portBase & 0xffff);
    private uint _isn = (uint)portBase * 7919u;

    /// <summary>The router every uplink host is behind.</summary>
    public static readonly MacAddress RouterMac = Frames.Mac("02:00:00:00:0a:fe");

    /// <summary>The frames so far, in time order.</summary>
    public IReadOnlyList<CapturedFrame> All => _frames;

    /// <summary>Moves the clock on.</summary>
    public SiteTraffic Wait(TimeSpan time)
    {
        _micros += (long)time.TotalMicroseconds;
        return this;
    }

    /// <summary>
    /// A whole TCP connection. <paramref name="cameraOpens"/>: egress (else the peer opens it to the camera).
    /// <paramref name="answer"/> false: the SYN gets no answer (tried 3 times); <paramref name="refuse"/>: it is reset.
    /// </summary>
    public SiteTraffic Tcp(MacAddress camMac, string camIp, bool cameraOpens, string peerIp, ushort serverPort, int dataPackets, string label, bool answer = true, bool refuse = false)
    {
        var ephemeral = NextPort();
        var (clientMac, clientIp, serverMac, serverIp) = cameraOpens ? (camMac, camIp, RouterMac, peerIp) : (RouterMac, peerIp, camMac, camIp);
        var clientSide = cameraOpens ? Side.Camera : Side.Uplink;
        var serverSide = cameraOpens ? Side.Uplink : Side.Camera;
        var c = _isn += 100_003;
        var s = _isn += 100_003;
        if (!answer)
        {
            for (var i = 0; i < 3; i++)
            {
                Add(Core.Wire.TcpFlags.Syn, clientMac, serverMac, clientIp, serverIp, ephemeral, serverPort, c, 0, [], clientSide, label);
                Wait(TimeSpan.FromSeconds(1 << i));
            }

            return this;
        }

        Add(Core.Wire.TcpFlags.Syn, clientMac, serverMac, clientIp, serverIp, ephemeral, serverPort, c, 0, [], clientSide, label);
        Wait(TimeSpan.FromMilliseconds(1));
        if (refuse)
        {
            Add(Core.Wire.TcpFlags.Rst | Core.Wire.TcpFlags.Ack, serverMac, clientMac, serverIp, clientIp, serverPort, ephemeral, 0, c + 1, [], serverSide, label);
            return this;
        }

        Add(Core.Wire.TcpFlags.Syn | Core.Wire.TcpFlags.Ack, serverMac, clientMac, serverIp, clientIp, serverPort, ephemeral, s, c + 1, [], serverSide, label);
        Wait(TimeSpan.FromMilliseconds(1));
        c++;
        s++;
        Add(Core.Wire.TcpFlags.Ack, clientMac, serverMac, clientIp, serverIp, ephemeral, serverPort, c, s, [], clientSide, label);
        for (var i = 0; i < dataPackets; i++)
        {
            Wait(TimeSpan.FromMilliseconds(20));
            var fromClient = i % 3 == 0;
            var payload = Payload(fromClient ? 120 : 1200, i);
            if (fromClient)
            {
                Add(Core.Wire.TcpFlags.Ack | Core.Wire.TcpFlags.Psh, clientMac, serverMac, clientIp, serverIp, ephemeral, serverPort, c, s, payload, clientSide, label);
                c += (uint)payload.Length;
            }
            else
            {
                Add(Core.Wire.TcpFlags.Ack | Core.Wire.TcpFlags.Psh, serverMac, clientMac, serverIp, clientIp, serverPort, ephemeral, s, c, payload, serverSide, label);
                s += (uint)payload.Length;
            }
        }

        Wait(TimeSpan.FromMilliseconds(5));
        Add(Core.Wire.TcpFlags.Fin | Core.Wire.TcpFlags.Ack, clientMac, serverMac, clientIp, serverIp, ephemeral, serverPort, c, s, [], clientSide, label);
        Wait(TimeSpan.FromMilliseconds(1));
        Add(Core.Wire.TcpFlags.Fin | Core.Wire.TcpFlags.Ack, serverMac, clientMac, serverIp, clientIp, serverPort, ephemeral, s, c + 1, [], serverSide, label);
        Wait(TimeSpan.FromMilliseconds(1));
        Add(Core.Wire.TcpFlags.Ack, clientMac, serverMac, clientIp, serverIp, ephemeral, serverPort, c + 1, s + 1, [], clientSide, label);
        return this;
    }

    /// <summary>The camera sends one datagram to <paramref name="peerIp"/>:<paramref name="serverPort"/> and (unless <paramref name="answered"/> is false) gets one back.</summary>
    public SiteTraffic Udp(MacAddress camMac, string camIp, string peerIp, ushort serverPort, string label, bool answered = true)
    {
        var port = NextPort();
        _frames.Add(new CapturedFrame(Frames.Udp(camMac, RouterMac, camIp, peerIp, port, serverPort).Payload(Payload(48, port)).ToArray(), Side.Camera, _micros, label));
        if (answered)
        {
            Wait(TimeSpan.FromMilliseconds(2));
            _frames.Add(new CapturedFrame(Frames.Udp(RouterMac, camMac, peerIp, camIp, serverPort, port).Payload(Payload(48, port + 1)).ToArray(), Side.Uplink, _micros, label));
        }

        return this;
    }

    /// <summary>A peer sends one datagram to the camera's <paramref name="serverPort"/> and (unless <paramref name="answered"/> is false) gets one back.</summary>
    public SiteTraffic UdpFromPeer(MacAddress camMac, string camIp, string peerIp, ushort serverPort, string label, bool answered = true)
    {
        var port = NextPort();
        _frames.Add(new CapturedFrame(Frames.Udp(RouterMac, camMac, peerIp, camIp, port, serverPort).Payload(Payload(48, port)).ToArray(), Side.Uplink, _micros, label));
        if (answered)
        {
            Wait(TimeSpan.FromMilliseconds(2));
            _frames.Add(new CapturedFrame(Frames.Udp(camMac, RouterMac, camIp, peerIp, serverPort, port).Payload(Payload(48, port + 1)).ToArray(), Side.Camera, _micros, label));
        }

        return this;
    }

    /// <summary>The camera asks <paramref name="resolver"/> for <paramref name="name"/> (A) and gets <paramref name="addresses"/> back.</summary>
    public SiteTraffic Dns(MacAddress camMac, string camIp, string resolver, string name, string label, params string[] addresses)
    {
        var port = NextPort();
        var id = _dnsId++;
        _frames.Add(new CapturedFrame(Frames.Udp(camMac, RouterMac, camIp, resolver, port, 53).Payload(DnsQuery(id, name)).ToArray(), Side.Camera, _micros, label));
        Wait(TimeSpan.FromMilliseconds(3));
        _frames.Add(new CapturedFrame(Frames.Udp(RouterMac, camMac, resolver, camIp, 53, port).Payload(DnsAnswer(id, name, addresses)).ToArray(), Side.Uplink, _micros, label));
        return this;
    }

    /// <summary>An ARP request from the camera for the router's address.</summary>
    public SiteTraffic Arp(MacAddress camMac, string camIp, string targetIp, string label)
    {
        _frames.Add(new CapturedFrame(Frames.ArpRequest(camMac, camIp, targetIp).ToArray(), Side.Camera, _micros, label));
        return this;
    }

    /// <summary>A DHCP discover from the camera (broadcast, from 0.0.0.0).</summary>
    public SiteTraffic DhcpDiscover(MacAddress camMac, string label)
    {
        var bootp = new byte[244];
        bootp[0] = 1;
        bootp[1] = 1;
        bootp[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(bootp.AsSpan(4), 0x1234_5678);
        camMac.WriteTo(bootp.AsSpan(28));
        bootp[236] = 99;
        bootp[237] = 130;
        bootp[238] = 83;
        bootp[239] = 99;
        bootp[240] = 53;
        bootp[241] = 1;
        bootp[242] = 1;
        bootp[243] = 255;
        _frames.Add(new CapturedFrame(FrameBuilder.Ethernet(camMac, MacAddress.Broadcast).Ipv4("0.0.0.0", "255.255.255.255").Udp(68, 67).Payload(bootp).ToArray(), Side.Camera, _micros, label));
        return this;
    }

    /// <summary>A WS-Discovery hello from the camera (UDP 3702 to 239.255.255.250).</summary>
    public SiteTraffic WsDiscovery(MacAddress camMac, string camIp, string label)
    {
        _frames.Add(new CapturedFrame(
            FrameBuilder.Ethernet(camMac, Frames.Mac("01:00:5e:7f:ff:fa")).Ipv4(camIp, "239.255.255.250").Udp(3702, 3702).Payload(Encoding.ASCII.GetBytes("<Hello/>")).ToArray(),
            Side.Camera, _micros, label));
        return this;
    }

    /// <summary>A DNS query for one A record.</summary>
    public static byte[] DnsQuery(ushort id, string name)
    {
        var bytes = new List<byte>();
        U16(bytes, id);
        U16(bytes, 0x0100);
        U16(bytes, 1);
        U16(bytes, 0);
        U16(bytes, 0);
        U16(bytes, 0);
        Question(bytes, name);
        return [.. bytes];
    }

    /// <summary>A DNS answer to <see cref="DnsQuery"/> with one A record per address (TTL 300).</summary>
    public static byte[] DnsAnswer(ushort id, string name, IReadOnlyList<string> addresses)
    {
        var bytes = new List<byte>();
        U16(bytes, id);
        U16(bytes, 0x8180);
        U16(bytes, 1);
        U16(bytes, addresses.Count);
        U16(bytes, 0);
        U16(bytes, 0);
        Question(bytes, name);
        foreach (var address in addresses)
        {
            U16(bytes, 0xC00C);
            U16(bytes, 1);
            U16(bytes, 1);
            U16(bytes, 0);
            U16(bytes, 300);
            U16(bytes, 4);
            bytes.AddRange(IPAddress.Parse(address).GetAddressBytes());
        }

        return [.. bytes];
    }

    private static void Question(List<byte> bytes, string name)
    {
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        U16(bytes, 1);
        U16(bytes, 1);
    }

    private static void U16(List<byte> bytes, int value)
    {
        bytes.Add((byte)(value >> 8));
        bytes.Add((byte)value);
    }

    private static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(seed + (i * 31));
        }

        return bytes;
    }

    private ushort NextPort()
    {
        _ephemeral = _ephemeral >= 60999 ? 32768 : _ephemeral + 1;
        return (ushort)_ephemeral;
    }

    private void Add(Core.Wire.TcpFlags flags, MacAddress srcMac, MacAddress dstMac, string srcIp, string dstIp, ushort srcPort, ushort dstPort, uint seq, uint ack, byte[] payload, Side side, string label)
    {
        var builder = Frames.Tcp(srcMac, dstMac, srcIp, dstIp, srcPort, dstPort, flags).Seq(seq).Ack(ack);
        if (payload.Length > 0)
        {
            builder.Payload(payload);
        }

        _frames.Add(new CapturedFrame(builder.ToArray(), side, _micros, label));
    }
}
