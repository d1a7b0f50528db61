using System.Net;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Wire;

/// <summary>Well-formed frames of every header the parser knows, and what each puts into <see cref="PacketInfo"/>.</summary>
public class FrameParserTests
{
    private const string A = "192.0.2.10";
    private const string B = "198.51.100.5";
    private const string A6 = "2001:db8::10";
    private const string B6 = "2001:db8::5";

    private static FrameBuilder Eth() => FrameBuilder.Ethernet(Frames.CameraMac, Frames.NvrMac);

    private static IpAddr Ip(string text) => IpAddr.FromIPAddress(IPAddress.Parse(text));

    private static PacketInfo ParseOk(byte[] frame)
    {
        Assert.True(FrameParser.ParseEthernet(frame, out var info), $"parse failed: {info.Error}");
        Assert.Equal((Reason)0, info.Error);
        return info;
    }

    [Fact]
    public void ParseEthernet_TcpSynOverIpv4_FillsEveryLayer()
    {
        var frame = Frames.Tcp(Frames.CameraMac, Frames.NvrMac, A, B, 40000, 554, TcpFlags.Syn)
            .Ttl(63).TcpOptions(2, 4, 5, 0xB4).Payload(1, 2, 3).ToArray();

        var info = ParseOk(frame);

        Assert.True(info.HasEthernet);
        Assert.Equal(Frames.CameraMac, info.SourceMac);
        Assert.Equal(Frames.NvrMac, info.DestinationMac);
        Assert.Equal(EtherTypes.Ipv4, info.EtherType);
        Assert.Equal(0, info.VlanCount);
        Assert.Equal(L3Kind.Ipv4, info.Kind);
        Assert.Equal(Ip(A), info.Source);
        Assert.Equal(Ip(B), info.Destination);
        Assert.Equal(IpProtocols.Tcp, info.Protocol);
        Assert.Equal(20 + 24 + 3, info.IpLength);
        Assert.Equal(63, info.Ttl);
        Assert.False(info.IsFragment);
        Assert.True(info.HasL4);
        Assert.Equal(40000, info.SourcePort);
        Assert.Equal(554, info.DestinationPort);
        Assert.Equal((byte)TcpFlags.Syn, info.TcpFlags);
        Assert.Equal(14, info.L3Offset);
        Assert.Equal(34, info.L4Offset);
        Assert.Equal(34 + 24, info.PayloadOffset);
        Assert.Equal(3, info.PayloadLength);
        Assert.False(info.HasQuote);
    }

    [Fact]
    public void ParseEthernet_UdpOverIpv6_FillsAddressesAndPorts()
    {
        var frame = Frames.Udp(Frames.CameraMac, Frames.NvrMac, A6, B6, 5000, 53).Ttl(255).Payload(9, 9).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(L3Kind.Ipv6, info.Kind);
        Assert.Equal(EtherTypes.Ipv6, info.EtherType);
        Assert.Equal(Ip(A6), info.Source);
        Assert.Equal(Ip(B6), info.Destination);
        Assert.Equal(IpProtocols.Udp, info.Protocol);
        Assert.Equal(40 + 8 + 2, info.IpLength);
        Assert.Equal(255, info.Ttl);
        Assert.True(info.HasL4);
        Assert.Equal(5000, info.SourcePort);
        Assert.Equal(53, info.DestinationPort);
        Assert.Equal(14 + 40, info.L4Offset);
        Assert.Equal(14 + 48, info.PayloadOffset);
        Assert.Equal(2, info.PayloadLength);
    }

    [Theory]
    // Minimum-size frame: 40 bytes of IPv4/TCP padded to 60; the IP length, not the frame, bounds the packet.
    [InlineData(60, 40)]
    // Padding plus a 4-byte trailer (an FCS the capture kept).
    [InlineData(64, 40)]
    // No padding.
    [InlineData(0, 40)]
    public void ParseEthernet_TrailingPadding_IgnoredByIpLength(int padTo, int ipLength)
    {
        var frame = Eth().Ipv4(A, B).Tcp(1000, 80, TcpFlags.Ack).PadTo(padTo).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(ipLength, info.IpLength);
        Assert.Equal(0, info.PayloadLength);
    }

    [Fact]
    public void ParseEthernet_UdpWithPadding_PayloadBoundedByUdpLength()
    {
        var frame = Eth().Ipv4(A, B).Udp(68, 67).Payload(1, 2).PadTo(60).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(30, info.IpLength);
        Assert.Equal(2, info.PayloadLength);
    }

    [Fact]
    public void ParseEthernet_Ipv6WithPadding_IgnoredByPayloadLength()
    {
        var frame = Eth().Ipv6(A6, B6).Echo(7).Trailer(0xDE, 0xAD, 0xBE, 0xEF).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(48, info.IpLength);
        Assert.Equal(frame.Length - 4, info.L3Offset + info.IpLength);
    }

    [Theory]
    // One 802.1Q tag.
    [InlineData(new ushort[] { EtherTypes.Vlan }, new ushort[] { 100 }, 100, 0)]
    // QinQ: 802.1ad S-tag, 802.1Q C-tag.
    [InlineData(new ushort[] { EtherTypes.QinQ, EtherTypes.Vlan }, new ushort[] { 100, 200 }, 100, 200)]
    // Pre-standard 0x9100 outer tag.
    [InlineData(new ushort[] { EtherTypes.QinQLegacy, EtherTypes.Vlan }, new ushort[] { 7, 4094 }, 7, 4094)]
    // Two 802.1Q tags (some switches stack C-tags).
    [InlineData(new ushort[] { EtherTypes.Vlan, EtherTypes.Vlan }, new ushort[] { 1, 2 }, 1, 2)]
    // Priority-only tag (VLAN 0, 802.1p).
    [InlineData(new ushort[] { EtherTypes.Vlan }, new ushort[] { 0 }, 0, 0)]
    public void ParseEthernet_VlanTags_ReportsIdsAndInnerEtherType(ushort[] tpids, ushort[] ids, int outer, int inner)
    {
        var builder = Eth();
        for (var i = 0; i < tpids.Length; i++)
        {
            builder.Vlan(ids[i], tpids[i], priority: 5);
        }

        var frame = builder.Ipv4(A, B).Udp(1, 2).ToArray();
        var info = ParseOk(frame);

        Assert.Equal(tpids.Length, info.VlanCount);
        Assert.Equal(outer, info.OuterVlan);
        Assert.Equal(inner, info.InnerVlan);
        Assert.Equal(EtherTypes.Ipv4, info.EtherType);
        Assert.Equal(14 + (4 * tpids.Length), info.L3Offset);
        Assert.Equal(1, info.SourcePort);
    }

    [Fact]
    public void ParseEthernet_ArpRequestPadded_FillsSenderAndTarget()
    {
        var frame = Frames.ArpRequest(Frames.CameraMac, A, "192.0.2.1").PadTo(60).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(L3Kind.Arp, info.Kind);
        Assert.Equal(EtherTypes.Arp, info.EtherType);
        Assert.Equal(MacAddress.Broadcast, info.DestinationMac);
        Assert.Equal(ArpPacket.OperationRequest, info.ArpOperation);
        Assert.Equal(Frames.CameraMac, info.ArpSenderMac);
        Assert.Equal(Ip(A), info.ArpSenderIp);
        Assert.Equal(default, info.ArpTargetMac);
        Assert.Equal(Ip("192.0.2.1"), info.ArpTargetIp);
        Assert.False(info.HasL4);
    }

    [Fact]
    public void ParseEthernet_ArpReplyInVlan_FillsBothBindings()
    {
        var frame = Eth().Vlan(30).ArpReply(Frames.CameraMac, A, Frames.NvrMac, B).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(ArpPacket.OperationReply, info.ArpOperation);
        Assert.Equal(Frames.NvrMac, info.ArpTargetMac);
        Assert.Equal(Ip(B), info.ArpTargetIp);
        Assert.Equal(30, info.OuterVlan);
        Assert.Equal(18, info.L3Offset);
    }

    [Theory]
    // NOPs only.
    [InlineData(new byte[] { 1, 1, 1, 1 })]
    // Router alert (IGMP, MLD-style): 4 bytes.
    [InlineData(new byte[] { 148, 4, 0, 0 })]
    // Record route with room for two addresses, then end of list.
    [InlineData(new byte[] { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    // Timestamp option, 40 bytes: the largest options area.
    [InlineData(new byte[] { 68, 40, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    // End of list followed by garbage: nothing after EOL is read.
    [InlineData(new byte[] { 0, 0xFF, 0xFF, 0xFF })]
    public void ParseEthernet_Ipv4Options_SkippedToLayer4(byte[] options)
    {
        var frame = Eth().Ipv4(A, B).Ipv4Options(options).Tcp(1234, 80, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr).ToArray();

        var info = ParseOk(frame);

        var headerLength = 20 + ((options.Length + 3) & ~3);
        Assert.Equal(14 + headerLength, info.L4Offset);
        Assert.Equal(1234, info.SourcePort);
        Assert.Equal(80, info.DestinationPort);
    }

    [Fact]
    public void ParseEthernet_Ipv4FirstFragment_HasL4AndFragmentFields()
    {
        // A 3000-byte UDP datagram: the UDP length covers the whole datagram, not this fragment.
        var udp = Frames.Ip(A, B).Udp(5000, 6000).Payload(new byte[2992]).ToIpPacket().AsSpan(20, 1480).ToArray();
        var frame = Eth().Ipv4(A, B).Id(0xBEEF).Fragment(0, true).Protocol(17).Payload(udp).ToArray();

        var info = ParseOk(frame);

        Assert.True(info.IsFragment);
        Assert.True(info.MoreFragments);
        Assert.Equal(0, info.FragmentOffset);
        Assert.Equal(0xBEEFu, info.FragmentId);
        Assert.Equal(1480, info.FragmentDataLength);
        Assert.True(info.HasL4);
        Assert.Equal(5000, info.SourcePort);
        Assert.Equal(6000, info.DestinationPort);
        Assert.Equal(1472, info.PayloadLength);
    }

    [Theory]
    // Middle fragment of TCP at 1480 bytes.
    [InlineData(IpProtocols.Tcp, 185, true)]
    // Last UDP fragment.
    [InlineData(IpProtocols.Udp, 370, false)]
    // UDP at offset 1 (byte 8): right after the UDP header, overlaps nothing a filter reads.
    [InlineData(IpProtocols.Udp, 1, true)]
    // TCP at offset 3 (byte 24): past the fixed TCP header.
    [InlineData(IpProtocols.Tcp, 3, false)]
    // Unknown protocol at offset 1.
    [InlineData((byte)47, 1, false)]
    public void ParseEthernet_Ipv4LaterFragment_NoL4(byte protocol, int offset, bool more)
    {
        var frame = Eth().Ipv4(A, B).Id(7).Fragment((ushort)offset, more).Protocol(protocol).Payload(new byte[64]).ToArray();

        var info = ParseOk(frame);

        Assert.True(info.IsFragment);
        Assert.Equal(offset, info.FragmentOffset);
        Assert.Equal(more, info.MoreFragments);
        Assert.Equal(7u, info.FragmentId);
        Assert.Equal(64, info.FragmentDataLength);
        Assert.Equal(protocol, info.Protocol);
        Assert.False(info.HasL4);
        Assert.Equal(0, info.SourcePort);
    }

    [Fact]
    public void ParseEthernet_Ipv4DontFragment_IsNotAFragment()
    {
        var info = ParseOk(Eth().Ipv4(A, B).DontFragment().Tcp(1, 2, TcpFlags.Ack).ToArray());

        Assert.False(info.IsFragment);
        Assert.True(info.HasL4);
    }

    [Fact]
    public void ParseEthernet_Ipv6AllExtensionHeaders_WalksToTcp()
    {
        var frame = Eth().Ipv6(A6, B6).HopByHop().Routing().FragmentHeader(0, false, 99).DestinationOptions(1).AuthenticationHeader()
            .Tcp(443, 50000, TcpFlags.Syn | TcpFlags.Ack).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(IpProtocols.Tcp, info.Protocol);
        Assert.True(info.HasL4);
        Assert.Equal(443, info.SourcePort);
        Assert.Equal(50000, info.DestinationPort);
        Assert.Equal((byte)(TcpFlags.Syn | TcpFlags.Ack), info.TcpFlags);
        Assert.Equal(14 + 40 + 8 + 8 + 8 + 16 + 24, info.L4Offset);
        // An atomic fragment (offset 0, M clear) is still reported as a fragment, with its id.
        Assert.True(info.IsFragment);
        Assert.False(info.MoreFragments);
        Assert.Equal(99u, info.FragmentId);
    }

    [Theory]
    // Hop-by-hop only (MLD reports carry a router alert in one).
    [InlineData("hbh", IpProtocols.Icmpv6)]
    // Destination options twice (before and after routing is legal).
    [InlineData("dst,rt,dst", IpProtocols.Udp)]
    // AH then UDP.
    [InlineData("ah", IpProtocols.Udp)]
    // Eight headers: the most the walk accepts.
    [InlineData("dst,dst,dst,dst,dst,dst,dst,dst", IpProtocols.Tcp)]
    // A 248-byte destination-options header plus a fragment header: exactly the 256-byte budget.
    [InlineData("dst30,frag", IpProtocols.Tcp)]
    // Routing type 0 with no segments left is ignored by RFC 5095, not dropped.
    [InlineData("rt0", IpProtocols.Tcp)]
    public void ParseEthernet_Ipv6ExtensionChains_ReachUpperLayer(string chain, byte protocol)
    {
        var builder = Eth().Ipv6(A6, B6);
        foreach (var h in chain.Split(','))
        {
            _ = h switch
            {
                "hbh" => builder.HopByHop(),
                "dst" => builder.DestinationOptions(),
                "dst30" => builder.DestinationOptions(30),
                "rt" => builder.Routing(),
                "rt0" => builder.Routing(0, 0),
                "ah" => builder.AuthenticationHeader(),
                "frag" => builder.FragmentHeader(0, false),
                _ => throw new ArgumentException(h),
            };
        }

        _ = protocol switch
        {
            IpProtocols.Tcp => builder.Tcp(1, 2, TcpFlags.Syn),
            IpProtocols.Udp => builder.Udp(1, 2),
            _ => builder.Icmp(143),
        };

        var info = ParseOk(builder.ToArray());

        Assert.Equal(protocol, info.Protocol);
        Assert.True(info.HasL4);
    }

    [Fact]
    public void ParseEthernet_Ipv6LaterFragment_StopsAtFragmentHeader()
    {
        // Offset 1480: what follows the fragment header is data, even if it looks like a header.
        var frame = Eth().Ipv6(A6, B6).HopByHop().FragmentHeader(185, true, 0xCAFE).Protocol(IpProtocols.Tcp).Payload(new byte[64]).ToArray();

        var info = ParseOk(frame);

        Assert.True(info.IsFragment);
        Assert.Equal(185, info.FragmentOffset);
        Assert.True(info.MoreFragments);
        Assert.Equal(0xCAFEu, info.FragmentId);
        Assert.Equal(64, info.FragmentDataLength);
        Assert.Equal(IpProtocols.Tcp, info.Protocol);
        Assert.False(info.HasL4);
    }

    [Fact]
    public void ParseEthernet_Ipv6FirstFragment_HasL4()
    {
        var udp = Frames.Ip(A6, B6).Udp(5000, 6000).Payload(new byte[2000]).ToIpPacket().AsSpan(40, 1232).ToArray();
        var frame = Eth().Ipv6(A6, B6).FragmentHeader(0, true, 5).Protocol(IpProtocols.Udp).Payload(udp).ToArray();

        var info = ParseOk(frame);

        Assert.True(info.IsFragment);
        Assert.True(info.MoreFragments);
        Assert.Equal(1232, info.FragmentDataLength);
        Assert.True(info.HasL4);
        Assert.Equal(6000, info.DestinationPort);
    }

    [Theory]
    // ESP: encrypted, nothing to read.
    [InlineData(IpProtocols.Esp)]
    // No next header.
    [InlineData(IpProtocols.NoNextHeader)]
    // GRE: unknown to the parser; the engine decides (and by default denies).
    [InlineData((byte)47)]
    // ICMP (v4) inside IPv6 is not ICMPv6: no layer 4.
    [InlineData(IpProtocols.Icmp)]
    public void ParseEthernet_Ipv6UnparsedProtocol_ParsesWithoutL4(byte protocol)
    {
        var info = ParseOk(Eth().Ipv6(A6, B6).DestinationOptions().Protocol(protocol).Payload(new byte[16]).ToArray());

        Assert.Equal(protocol, info.Protocol);
        Assert.False(info.HasL4);
    }

    [Theory]
    // GRE.
    [InlineData((byte)47)]
    // SCTP.
    [InlineData((byte)132)]
    // ICMPv6 number inside IPv4.
    [InlineData(IpProtocols.Icmpv6)]
    // AH in IPv4: the transport header behind it is not walked.
    [InlineData(IpProtocols.Ah)]
    public void ParseEthernet_Ipv4UnknownProtocol_ParsesWithoutL4(byte protocol)
    {
        var info = ParseOk(Eth().Ipv4(A, B).Protocol(protocol).Payload(new byte[24]).ToArray());

        Assert.Equal(protocol, info.Protocol);
        Assert.False(info.HasL4);
        Assert.Equal(0, info.L4Offset);
    }

    [Theory]
    // Every flag combination a stack sends, with PSH/ECE/CWR noise where it is legal.
    [InlineData(TcpFlags.Syn)]
    [InlineData(TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr)]
    [InlineData(TcpFlags.Syn | TcpFlags.Ack)]
    [InlineData(TcpFlags.Syn | TcpFlags.Urg)]
    [InlineData(TcpFlags.Ack)]
    [InlineData(TcpFlags.Ack | TcpFlags.Psh)]
    [InlineData(TcpFlags.Ack | TcpFlags.Urg)]
    [InlineData(TcpFlags.Fin | TcpFlags.Ack)]
    [InlineData(TcpFlags.Fin | TcpFlags.Ack | TcpFlags.Psh)]
    [InlineData(TcpFlags.Fin | TcpFlags.Ack | TcpFlags.Urg)]
    [InlineData(TcpFlags.Rst)]
    [InlineData(TcpFlags.Rst | TcpFlags.Ack)]
    public void ParseEthernet_ValidTcpFlags_Parse(TcpFlags flags)
    {
        var info = ParseOk(Eth().Ipv4(A, B).Tcp(1, 2, flags).ToArray());

        Assert.Equal((byte)flags, info.TcpFlags);
    }

    [Theory]
    // ICMP echo request: id reported.
    [InlineData(A, B, 8, false)]
    // ICMP echo reply.
    [InlineData(A, B, 0, true)]
    // ICMPv6 echo request.
    [InlineData(A6, B6, 128, false)]
    // ICMPv6 echo reply.
    [InlineData(A6, B6, 129, true)]
    public void ParseEthernet_Echo_ReportsTypeAndId(string src, string dst, int type, bool reply)
    {
        var info = ParseOk(Frames.Echo(Frames.CameraMac, Frames.NvrMac, src, dst, 0x1234, 9, reply).Payload(new byte[32]).ToArray());

        Assert.True(info.HasL4);
        Assert.Equal(type, info.IcmpType);
        Assert.Equal(0, info.IcmpCode);
        Assert.Equal(0x1234, info.IcmpEchoId);
        Assert.Equal(32, info.PayloadLength);
        Assert.False(info.HasQuote);
    }

    [Fact]
    public void ParseEthernet_IcmpPortUnreachableQuotingUdp_FillsQuote()
    {
        var quoted = Frames.Ip(A, B).Udp(40000, 53).Payload(new byte[30]);
        var frame = Frames.IcmpError(Frames.NvrMac, Frames.CameraMac, B, A, 3, 3, quoted, 28).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(3, info.IcmpType);
        Assert.Equal(3, info.IcmpCode);
        Assert.True(info.HasQuote);
        Assert.Equal(Ip(A), info.QuoteSource);
        Assert.Equal(Ip(B), info.QuoteDestination);
        Assert.Equal(IpProtocols.Udp, info.QuoteProtocol);
        Assert.Equal(40000, info.QuoteSourcePort);
        Assert.Equal(53, info.QuoteDestinationPort);
        Assert.Equal(0, info.IcmpEchoId);
    }

    [Theory]
    // Time exceeded quoting TCP with IP options (quote header 24 bytes).
    [InlineData(11, 0, true)]
    // Parameter problem.
    [InlineData(12, 0, true)]
    // Fragmentation needed (type 3 code 4) carrying a next-hop MTU.
    [InlineData(3, 4, true)]
    // Redirect.
    [InlineData(5, 1, true)]
    // Timestamp request: not an error, no quote.
    [InlineData(13, 0, false)]
    public void ParseEthernet_IcmpErrorTypes_QuoteTcp(int type, int code, bool quoted)
    {
        var inner = Frames.Ip(A, B).Ipv4Options(1, 1, 1, 1).Tcp(40001, 554, TcpFlags.Syn);
        var frame = Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, "203.0.113.1", A, (byte)type, (byte)code, inner, 24 + 8).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(quoted, info.HasQuote);
        Assert.Equal(quoted ? 40001 : 0, info.QuoteSourcePort);
        Assert.Equal(quoted ? 554 : 0, info.QuoteDestinationPort);
    }

    [Fact]
    public void ParseEthernet_IcmpErrorQuotingEcho_QuotesEchoId()
    {
        var inner = Frames.Ip(A, B).Echo(0x4242);
        var frame = Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, "203.0.113.1", A, 11, 0, inner).ToArray();

        var info = ParseOk(frame);

        Assert.True(info.HasQuote);
        Assert.Equal(IpProtocols.Icmp, info.QuoteProtocol);
        Assert.Equal(0x4242, info.QuoteSourcePort);
    }

    [Fact]
    public void ParseEthernet_Icmpv6PacketTooBigQuotingTcpBehindChain_FillsQuote()
    {
        var inner = Frames.Ip(A6, B6).HopByHop().DestinationOptions().Tcp(50000, 443, TcpFlags.Ack).Payload(new byte[100]);
        var frame = Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, "2001:db8:ffff::1", A6, 2, 0, inner).ToArray();

        var info = ParseOk(frame);

        Assert.Equal(2, info.IcmpType);
        Assert.True(info.HasQuote);
        Assert.Equal(Ip(A6), info.QuoteSource);
        Assert.Equal(Ip(B6), info.QuoteDestination);
        Assert.Equal(IpProtocols.Tcp, info.QuoteProtocol);
        Assert.Equal(50000, info.QuoteSourcePort);
        Assert.Equal(443, info.QuoteDestinationPort);
    }

    [Theory]
    // Destination unreachable quoting an echo request: the echo id rides in QuoteSourcePort.
    [InlineData(1, 4)]
    // Time exceeded.
    [InlineData(3, 0)]
    // Parameter problem.
    [InlineData(4, 1)]
    public void ParseEthernet_Icmpv6ErrorQuotingEcho_QuotesEchoId(int type, int code)
    {
        var inner = Frames.Ip(A6, B6).Echo(0x0777);
        var frame = Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, "2001:db8:ffff::1", A6, (byte)type, (byte)code, inner).ToArray();

        var info = ParseOk(frame);

        Assert.True(info.HasQuote);
        Assert.Equal(IpProtocols.Icmpv6, info.QuoteProtocol);
        Assert.Equal(0x0777, info.QuoteSourcePort);
    }

    public static TheoryData<string, byte[]> UnquotableErrors => new()
    {
        // Quote holds the IPv4 header and only 4 bytes of UDP.
        { "v4 quote short of 8 L4 bytes", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B, A, 3, 3, Frames.Ip(A, B).Udp(1, 2), 24).ToArray() },
        // Quote shorter than an IPv4 header.
        { "v4 quote short of header", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B, A, 3, 3, Frames.Ip(A, B).Udp(1, 2), 12).ToArray() },
        // Quoted header claims IHL 15 (60 bytes) within a 28-byte quote.
        { "v4 quote IHL beyond quote", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B, A, 3, 3, Frames.Ip(A, B).Ihl(15).Udp(1, 2), 28).ToArray() },
        // Quoted header with IHL 4.
        { "v4 quote IHL 4", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B, A, 3, 3, Frames.Ip(A, B).Ihl(4).Udp(1, 2), 28).ToArray() },
        // Quote of a non-first fragment: no ports to relate.
        { "v4 quote of later fragment", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B, A, 11, 1, Frames.Ip(A, B).Fragment(185, false).Protocol(17).Payload(new byte[16]), 36).ToArray() },
        // ICMPv4 error quoting an IPv6 packet.
        { "v4 error quoting IPv6", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B, A, 3, 3, Frames.Ip(A6, B6).Udp(1, 2), 48).ToArray() },
        // No quote at all.
        { "v4 error without quote", Eth4Error() },
        // ICMPv6 error whose quote ends inside the extension chain.
        { "v6 quote chain truncated", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B6, A6, 1, 4, Frames.Ip(A6, B6).DestinationOptions(2).Udp(1, 2), 40 + 16).ToArray() },
        // ICMPv6 error quoting 4 bytes of UDP.
        { "v6 quote short of 8 L4 bytes", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B6, A6, 1, 4, Frames.Ip(A6, B6).Udp(1, 2), 44).ToArray() },
        // ICMPv6 error quoting a later fragment.
        { "v6 quote of later fragment", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B6, A6, 3, 1, Frames.Ip(A6, B6).FragmentHeader(10, true).Protocol(6).Payload(new byte[16]), 64).ToArray() },
        // ICMPv6 error quoting a chain with two fragment headers.
        { "v6 quote with duplicate fragment header", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B6, A6, 1, 4, Frames.Ip(A6, B6).FragmentHeader(0, true).FragmentHeader(0, true).Udp(1, 2), 64).ToArray() },
        // ICMPv6 error quoting IPv4.
        { "v6 error quoting IPv4", Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, B6, A6, 1, 4, Frames.Ip(A, B).Udp(1, 2), 28).ToArray() },
    };

    private static byte[] Eth4Error() => FrameBuilder.Ethernet(Frames.RouterMac, Frames.CameraMac).Ipv4(B, A).Icmp(3, 1).ToArray();

    [Theory]
    [MemberData(nameof(UnquotableErrors))]
    public void ParseEthernet_IcmpErrorWithUnusableQuote_ParsesWithoutQuote(string name, byte[] frame)
    {
        var info = ParseOk(frame);

        Assert.True(info.HasL4, name);
        Assert.False(info.HasQuote, name);
        Assert.Equal(0, info.QuoteSourcePort);
    }

    [Fact]
    public void ParseIp_BareIpv4_NoLayer2AndOffsetsFromZero()
    {
        var packet = Frames.Ip(A, B).Tcp(1, 2, TcpFlags.Syn).Payload(7).ToArray();

        Assert.True(FrameParser.ParseIp(packet, out var info));

        Assert.False(info.HasEthernet);
        Assert.Equal(default, info.SourceMac);
        Assert.Equal(0, info.EtherType);
        Assert.Equal(L3Kind.Ipv4, info.Kind);
        Assert.Equal(0, info.L3Offset);
        Assert.Equal(20, info.L4Offset);
        Assert.Equal(40, info.PayloadOffset);
        Assert.Equal(1, info.PayloadLength);
        Assert.Equal(41, info.IpLength);
    }

    [Fact]
    public void ParseIp_BareIpv6WithChain_WalksToUdp()
    {
        var packet = Frames.Ip(A6, B6).HopByHop().FragmentHeader(0, true).Udp(546, 547).Payload(new byte[40]).ToArray();

        Assert.True(FrameParser.ParseIp(packet, out var info));

        Assert.Equal(L3Kind.Ipv6, info.Kind);
        Assert.Equal(40 + 16, info.L4Offset);
        Assert.Equal(547, info.DestinationPort);
        Assert.True(info.IsFragment);
    }

    [Fact]
    public void ParseEthernet_MalformedAfterEthernet_KeepsLayer2ForReporting()
    {
        var frame = Eth().Vlan(12).Ipv4(A, B).Tcp(1, 2, TcpFlags.Syn | TcpFlags.Fin).ToArray();

        Assert.False(FrameParser.ParseEthernet(frame, out var info));

        Assert.Equal(Reason.TcpBadFlags, info.Error);
        Assert.Equal(Frames.CameraMac, info.SourceMac);
        Assert.Equal(12, info.OuterVlan);
        Assert.Equal(Ip(A), info.Source);
        Assert.False(info.HasL4);
    }
}
