using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Appliance.Core;
using Appliance.Core.Wire;

namespace Appliance.TestSupport.Frames;

/// <summary>
/// Fluent builder of raw frames for tests: Ethernet with optional VLAN tags, ARP, IPv4 (options, fragments),
/// IPv6 (extension headers), TCP, UDP, ICMP/ICMPv6. Lengths and checksums (IPv4 header, TCP/UDP/ICMP/ICMPv6
/// with the pseudo-header) are computed, so a frame replayed into a real stack is accepted; the override methods
/// (<see cref="TotalLength"/>, <see cref="Ihl"/>, <see cref="DataOffset"/>, <see cref="UdpLength"/>...) write a
/// deliberately wrong value for malformed-input tests.
/// <para>
/// Layers are chosen once each, outer to inner, and field setters apply to the layer they name:
/// <c>FrameBuilder.Ethernet(a, b).Vlan(10).Ipv4("192.0.2.1", "198.51.100.2").Ttl(3).Udp(5000, 53).Payload(q).ToArray()</c>.
/// <see cref="IpPacket"/> starts a builder with no layer 2 (the WinDivert gateway's view).
/// </para>
/// </summary>
public sealed class FrameBuilder
{
    private enum L3 { None, Raw, Arp, Ipv4, Ipv6 }

    private enum L4 { None, Tcp, Udp, Icmp }

    // ---- Layer 2 ----
    private readonly bool _ethernet;
    private readonly MacAddress _srcMac;
    private readonly MacAddress _dstMac;
    private readonly List<(ushort Tpid, ushort Tci)> _tags = [];
    private ushort? _etherType;
    private int _padTo;
    private byte[] _trailer = [];

    // ---- Layer 3 ----
    private L3 _l3;
    private byte[] _srcIp = [];
    private byte[] _dstIp = [];
    private byte? _protocol;
    private byte _ttl = 64;
    private byte _tos;
    private ushort _ipId;
    private bool _df;
    private bool _mf;
    private ushort _fragmentOffset;
    private byte[] _ipv4Options = [];
    private int? _version;
    private int? _ihl;
    private int? _totalLength;
    private int? _payloadLength;
    private bool _badIpChecksum;
    private readonly List<(byte Type, byte[] Body)> _extensions = [];

    // ---- ARP ----
    private ushort _arpOperation;
    private MacAddress _arpSenderMac;
    private MacAddress _arpTargetMac;
    private ushort _arpHardwareType = 1;
    private ushort _arpProtocolType = EtherTypes.Ipv4;
    private byte _arpHardwareLength = 6;
    private byte _arpProtocolLength = 4;

    // ---- Layer 4 ----
    private L4 _l4;
    private ushort _srcPort;
    private ushort _dstPort;
    private TcpFlags _tcpFlags;
    private uint _seq;
    private uint? _ack;
    private ushort _window = 64240;
    private byte[] _tcpOptions = [];
    private int? _dataOffset;
    private int? _udpLength;
    private byte _icmpType;
    private byte _icmpCode;
    private uint _icmpRest;
    private byte[] _payload = [];

    private FrameBuilder(bool ethernet, MacAddress src, MacAddress dst)
    {
        _ethernet = ethernet;
        _srcMac = src;
        _dstMac = dst;
    }

    /// <summary>Starts an Ethernet II frame.</summary>
    public static FrameBuilder Ethernet(MacAddress source, MacAddress destination) => new(true, source, destination);

    /// <summary>Starts a bare IP packet (no layer 2), as a WinDivert gateway sees it. Follow with Ipv4/Ipv6.</summary>
    public static FrameBuilder IpPacket() => new(false, default, default);

    // =====================================================================================================
    // Layer 2
    // =====================================================================================================

    /// <summary>Appends a VLAN tag (outermost first). TPID 0x8100 (802.1Q), 0x88A8 (802.1ad) or 0x9100.</summary>
    public FrameBuilder Vlan(ushort vlanId, ushort tpid = EtherTypes.Vlan, byte priority = 0)
    {
        RequireEthernet();
        _tags.Add((tpid, (ushort)((priority << 13) | (vlanId & 0x0FFF))));
        return this;
    }

    /// <summary>802.1ad S-tag (0x88A8) followed by an 802.1Q C-tag.</summary>
    public FrameBuilder QinQ(ushort outerVlan, ushort innerVlan)
        => Vlan(outerVlan, EtherTypes.QinQ).Vlan(innerVlan, EtherTypes.Vlan);

    /// <summary>Overrides the innermost EtherType (otherwise derived from the layer-3 choice).</summary>
    public FrameBuilder EtherType(ushort etherType)
    {
        RequireEthernet();
        _etherType = etherType;
        if (_l3 == L3.None)
        {
            _l3 = L3.Raw;
        }

        return this;
    }

    /// <summary>Pads the frame with zero bytes up to <paramref name="frameLength"/> (Ethernet minimum is 60 without FCS).</summary>
    public FrameBuilder PadTo(int frameLength = 60)
    {
        _padTo = frameLength;
        return this;
    }

    /// <summary>Appends bytes after the IP packet that its length fields do not cover (padding, FCS, junk).</summary>
    public FrameBuilder Trailer(params byte[] bytes)
    {
        _trailer = bytes;
        return this;
    }

    // =====================================================================================================
    // ARP
    // =====================================================================================================

    /// <summary>Ethernet/IPv4 ARP with an explicit operation (1 request, 2 reply).</summary>
    public FrameBuilder Arp(ushort operation, MacAddress senderMac, string senderIp, MacAddress targetMac, string targetIp)
    {
        SetL3(L3.Arp);
        _arpOperation = operation;
        _arpSenderMac = senderMac;
        _arpTargetMac = targetMac;
        _srcIp = V4(senderIp);
        _dstIp = V4(targetIp);
        return this;
    }

    /// <summary>"Who has <paramref name="targetIp"/>? Tell <paramref name="senderIp"/>" (target MAC zero).</summary>
    public FrameBuilder ArpRequest(MacAddress senderMac, string senderIp, string targetIp)
        => Arp(1, senderMac, senderIp, default, targetIp);

    /// <summary>"<paramref name="senderIp"/> is at <paramref name="senderMac"/>".</summary>
    public FrameBuilder ArpReply(MacAddress senderMac, string senderIp, MacAddress targetMac, string targetIp)
        => Arp(2, senderMac, senderIp, targetMac, targetIp);

    /// <summary>Overrides ARP hardware/protocol type and address lengths (for non-Ethernet/IPv4 ARP).</summary>
    public FrameBuilder ArpTypes(ushort hardwareType, ushort protocolType, byte hardwareLength = 6, byte protocolLength = 4)
    {
        _arpHardwareType = hardwareType;
        _arpProtocolType = protocolType;
        _arpHardwareLength = hardwareLength;
        _arpProtocolLength = protocolLength;
        return this;
    }

    // =====================================================================================================
    // IPv4 / IPv6
    // =====================================================================================================

    /// <summary>IPv4 header (TTL 64, id 0, no flags).</summary>
    public FrameBuilder Ipv4(string source, string destination)
    {
        SetL3(L3.Ipv4);
        _srcIp = V4(source);
        _dstIp = V4(destination);
        return this;
    }

    /// <summary>IPv6 header (hop limit 64).</summary>
    public FrameBuilder Ipv6(string source, string destination)
    {
        SetL3(L3.Ipv6);
        _srcIp = V6(source);
        _dstIp = V6(destination);
        return this;
    }

    /// <summary>IPv4 or IPv6 by the address syntax.</summary>
    public FrameBuilder Ip(string source, string destination)
        => source.Contains(':', StringComparison.Ordinal) ? Ipv6(source, destination) : Ipv4(source, destination);

    /// <summary>IPv4 TTL or IPv6 hop limit.</summary>
    public FrameBuilder Ttl(byte ttl)
    {
        _ttl = ttl;
        return this;
    }

    /// <summary>IPv4 type of service / IPv6 traffic class.</summary>
    public FrameBuilder Tos(byte tos)
    {
        _tos = tos;
        return this;
    }

    /// <summary>IPv4 identification.</summary>
    public FrameBuilder Id(ushort id)
    {
        _ipId = id;
        return this;
    }

    /// <summary>Sets IPv4 DF.</summary>
    public FrameBuilder DontFragment()
    {
        _df = true;
        return this;
    }

    /// <summary>IPv4 fragment fields: offset in 8-byte units and the MF flag.</summary>
    public FrameBuilder Fragment(ushort offset8, bool moreFragments)
    {
        _fragmentOffset = offset8;
        _mf = moreFragments;
        return this;
    }

    /// <summary>IPv4 options (padded with zeros, i.e. End of Option List, to a multiple of 4).</summary>
    public FrameBuilder Ipv4Options(params byte[] options)
    {
        var padded = new byte[(options.Length + 3) & ~3];
        options.CopyTo(padded, 0);
        _ipv4Options = padded;
        return this;
    }

    /// <summary>Overrides the IP version nibble.</summary>
    public FrameBuilder IpVersion(int version)
    {
        _version = version;
        return this;
    }

    /// <summary>Overrides the IPv4 IHL nibble (32-bit words); the header bytes written stay 20 + options.</summary>
    public FrameBuilder Ihl(int words)
    {
        _ihl = words;
        return this;
    }

    /// <summary>Overrides the IPv4 total length.</summary>
    public FrameBuilder TotalLength(int length)
    {
        _totalLength = length;
        return this;
    }

    /// <summary>Overrides the IPv6 payload length.</summary>
    public FrameBuilder PayloadLength(int length)
    {
        _payloadLength = length;
        return this;
    }

    /// <summary>Overrides the IPv4 protocol / the last IPv6 next header (otherwise derived from layer 4).</summary>
    public FrameBuilder Protocol(byte protocol)
    {
        _protocol = protocol;
        return this;
    }

    /// <summary>Writes a wrong IPv4 header checksum.</summary>
    public FrameBuilder BadIpChecksum()
    {
        _badIpChecksum = true;
        return this;
    }

    /// <summary>IPv6 hop-by-hop options header: PadN filling 8 + 8*<paramref name="extraUnits"/> bytes.</summary>
    public FrameBuilder HopByHop(int extraUnits = 0) => ExtensionHeader(IpProtocols.HopByHop, OptionsBody(extraUnits));

    /// <summary>IPv6 destination options header: PadN filling 8 + 8*<paramref name="extraUnits"/> bytes.</summary>
    public FrameBuilder DestinationOptions(int extraUnits = 0) => ExtensionHeader(IpProtocols.DestinationOptions, OptionsBody(extraUnits));

    /// <summary>IPv6 routing header with no addresses (8 bytes; segments left as given).</summary>
    public FrameBuilder Routing(byte routingType = 4, byte segmentsLeft = 0)
        => ExtensionHeader(IpProtocols.Routing, [0, routingType, segmentsLeft, 0, 0, 0, 0]);

    /// <summary>IPv6 fragment header: offset in 8-byte units, M flag and identification.</summary>
    public FrameBuilder FragmentHeader(ushort offset8, bool moreFragments, uint id = 0x1234_5678)
    {
        var body = new byte[7];
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(1), (ushort)((offset8 << 3) | (moreFragments ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(3), id);
        return ExtensionHeader(IpProtocols.Fragment, body);
    }

    /// <summary>IPv6 authentication header with an ICV of <paramref name="icvLength"/> bytes (multiple of 4; 12 for HMAC-SHA1-96).</summary>
    public FrameBuilder AuthenticationHeader(int icvLength = 12, uint spi = 0x100)
    {
        var total = 12 + icvLength;
        var body = new byte[total - 1];
        body[0] = (byte)((total / 4) - 2);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(3), spi);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(7), 1);
        return ExtensionHeader(IpProtocols.Ah, body);
    }

    /// <summary>
    /// A raw IPv6 extension header of <paramref name="type"/>: the builder writes the next-header byte and then
    /// <paramref name="bodyAfterNextHeader"/> verbatim (it starts with the header's length byte).
    /// </summary>
    public FrameBuilder ExtensionHeader(byte type, byte[] bodyAfterNextHeader)
    {
        if (_l3 != L3.Ipv6)
        {
            throw new InvalidOperationException("Extension headers need Ipv6(...) first.");
        }

        _extensions.Add((type, bodyAfterNextHeader));
        return this;
    }

    // =====================================================================================================
    // Layer 4
    // =====================================================================================================

    /// <summary>
    /// TCP segment (window 64240, seq 0, data offset from the options). The acknowledgment number is 0, or 1 when the
    /// ACK flag is set: every default segment then acknowledges a default SYN (sequence 0), as a real peer's would.
    /// </summary>
    public FrameBuilder Tcp(ushort sourcePort, ushort destinationPort, TcpFlags flags)
    {
        SetL4(L4.Tcp);
        _srcPort = sourcePort;
        _dstPort = destinationPort;
        _tcpFlags = flags;
        return this;
    }

    /// <summary>TCP sequence number.</summary>
    public FrameBuilder Seq(uint seq)
    {
        _seq = seq;
        return this;
    }

    /// <summary>TCP acknowledgment number.</summary>
    public FrameBuilder Ack(uint ack)
    {
        _ack = ack;
        return this;
    }

    /// <summary>TCP window.</summary>
    public FrameBuilder Window(ushort window)
    {
        _window = window;
        return this;
    }

    /// <summary>TCP options (padded with zeros to a multiple of 4).</summary>
    public FrameBuilder TcpOptions(params byte[] options)
    {
        var padded = new byte[(options.Length + 3) & ~3];
        options.CopyTo(padded, 0);
        _tcpOptions = padded;
        return this;
    }

    /// <summary>Overrides the TCP data offset nibble (32-bit words); the header bytes written stay 20 + options.</summary>
    public FrameBuilder DataOffset(int words)
    {
        _dataOffset = words;
        return this;
    }

    /// <summary>UDP datagram.</summary>
    public FrameBuilder Udp(ushort sourcePort, ushort destinationPort)
    {
        SetL4(L4.Udp);
        _srcPort = sourcePort;
        _dstPort = destinationPort;
        return this;
    }

    /// <summary>Overrides the UDP length field.</summary>
    public FrameBuilder UdpLength(int length)
    {
        _udpLength = length;
        return this;
    }

    /// <summary>ICMP (over IPv4) or ICMPv6 (over IPv6) message with a literal type and code.</summary>
    public FrameBuilder Icmp(byte type, byte code = 0)
    {
        SetL4(L4.Icmp);
        _icmpType = type;
        _icmpCode = code;
        return this;
    }

    /// <summary>Echo request (or reply): type 8/0 over IPv4, 128/129 over IPv6.</summary>
    public FrameBuilder Echo(ushort id, ushort sequence = 1, bool reply = false)
    {
        var v6 = _l3 == L3.Ipv6;
        Icmp(v6 ? (byte)(reply ? 129 : 128) : (byte)(reply ? 0 : 8));
        _icmpRest = ((uint)id << 16) | sequence;
        return this;
    }

    /// <summary>
    /// An ICMP/ICMPv6 error of <paramref name="type"/>/<paramref name="code"/> quoting <paramref name="quotedIpPacket"/>
    /// (build it with <see cref="IpPacket"/> and cut it to the length the error should carry).
    /// </summary>
    public FrameBuilder IcmpError(byte type, byte code, byte[] quotedIpPacket, uint restOfHeader = 0)
    {
        Icmp(type, code);
        _icmpRest = restOfHeader;
        _payload = quotedIpPacket;
        return this;
    }

    /// <summary>The four bytes after the ICMP checksum (echo id/seq, MTU of packet-too-big, parameter-problem pointer).</summary>
    public FrameBuilder IcmpRest(uint rest)
    {
        _icmpRest = rest;
        return this;
    }

    /// <summary>Application payload (after TCP/UDP/ICMP), or the whole IP payload when no layer 4 was chosen.</summary>
    public FrameBuilder Payload(params byte[] payload)
    {
        _payload = payload;
        return this;
    }

    /// <summary>Payload from a hex string (whitespace ignored).</summary>
    public FrameBuilder PayloadHex(string hex) => Payload(Frames.FromHex(hex));

    // =====================================================================================================
    // Output
    // =====================================================================================================

    /// <summary>The frame (or the bare IP packet for <see cref="IpPacket"/>).</summary>
    public byte[] ToArray()
    {
        var l3 = BuildL3();
        if (!_ethernet)
        {
            return l3;
        }

        var etherType = _etherType ?? _l3 switch
        {
            L3.Arp => EtherTypes.Arp,
            L3.Ipv4 => EtherTypes.Ipv4,
            L3.Ipv6 => EtherTypes.Ipv6,
            _ => throw new InvalidOperationException("Choose a layer 3 or EtherType(...)."),
        };
        var headerLength = 14 + (4 * _tags.Count);
        var length = Math.Max(headerLength + l3.Length + _trailer.Length, _padTo);
        var frame = new byte[length];
        var span = frame.AsSpan();
        _dstMac.WriteTo(span);
        _srcMac.WriteTo(span[6..]);
        var at = 12;
        foreach (var (tpid, tci) in _tags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[at..], tpid);
            BinaryPrimitives.WriteUInt16BigEndian(span[(at + 2)..], tci);
            at += 4;
        }

        BinaryPrimitives.WriteUInt16BigEndian(span[at..], etherType);
        l3.CopyTo(span[headerLength..]);
        _trailer.CopyTo(span[(headerLength + l3.Length)..]);
        return frame;
    }

    /// <summary>Only the layer-3 packet (ARP body or IP packet) without Ethernet, e.g. to quote in an ICMP error.</summary>
    public byte[] ToIpPacket() => BuildL3();

    /// <summary>The frame as lowercase hex.</summary>
    public string ToHex() => Convert.ToHexStringLower(ToArray());

    private byte[] BuildL3() => _l3 switch
    {
        L3.Arp => BuildArp(),
        L3.Ipv4 => BuildIpv4(),
        L3.Ipv6 => BuildIpv6(),
        L3.Raw => _payload,
        _ => throw new InvalidOperationException("Choose a layer 3 first."),
    };

    private byte[] BuildArp()
    {
        var hl = _arpHardwareLength;
        var pl = _arpProtocolLength;
        var arp = new byte[8 + (2 * hl) + (2 * pl)];
        var s = arp.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(s, _arpHardwareType);
        BinaryPrimitives.WriteUInt16BigEndian(s[2..], _arpProtocolType);
        s[4] = hl;
        s[5] = pl;
        BinaryPrimitives.WriteUInt16BigEndian(s[6..], _arpOperation);
        Span<byte> mac = stackalloc byte[6];
        _arpSenderMac.WriteTo(mac);
        mac[..Math.Min(6, (int)hl)].CopyTo(s[8..]);
        _srcIp.AsSpan(0, Math.Min(4, (int)pl)).CopyTo(s[(8 + hl)..]);
        _arpTargetMac.WriteTo(mac);
        mac[..Math.Min(6, (int)hl)].CopyTo(s[(8 + hl + pl)..]);
        _dstIp.AsSpan(0, Math.Min(4, (int)pl)).CopyTo(s[(8 + hl + pl + hl)..]);
        return arp;
    }

    private byte[] BuildIpv4()
    {
        var l4 = BuildL4(out var protocol);
        var headerLength = 20 + _ipv4Options.Length;
        var packet = new byte[headerLength + l4.Length];
        var s = packet.AsSpan();
        s[0] = (byte)(((_version ?? 4) << 4) | ((_ihl ?? (headerLength / 4)) & 0x0F));
        s[1] = _tos;
        BinaryPrimitives.WriteUInt16BigEndian(s[2..], (ushort)(_totalLength ?? packet.Length));
        BinaryPrimitives.WriteUInt16BigEndian(s[4..], _ipId);
        var flags = (_df ? 0x4000 : 0) | (_mf ? 0x2000 : 0) | (_fragmentOffset & 0x1FFF);
        BinaryPrimitives.WriteUInt16BigEndian(s[6..], (ushort)flags);
        s[8] = _ttl;
        s[9] = _protocol ?? protocol;
        _srcIp.CopyTo(s[12..]);
        _dstIp.CopyTo(s[16..]);
        _ipv4Options.CopyTo(s[20..]);
        var checksum = Checksum.Finish(Checksum.Add(0, s[..headerLength]));
        BinaryPrimitives.WriteUInt16BigEndian(s[10..], (ushort)(_badIpChecksum ? checksum ^ 0x5A5A : checksum));
        l4.CopyTo(s[headerLength..]);
        return packet;
    }

    private byte[] BuildIpv6()
    {
        var l4 = BuildL4(out var protocol);
        var extLength = 0;
        foreach (var (_, body) in _extensions)
        {
            extLength += 1 + body.Length;
        }

        var packet = new byte[40 + extLength + l4.Length];
        var s = packet.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(s, (uint)(((_version ?? 6) << 28) | (_tos << 20)));
        BinaryPrimitives.WriteUInt16BigEndian(s[4..], (ushort)(_payloadLength ?? (packet.Length - 40)));
        s[7] = _ttl;
        _srcIp.CopyTo(s[8..]);
        _dstIp.CopyTo(s[24..]);
        var finalProtocol = _protocol ?? protocol;
        s[6] = _extensions.Count > 0 ? _extensions[0].Type : finalProtocol;
        var at = 40;
        for (var i = 0; i < _extensions.Count; i++)
        {
            s[at] = i + 1 < _extensions.Count ? _extensions[i + 1].Type : finalProtocol;
            _extensions[i].Body.CopyTo(s[(at + 1)..]);
            at += 1 + _extensions[i].Body.Length;
        }

        l4.CopyTo(s[at..]);
        return packet;
    }

    private byte[] BuildL4(out byte protocol)
    {
        var v6 = _l3 == L3.Ipv6;
        switch (_l4)
        {
            case L4.Tcp:
                {
                    protocol = IpProtocols.Tcp;
                    var headerLength = 20 + _tcpOptions.Length;
                    var seg = new byte[headerLength + _payload.Length];
                    var s = seg.AsSpan();
                    BinaryPrimitives.WriteUInt16BigEndian(s, _srcPort);
                    BinaryPrimitives.WriteUInt16BigEndian(s[2..], _dstPort);
                    BinaryPrimitives.WriteUInt32BigEndian(s[4..], _seq);
                    BinaryPrimitives.WriteUInt32BigEndian(s[8..], _ack ?? ((_tcpFlags & TcpFlags.Ack) != 0 ? 1u : 0u));
                    s[12] = (byte)((_dataOffset ?? (headerLength / 4)) << 4);
                    s[13] = (byte)_tcpFlags;
                    BinaryPrimitives.WriteUInt16BigEndian(s[14..], _window);
                    _tcpOptions.CopyTo(s[20..]);
                    _payload.CopyTo(s[headerLength..]);
                    BinaryPrimitives.WriteUInt16BigEndian(s[16..], PseudoChecksum(protocol, seg));
                    return seg;
                }

            case L4.Udp:
                {
                    protocol = IpProtocols.Udp;
                    var dgram = new byte[8 + _payload.Length];
                    var s = dgram.AsSpan();
                    BinaryPrimitives.WriteUInt16BigEndian(s, _srcPort);
                    BinaryPrimitives.WriteUInt16BigEndian(s[2..], _dstPort);
                    BinaryPrimitives.WriteUInt16BigEndian(s[4..], (ushort)(_udpLength ?? dgram.Length));
                    _payload.CopyTo(s[8..]);
                    var sum = PseudoChecksum(protocol, dgram);
                    BinaryPrimitives.WriteUInt16BigEndian(s[6..], sum == 0 ? (ushort)0xFFFF : sum);
                    return dgram;
                }

            case L4.Icmp:
                {
                    protocol = v6 ? IpProtocols.Icmpv6 : IpProtocols.Icmp;
                    var msg = new byte[8 + _payload.Length];
                    var s = msg.AsSpan();
                    s[0] = _icmpType;
                    s[1] = _icmpCode;
                    BinaryPrimitives.WriteUInt32BigEndian(s[4..], _icmpRest);
                    _payload.CopyTo(s[8..]);
                    var sum = v6 ? PseudoChecksum(protocol, msg) : Checksum.Finish(Checksum.Add(0, msg));
                    BinaryPrimitives.WriteUInt16BigEndian(s[2..], sum);
                    return msg;
                }

            default:
                // No layer 4: the payload is the whole IP payload; 253 is "use for experimentation" (RFC 3692).
                protocol = 253;
                return _payload;
        }
    }

    private ushort PseudoChecksum(byte protocol, ReadOnlySpan<byte> segment)
    {
        var sum = Checksum.Add(0, _srcIp);
        sum = Checksum.Add(sum, _dstIp);
        sum += protocol;
        sum += (uint)segment.Length;
        return Checksum.Finish(Checksum.Add(sum, segment));
    }

    private static byte[] OptionsBody(int extraUnits)
    {
        // Length byte, then one PadN option filling the rest: 8*(1+extra) - 2 bytes of option = type 1, len n-2.
        var body = new byte[7 + (8 * extraUnits)];
        body[0] = (byte)extraUnits;
        body[1] = 1;
        body[2] = (byte)(body.Length - 3);
        return body;
    }

    private void SetL3(L3 kind)
    {
        if (_l3 is not L3.None)
        {
            throw new InvalidOperationException($"Layer 3 is already {_l3}.");
        }

        _l3 = kind;
    }

    private void SetL4(L4 kind)
    {
        if (_l3 is not (L3.Ipv4 or L3.Ipv6))
        {
            throw new InvalidOperationException("Choose Ipv4(...) or Ipv6(...) before a layer-4 header.");
        }

        if (_l4 is not L4.None)
        {
            throw new InvalidOperationException($"Layer 4 is already {_l4}.");
        }

        _l4 = kind;
    }

    private void RequireEthernet()
    {
        if (!_ethernet)
        {
            throw new InvalidOperationException("A bare IP packet has no layer 2.");
        }
    }

    private static byte[] V4(string address)
    {
        var ip = IPAddress.Parse(address);
        return ip.AddressFamily == AddressFamily.InterNetwork
            ? ip.GetAddressBytes()
            : throw new ArgumentException($"'{address}' is not an IPv4 address.", nameof(address));
    }

    private static byte[] V6(string address)
    {
        var ip = IPAddress.Parse(address);
        return ip.AddressFamily == AddressFamily.InterNetworkV6
            ? ip.GetAddressBytes()
            : throw new ArgumentException($"'{address}' is not an IPv6 address.", nameof(address));
    }
}

/// <summary>The Internet checksum (RFC 1071), for building frames.</summary>
public static class Checksum
{
    /// <summary>Adds 16-bit big-endian words of <paramref name="data"/> to a running sum (odd tail padded with zero).</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return sum;
    }

    /// <summary>Folds the carries and complements.</summary>
    public static ushort Finish(uint sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
