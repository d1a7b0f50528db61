using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// Every malformed-input reason the parser can return, each from a frame built to hit exactly that check. A frame
/// that fails to parse must never come back as "parsed, no L4" (the fall-through that bypassed Linux and FreeBSD).
/// </summary>
public class FrameParserMalformedTests
{
    private const string A = "192.0.2.10";
    private const string B = "198.51.100.5";
    private const string A6 = "2001:db8::10";
    private const string B6 = "2001:db8::5";

    private static FrameBuilder Eth() => FrameBuilder.Ethernet(Frames.CameraMac, Frames.NvrMac);

    private static byte[] Cut(byte[] frame, int length) => frame.AsSpan(0, length).ToArray();

    private static byte[] Patch(byte[] frame, int offset, params byte[] bytes)
    {
        var copy = (byte[])frame.Clone();
        bytes.CopyTo(copy, offset);
        return copy;
    }

    private static readonly byte[] Syn4 = Frames.Tcp(Frames.CameraMac, Frames.NvrMac, A, B, 40000, 554, TcpFlags.Syn).ToArray();
    private static readonly byte[] Syn6 = Frames.Tcp(Frames.CameraMac, Frames.NvrMac, A6, B6, 40000, 554, TcpFlags.Syn).ToArray();

    public static TheoryData<string, byte[], Reason> EthernetCases => new()
    {
        // ---- Ethernet and VLAN ----
        // Nothing at all.
        { "empty frame", [], Reason.TruncatedEthernet },
        // One byte short of dst+src+type.
        { "13-byte frame", Cut(Syn4, 13), Reason.TruncatedEthernet },
        // Three tags: S-tag, C-tag, and a third 802.1Q tag hiding the payload from a two-tag parser.
        { "three VLAN tags", Eth().QinQ(10, 20).Vlan(30).Ipv4(A, B).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.TooManyVlanTags },
        // Three legacy 0x9100 tags.
        { "three 0x9100 tags", Eth().Vlan(1, EtherTypes.QinQLegacy).Vlan(2, EtherTypes.QinQLegacy).Vlan(3, EtherTypes.QinQLegacy).Ipv4(A, B).ToArray(), Reason.TooManyVlanTags },
        // TPID 0x8100 and only two bytes of TCI, no inner EtherType.
        { "VLAN tag cut after TCI", Cut(Eth().Vlan(5).Ipv4(A, B).ToArray(), 16), Reason.TruncatedVlan },
        // Second tag's TPID present, its TCI missing.
        { "second VLAN tag cut", Cut(Eth().QinQ(5, 6).Ipv4(A, B).ToArray(), 19), Reason.TruncatedVlan },
        // LLDP is a real EtherType but not one a camera filter passes.
        { "LLDP EtherType", Eth().EtherType(0x88CC).Payload(new byte[46]).ToArray(), Reason.UnknownEthertype },
        // An IEEE 802.3 length (LLC/STP) in the type field.
        { "802.3 length field", Eth().EtherType(0x0026).Payload(new byte[46]).ToArray(), Reason.UnknownEthertype },
        // Unknown EtherType behind a VLAN tag.
        { "unknown EtherType inside VLAN", Eth().Vlan(7).EtherType(0x88B5).Payload(new byte[46]).ToArray(), Reason.UnknownEthertype },

        // ---- ARP ----
        // 27 of the 28 ARP bytes.
        { "ARP truncated", Cut(Frames.ArpRequest(Frames.CameraMac, A, "192.0.2.1").ToArray(), 14 + 27), Reason.TruncatedArp },
        // Hardware type 6 (IEEE 802) instead of Ethernet.
        { "ARP hardware type 6", Eth().ArpRequest(Frames.CameraMac, A, "192.0.2.1").ArpTypes(6, EtherTypes.Ipv4).ToArray(), Reason.BadArp },
        // Protocol type IPv6: not an IPv4 binding.
        { "ARP protocol IPv6", Eth().ArpRequest(Frames.CameraMac, A, "192.0.2.1").ArpTypes(1, EtherTypes.Ipv6).ToArray(), Reason.BadArp },
        // Hardware length 8: the sender MAC would be read from the wrong bytes.
        { "ARP hardware length 8", Eth().ArpRequest(Frames.CameraMac, A, "192.0.2.1").ArpTypes(1, EtherTypes.Ipv4, 8, 4).ToArray(), Reason.BadArp },
        // Protocol length 16.
        { "ARP protocol length 16", Eth().ArpRequest(Frames.CameraMac, A, "192.0.2.1").ArpTypes(1, EtherTypes.Ipv4, 6, 16).ToArray(), Reason.BadArp },
        // RARP request operation (3) on the ARP EtherType.
        { "ARP operation 3", Eth().Arp(3, Frames.CameraMac, A, default, "192.0.2.1").ToArray(), Reason.BadArp },
        // Operation 0.
        { "ARP operation 0", Eth().Arp(0, Frames.CameraMac, A, default, "192.0.2.1").ToArray(), Reason.BadArp },

        // ---- IPv4 header ----
        // 19 bytes after Ethernet.
        { "IPv4 19 bytes", Cut(Syn4, 14 + 19), Reason.TruncatedIpv4 },
        // Version nibble 5.
        { "IPv4 version 5", Eth().Ipv4(A, B).IpVersion(5).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadIpVersion },
        // EtherType IPv4 carrying an IPv6 packet.
        { "IPv6 packet under IPv4 EtherType", Eth().EtherType(EtherTypes.Ipv4).Payload(Frames.Ip(A6, B6).Tcp(1, 2, TcpFlags.Syn).ToArray()).ToArray(), Reason.BadIpVersion },
        // IHL 4: header shorter than the fixed 20 bytes.
        { "IPv4 IHL 4", Eth().Ipv4(A, B).Ihl(4).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadIpv4HeaderLength },
        // IHL 0.
        { "IPv4 IHL 0", Eth().Ipv4(A, B).Ihl(0).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadIpv4HeaderLength },
        // IHL 15 (60 bytes) with only 24 bytes in the frame.
        { "IPv4 IHL beyond frame", Eth().Ipv4(A, B).Ihl(15).Payload(new byte[4]).ToArray(), Reason.TruncatedIpv4 },
        // Total length 19: less than the header.
        { "IPv4 total length 19", Eth().Ipv4(A, B).TotalLength(19).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.IpTotalLengthTooSmall },
        // Total length 20 with IHL 6 (24-byte header).
        { "IPv4 total length below IHL", Eth().Ipv4(A, B).Ipv4Options(1, 1, 1, 1).TotalLength(20).ToArray(), Reason.IpTotalLengthTooSmall },
        // Total length one past the frame.
        { "IPv4 total length beyond frame", Eth().Ipv4(A, B).TotalLength(41).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.IpTotalLengthBeyondFrame },
        // A frame cut inside the TCP header while total length still claims 40.
        { "IPv4 frame cut short", Cut(Syn4, 14 + 30), Reason.IpTotalLengthBeyondFrame },
        // Option length 0: a naive option walk loops forever.
        { "IPv4 option length 0", Eth().Ipv4(A, B).Ipv4Options(7, 0, 0, 0).ToArray(), Reason.BadIpv4Options },
        // Option length 1: below the 2-byte minimum.
        { "IPv4 option length 1", Eth().Ipv4(A, B).Ipv4Options(7, 1, 0, 0).ToArray(), Reason.BadIpv4Options },
        // Option length runs past the header.
        { "IPv4 option beyond header", Eth().Ipv4(A, B).Ipv4Options(68, 12, 5, 0).ToArray(), Reason.BadIpv4Options },
        // Multi-byte option type as the last byte, no room for its length.
        { "IPv4 option missing length", Eth().Ipv4(A, B).Ipv4Options(1, 1, 1, 7).ToArray(), Reason.BadIpv4Options },
        // Loose source route: steers the reply path.
        { "IPv4 LSRR", Eth().Ipv4(A, B).Ipv4Options(131, 7, 4, 192, 0, 2, 1).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv4SourceRoute },
        // Strict source route after a NOP.
        { "IPv4 SSRR", Eth().Ipv4(A, B).Ipv4Options(1, 137, 7, 4, 192, 0, 2, 1).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv4SourceRoute },

        // ---- IPv4 addresses ----
        // Multicast source.
        { "IPv4 multicast source", Eth().Ipv4("224.0.0.251", B).Udp(5353, 5353).ToArray(), Reason.BadAddress },
        // Limited broadcast as source.
        { "IPv4 broadcast source", Eth().Ipv4("255.255.255.255", B).Udp(67, 68).ToArray(), Reason.BadAddress },
        // Class E source.
        { "IPv4 class E source", Eth().Ipv4("240.0.0.1", B).Udp(1, 2).ToArray(), Reason.BadAddress },
        // Loopback source on the wire.
        { "IPv4 loopback source", Eth().Ipv4("127.0.0.1", B).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadAddress },
        // Loopback destination on the wire.
        { "IPv4 loopback destination", Eth().Ipv4(A, "127.0.0.1").Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadAddress },
        // 0.0.0.0 destination.
        { "IPv4 zero destination", Eth().Ipv4(A, "0.0.0.0").Udp(1, 2).ToArray(), Reason.BadAddress },
        // Class E destination (not broadcast).
        { "IPv4 class E destination", Eth().Ipv4(A, "250.1.2.3").Udp(1, 2).ToArray(), Reason.BadAddress },

        // ---- IPv4 fragments (RFC 1858) ----
        // Tiny first fragment: 8 bytes of TCP, flags in the next fragment.
        { "IPv4 tiny TCP first fragment", Eth().Ipv4(A, B).Fragment(0, true).Protocol(6).Payload(Syn4.AsSpan(34, 8).ToArray()).ToArray(), Reason.FirstFragmentTooSmall },
        // First fragment holds 20 TCP bytes but the data offset says 32 (options continue in fragment 2).
        { "IPv4 first fragment cuts TCP options", Eth().Ipv4(A, B).Fragment(0, true).Protocol(6).Payload(Patch(Syn4, 46, 0x80).AsSpan(34, 20).ToArray()).ToArray(), Reason.FirstFragmentTooSmall },
        // First fragment with 4 bytes of UDP.
        { "IPv4 tiny UDP first fragment", Eth().Ipv4(A, B).Fragment(0, true).Protocol(17).Payload(1, 2, 3, 4).ToArray(), Reason.FirstFragmentTooSmall },
        // First fragment with 4 bytes of ICMP.
        { "IPv4 tiny ICMP first fragment", Eth().Ipv4(A, B).Fragment(0, true).Protocol(1).Payload(8, 0, 0, 0).ToArray(), Reason.FirstFragmentTooSmall },
        // Overlapping TCP fragment at offset 1 (byte 8): rewrites data offset and flags on reassembly.
        { "IPv4 TCP fragment offset 1", Eth().Ipv4(A, B).Fragment(1, false).Protocol(6).Payload(new byte[16]).ToArray(), Reason.BadFragmentOffset },
        // Offset 2 (byte 16) still lands inside the minimal TCP header.
        { "IPv4 TCP fragment offset 2", Eth().Ipv4(A, B).Fragment(2, true).Protocol(6).Payload(new byte[8]).ToArray(), Reason.BadFragmentOffset },
        // Ping of death: offset 65512 + 1480 bytes reassembles past 65,535.
        { "IPv4 fragment past 64 KiB", Eth().Ipv4(A, B).Fragment(8189, false).Protocol(1).Payload(new byte[1480]).ToArray(), Reason.BadFragmentOffset },

        // ---- IPv6 header and chain ----
        // 39 bytes of IPv6.
        { "IPv6 39 bytes", Cut(Syn6, 14 + 39), Reason.TruncatedIpv6 },
        // Version 4 under the IPv6 EtherType.
        { "IPv6 version 4", Eth().Ipv6(A6, B6).IpVersion(4).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadIpVersion },
        // Payload length one past the frame.
        { "IPv6 payload length beyond frame", Eth().Ipv6(A6, B6).PayloadLength(21).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv6PayloadLengthBeyondFrame },
        // Hop-by-hop claims 24 bytes; the payload length leaves 8.
        { "IPv6 hop-by-hop beyond payload", Eth().Ipv6(A6, B6).HopByHop(2).PayloadLength(8).ToArray(), Reason.Ipv6ChainTruncated },
        // Next header says destination options but only 4 bytes follow.
        { "IPv6 extension header under 8 bytes", Eth().Ipv6(A6, B6).Protocol(60).Payload(6, 0, 1, 2).ToArray(), Reason.Ipv6ChainTruncated },
        // AH with length 0 (8 bytes): below its own 12-byte fixed part.
        { "IPv6 AH length 0", Eth().Ipv6(A6, B6).ExtensionHeader(51, [0, 0, 0, 0, 0, 0, 1]).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv6ChainTruncated },
        // First fragment whose destination options continue into the second fragment: TCP header hidden (RFC 7112).
        { "IPv6 first fragment hides L4 in chain", Eth().Ipv6(A6, B6).FragmentHeader(0, true).ExtensionHeader(60, [10, 1, 84, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).Protocol(6).ToArray(), Reason.Ipv6ChainTruncated },
        // Nine destination-options headers.
        { "IPv6 nine extension headers", Repeat(Eth().Ipv6(A6, B6), 9).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv6ChainTooLong },
        // One 264-byte destination-options header: past the 256-byte budget.
        { "IPv6 chain over byte budget", Eth().Ipv6(A6, B6).DestinationOptions(32).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv6ChainTooLong },
        // Two fragment headers: reassemblers disagree on which one counts.
        { "IPv6 two fragment headers", Eth().Ipv6(A6, B6).FragmentHeader(0, true).FragmentHeader(0, true).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv6DuplicateFragmentHeader },
        // Hop-by-hop after destination options.
        { "IPv6 hop-by-hop not first", Eth().Ipv6(A6, B6).DestinationOptions().HopByHop().Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv6HopByHopNotFirst },
        // Hop-by-hop twice.
        { "IPv6 hop-by-hop twice", Eth().Ipv6(A6, B6).HopByHop().HopByHop().Udp(1, 2).ToArray(), Reason.Ipv6HopByHopNotFirst },
        // Type 0 routing header with a segment left.
        { "IPv6 RH0 with segments left", Eth().Ipv6(A6, B6).Routing(0, 1).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.Ipv6RoutingHeaderType0 },
        // IPv6 first fragment with 8 bytes of TCP.
        { "IPv6 tiny TCP first fragment", Eth().Ipv6(A6, B6).FragmentHeader(0, true).Protocol(6).Payload(new byte[8]).ToArray(), Reason.FirstFragmentTooSmall },
        // IPv6 TCP fragment at offset 1.
        { "IPv6 TCP fragment offset 1", Eth().Ipv6(A6, B6).FragmentHeader(1, false).Protocol(6).Payload(new byte[16]).ToArray(), Reason.BadFragmentOffset },
        // IPv6 fragment reassembling past 65,535.
        { "IPv6 fragment past 64 KiB", Eth().Ipv6(A6, B6).FragmentHeader(8190, false).Protocol(17).Payload(new byte[100]).ToArray(), Reason.BadFragmentOffset },

        // ---- IPv6 addresses ----
        // Multicast source.
        { "IPv6 multicast source", Eth().Ipv6("ff02::1", B6).Udp(1, 2).ToArray(), Reason.BadAddress },
        // Loopback source.
        { "IPv6 loopback source", Eth().Ipv6("::1", B6).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadAddress },
        // Unspecified destination.
        { "IPv6 unspecified destination", Eth().Ipv6(A6, "::").Udp(1, 2).ToArray(), Reason.BadAddress },
        // IPv4-mapped source: would alias the IPv4 host 192.0.2.10 in every table keyed by IpAddr.
        { "IPv6 IPv4-mapped source", Eth().Ipv6("::ffff:192.0.2.10", B6).Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadAddress },
        // IPv4-mapped destination.
        { "IPv6 IPv4-mapped destination", Eth().Ipv6(A6, "::ffff:198.51.100.5").Tcp(1, 2, TcpFlags.Syn).ToArray(), Reason.BadAddress },

        // ---- TCP ----
        // 19 bytes of TCP in an unfragmented packet.
        { "TCP 19 bytes", Eth().Ipv4(A, B).Protocol(6).Payload(Syn4.AsSpan(34, 19).ToArray()).ToArray(), Reason.TruncatedTcp },
        // Data offset 4.
        { "TCP data offset 4", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.Syn).DataOffset(4).ToArray(), Reason.TcpBadDataOffset },
        // Data offset 0.
        { "TCP data offset 0", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.Syn).DataOffset(0).ToArray(), Reason.TcpBadDataOffset },
        // Data offset 15 (60 bytes) in a 20-byte segment.
        { "TCP data offset beyond segment", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.Syn).DataOffset(15).ToArray(), Reason.TruncatedTcp },
        // SYN+FIN: open and close at once; stacks disagree on it.
        { "TCP SYN+FIN", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.Syn | TcpFlags.Fin).ToArray(), Reason.TcpBadFlags },
        // SYN+RST.
        { "TCP SYN+RST", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.Syn | TcpFlags.Rst).ToArray(), Reason.TcpBadFlags },
        // No flags at all (null scan).
        { "TCP null flags", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.None).ToArray(), Reason.TcpBadFlags },
        // FIN without ACK (FIN scan).
        { "TCP FIN alone", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.Fin).ToArray(), Reason.TcpBadFlags },
        // Xmas scan.
        { "TCP FIN+PSH+URG", Eth().Ipv4(A, B).Tcp(1, 2, TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg).ToArray(), Reason.TcpBadFlags },
        // SYN+FIN over IPv6.
        { "TCP SYN+FIN over IPv6", Eth().Ipv6(A6, B6).Tcp(1, 2, TcpFlags.Syn | TcpFlags.Fin | TcpFlags.Ack).ToArray(), Reason.TcpBadFlags },
        // Data offset 3 behind IPv6 extension headers.
        { "TCP bad data offset behind IPv6 chain", Eth().Ipv6(A6, B6).HopByHop().DestinationOptions().Tcp(1, 2, TcpFlags.Syn).DataOffset(3).ToArray(), Reason.TcpBadDataOffset },

        // ---- UDP ----
        // 7 bytes of UDP.
        { "UDP 7 bytes", Eth().Ipv4(A, B).Protocol(17).Payload(0, 1, 0, 2, 0, 8, 0).ToArray(), Reason.TruncatedUdp },
        // Length field 7.
        { "UDP length 7", Eth().Ipv4(A, B).Udp(1, 2).UdpLength(7).ToArray(), Reason.UdpLengthTooShort },
        // Length field 0 (an IPv6 jumbogram marker, meaningless here).
        { "UDP length 0 over IPv6", Eth().Ipv6(A6, B6).Udp(1, 2).UdpLength(0).ToArray(), Reason.UdpLengthTooShort },
        // Length field one past the IP payload.
        { "UDP length beyond payload", Eth().Ipv4(A, B).Udp(1, 2).Payload(1, 2, 3, 4).UdpLength(13).ToArray(), Reason.UdpLengthBeyondPayload },
        // Length field beyond the IP payload even though Ethernet padding would cover it.
        { "UDP length reaching into padding", Eth().Ipv4(A, B).Udp(1, 2).UdpLength(20).PadTo(60).ToArray(), Reason.UdpLengthBeyondPayload },

        // ---- ICMP ----
        // 7 bytes of ICMP.
        { "ICMP 7 bytes", Eth().Ipv4(A, B).Protocol(1).Payload(8, 0, 0, 0, 0, 1, 0).ToArray(), Reason.TruncatedIcmp },
        // 7 bytes of ICMPv6.
        { "ICMPv6 7 bytes", Eth().Ipv6(A6, B6).Protocol(58).Payload(128, 0, 0, 0, 0, 1, 0).ToArray(), Reason.TruncatedIcmpv6 },
    };

    public static TheoryData<string, byte[], Reason> IpCases => new()
    {
        // Empty packet from the gateway.
        { "empty packet", [], Reason.TruncatedIpv4 },
        // Version nibble 0.
        { "version 0", new byte[40], Reason.BadIpVersion },
        // Version nibble 5 (ST2).
        { "version 5", Frames.Ip(A, B).IpVersion(5).Udp(1, 2).ToArray(), Reason.BadIpVersion },
        // IPv4 cut inside its header.
        { "IPv4 10 bytes", Cut(Frames.Ip(A, B).Udp(1, 2).ToArray(), 10), Reason.TruncatedIpv4 },
        // IPv6 cut inside its header.
        { "IPv6 30 bytes", Cut(Frames.Ip(A6, B6).Udp(1, 2).ToArray(), 30), Reason.TruncatedIpv6 },
        // Total length beyond the packet.
        { "IPv4 total length beyond packet", Frames.Ip(A, B).TotalLength(100).Udp(1, 2).ToArray(), Reason.IpTotalLengthBeyondFrame },
        // Tiny TCP first fragment through the gateway path.
        { "IPv4 tiny first fragment", Frames.Ip(A, B).Fragment(0, true).Protocol(6).Payload(new byte[12]).ToArray(), Reason.FirstFragmentTooSmall },
        // SYN+RST through the gateway path.
        { "IPv6 SYN+RST", Frames.Ip(A6, B6).Tcp(1, 2, TcpFlags.Syn | TcpFlags.Rst).ToArray(), Reason.TcpBadFlags },
        // Duplicate fragment header through the gateway path.
        { "IPv6 two fragment headers", Frames.Ip(A6, B6).FragmentHeader(0, true).FragmentHeader(0, false).Udp(1, 2).ToArray(), Reason.Ipv6DuplicateFragmentHeader },
    };

    private static FrameBuilder Repeat(FrameBuilder builder, int destinationOptionsHeaders)
    {
        for (var i = 0; i < destinationOptionsHeaders; i++)
        {
            builder.DestinationOptions();
        }

        return builder;
    }

    [Theory]
    [MemberData(nameof(EthernetCases))]
    public void ParseEthernet_MalformedFrame_FailsWithItsReason(string name, byte[] frame, Reason expected)
    {
        var ok = FrameParser.ParseEthernet(frame, out var info);

        Assert.False(ok, name);
        Assert.Equal(expected, info.Error);
        Assert.True(ReasonNames.IsMalformed(info.Error));
        Assert.False(info.HasL4 && info.Error != 0, "a failed parse must not claim a layer-4 header");
    }

    [Theory]
    [MemberData(nameof(IpCases))]
    public void ParseIp_MalformedPacket_FailsWithItsReason(string name, byte[] packet, Reason expected)
    {
        var ok = FrameParser.ParseIp(packet, out var info);

        Assert.False(ok, name);
        Assert.Equal(expected, info.Error);
        Assert.False(info.HasEthernet);
    }

    [Theory]
    [MemberData(nameof(EthernetCases))]
    public void ParseIp_SameMalformedPacketWithoutEthernet_FailsWithSameReason(string name, byte[] frame, Reason expected)
    {
        // The L3 entry point must judge an IP packet exactly as the L2 one does once Ethernet is peeled off.
        FrameParser.ParseEthernet(frame, out var l2);
        if (l2.Kind is not (L3Kind.Ipv4 or L3Kind.Ipv6))
        {
            Assert.True(l2.Kind is L3Kind.None or L3Kind.Arp, name);
            return;
        }

        var l3 = frame.AsSpan(l2.L3Offset);
        if (l2.Error == Reason.BadIpVersion || l3.IsEmpty)
        {
            // ParseIp picks the family by the version nibble, so an IPv6 packet under the IPv4 EtherType parses as IPv6.
            return;
        }

        Assert.False(FrameParser.ParseIp(l3, out var info), name);
        Assert.Equal(expected, info.Error);
    }

    [Fact]
    public void EthernetCases_CoverEveryMalformedReasonTheParserOwns()
    {
        // UnsupportedProtocol is the engine's to return, and the Dns* reasons belong to the DNS parser (covered by
        // DnsMessageTests.MalformedCases); every other malformed reason has a frame parser case.
        var covered = new HashSet<Reason>();
        foreach (var row in EthernetCases)
        {
            covered.Add((Reason)row[2]);
        }

        foreach (var reason in ReasonNames.All)
        {
            if (ReasonNames.IsMalformed(reason) && reason != Reason.UnsupportedProtocol && !reason.ToString().StartsWith("Dns", StringComparison.Ordinal))
            {
                Assert.Contains(reason, covered);
            }
        }
    }
}
