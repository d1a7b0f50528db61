using System.Net;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Wire;

/// <summary>The header views on their own: each accessor reads the field it names, and each TryCreate checks its lengths.</summary>
public class HeaderViewTests
{
    private static IpAddr Ip(string text) => IpAddr.FromIPAddress(IPAddress.Parse(text));

    [Fact]
    public void EthernetHeader_TryCreate_ReadsAddressesAndType()
    {
        var frame = Frames.Tcp(Frames.CameraMac, Frames.NvrMac, "192.0.2.1", "192.0.2.2", 1, 2, TcpFlags.Syn).ToArray();

        Assert.True(EthernetHeader.TryCreate(frame, out var eth, out var error));

        Assert.Equal((Reason)0, error);
        Assert.Equal(Frames.NvrMac, eth.Destination);
        Assert.Equal(Frames.CameraMac, eth.Source);
        Assert.Equal(EtherTypes.Ipv4, eth.EtherType);
        Assert.Equal(frame.Length - 14, eth.Payload.Length);
    }

    [Theory]
    // Empty.
    [InlineData(0)]
    // One short of the header.
    [InlineData(13)]
    public void EthernetHeader_TryCreate_ShortBuffer_Truncated(int length)
    {
        Assert.False(EthernetHeader.TryCreate(new byte[length], out _, out var error));
        Assert.Equal(Reason.TruncatedEthernet, error);
    }

    [Fact]
    public void VlanTag_TryCreate_ReadsPriorityIdAndType()
    {
        // TCI 0xA07B: priority 5, DEI 0, VLAN 0x07B; then EtherType IPv6.
        byte[] tag = [0xA0, 0x7B, 0x86, 0xDD, 0xFF];

        Assert.True(VlanTag.TryCreate(tag, out var view, out _));

        Assert.Equal(5, view.Priority);
        Assert.Equal(0x07B, view.VlanId);
        Assert.Equal(EtherTypes.Ipv6, view.EtherType);
        Assert.Equal(1, view.Payload.Length);
        Assert.False(VlanTag.TryCreate(tag.AsSpan(0, 3), out _, out var error));
        Assert.Equal(Reason.TruncatedVlan, error);
    }

    [Fact]
    public void Ipv4Header_TryCreate_ReadsEveryField()
    {
        var packet = Frames.Ip("192.0.2.1", "198.51.100.2").Tos(0xB8).Id(0x1234).Ttl(17).Fragment(0, true)
            .Ipv4Options(148, 4, 0, 0).Udp(1, 2).Payload(1, 2, 3).ToArray();

        Assert.True(Ipv4Header.TryCreate([.. packet, 0, 0], out var ip, out _));

        Assert.Equal(4, ip.Version);
        Assert.Equal(24, ip.HeaderLength);
        Assert.Equal(0xB8, ip.Tos);
        Assert.Equal(24 + 8 + 3, ip.TotalLength);
        Assert.Equal(0x1234, ip.Identification);
        Assert.False(ip.DontFragment);
        Assert.True(ip.MoreFragments);
        Assert.True(ip.IsFragment);
        Assert.Equal(0, ip.FragmentOffset);
        Assert.Equal(17, ip.Ttl);
        Assert.Equal(IpProtocols.Udp, ip.Protocol);
        Assert.Equal(Ip("192.0.2.1"), ip.Source);
        Assert.Equal(Ip("198.51.100.2"), ip.Destination);
        Assert.Equal([148, 4, 0, 0], ip.Options.ToArray());
        Assert.Equal(11, ip.Payload.Length);
        Assert.Equal(packet.Length, ip.Packet.Length);
        Assert.True(ip.IsChecksumValid);
    }

    [Fact]
    public void Ipv4Header_IsChecksumValid_DetectsCorruption()
    {
        var good = Frames.Ip("192.0.2.1", "192.0.2.2").DontFragment().Udp(1, 2).ToArray();
        var bad = Frames.Ip("192.0.2.1", "192.0.2.2").DontFragment().BadIpChecksum().Udp(1, 2).ToArray();

        Assert.True(Ipv4Header.TryCreate(good, out var g, out _));
        Assert.True(Ipv4Header.TryCreate(bad, out var b, out _));

        Assert.True(g.DontFragment);
        Assert.True(g.IsChecksumValid);
        Assert.False(b.IsChecksumValid);
    }

    [Fact]
    public void Ipv4Header_TryCreateQuoted_AcceptsCutPacketButNotCutHeader()
    {
        var packet = Frames.Ip("192.0.2.1", "192.0.2.2").Udp(1, 2).Payload(new byte[100]).ToArray();

        Assert.True(Ipv4Header.TryCreateQuoted(packet.AsSpan(0, 28), out var quoted));
        Assert.Equal(128, quoted.TotalLength);
        Assert.Equal(8, quoted.Payload.Length);
        Assert.False(Ipv4Header.TryCreateQuoted(packet.AsSpan(0, 19), out _));
        Assert.False(Ipv4Header.TryCreate(packet.AsSpan(0, 28), out _, out var error));
        Assert.Equal(Reason.IpTotalLengthBeyondFrame, error);
    }

    [Fact]
    public void Ipv6Header_TryCreate_ReadsEveryField()
    {
        var packet = Frames.Ip("2001:db8::1", "2001:db8::2").Tos(0x2E).Ttl(255).Icmp(135).Payload(new byte[16]).ToArray();

        Assert.True(Ipv6Header.TryCreate([.. packet, 9, 9, 9], out var ip, out _));

        Assert.Equal(6, ip.Version);
        Assert.Equal(0x2E, ip.TrafficClass);
        Assert.Equal(0u, ip.FlowLabel);
        Assert.Equal(24, ip.PayloadLength);
        Assert.Equal(IpProtocols.Icmpv6, ip.NextHeader);
        Assert.Equal(255, ip.HopLimit);
        Assert.Equal(Ip("2001:db8::1"), ip.Source);
        Assert.Equal(Ip("2001:db8::2"), ip.Destination);
        Assert.Equal(24, ip.Payload.Length);
        Assert.Equal(packet.Length, ip.Packet.Length);
    }

    [Fact]
    public void Ipv6ExtensionChain_TryWalk_CountsHeadersAndBytes()
    {
        var packet = Frames.Ip("2001:db8::1", "2001:db8::2").HopByHop().Routing().DestinationOptions(1).AuthenticationHeader(16)
            .Udp(1, 2).ToArray();
        Assert.True(Ipv6Header.TryCreate(packet, out var ip, out _));

        Assert.True(Ipv6ExtensionChain.TryWalk(ip.Payload, ip.NextHeader, out var chain, out _));

        Assert.Equal(4, chain.HeaderCount);
        Assert.Equal(8 + 8 + 16 + 28, chain.Length);
        Assert.Equal(IpProtocols.Udp, chain.Protocol);
        Assert.False(chain.HasFragmentHeader);
        Assert.Equal(8, chain.UpperLayer.Length);
    }

    [Theory]
    // Each next-header value the walk treats as an extension header, and a few it does not.
    [InlineData(IpProtocols.HopByHop, true)]
    [InlineData(IpProtocols.Routing, true)]
    [InlineData(IpProtocols.Fragment, true)]
    [InlineData(IpProtocols.DestinationOptions, true)]
    [InlineData(IpProtocols.Ah, true)]
    [InlineData(IpProtocols.Esp, false)]
    [InlineData(IpProtocols.NoNextHeader, false)]
    [InlineData(IpProtocols.Tcp, false)]
    // Mobility header (135) is an extension header in RFC 6275 but not used here: treated as an upper layer.
    [InlineData((byte)135, false)]
    public void Ipv6ExtensionChain_IsExtensionHeader_KnownSet(byte value, bool expected)
    {
        Assert.Equal(expected, Ipv6ExtensionChain.IsExtensionHeader(value));
    }

    [Fact]
    public void TcpHeader_TryCreate_ReadsEveryField()
    {
        var packet = Frames.Ip("192.0.2.1", "192.0.2.2").Tcp(1234, 80, TcpFlags.Psh | TcpFlags.Ack)
            .Seq(0xDEADBEEF).Ack(0x01020304).Window(512).TcpOptions(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2).Payload(7, 7).ToArray();

        Assert.True(TcpHeader.TryCreate(packet.AsSpan(20), out var tcp, out _));

        Assert.Equal(1234, tcp.SourcePort);
        Assert.Equal(80, tcp.DestinationPort);
        Assert.Equal(0xDEADBEEFu, tcp.Sequence);
        Assert.Equal(0x01020304u, tcp.Acknowledgment);
        Assert.Equal(32, tcp.HeaderLength);
        Assert.Equal(TcpFlags.Psh | TcpFlags.Ack, tcp.Flags);
        Assert.Equal(512, tcp.Window);
        Assert.Equal(0, tcp.UrgentPointer);
        Assert.NotEqual(0, tcp.Checksum);
        Assert.Equal(12, tcp.Options.Length);
        Assert.Equal([7, 7], tcp.Payload.ToArray());
    }

    [Fact]
    public void TcpHeader_IsValidFlagCombination_MatchesConntrackTableForAll256Bytes()
    {
        // Reference: nf_conntrack's tcp_valid_flags, written out as a plain list over FIN/SYN/RST/ACK/URG.
        var valid = new HashSet<TcpFlags>
        {
            TcpFlags.Syn, TcpFlags.Syn | TcpFlags.Urg, TcpFlags.Syn | TcpFlags.Ack,
            TcpFlags.Rst, TcpFlags.Rst | TcpFlags.Ack,
            TcpFlags.Fin | TcpFlags.Ack, TcpFlags.Fin | TcpFlags.Ack | TcpFlags.Urg,
            TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Urg,
        };
        const TcpFlags considered = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Ack | TcpFlags.Urg;

        var accepted = 0;
        for (var b = 0; b < 256; b++)
        {
            var expected = valid.Contains((TcpFlags)b & considered);
            Assert.Equal(expected, TcpHeader.IsValidFlagCombination((byte)b));
            accepted += expected ? 1 : 0;
        }

        // 9 combinations times the 8 settings of PSH/ECE/CWR.
        Assert.Equal(72, accepted);
    }

    [Fact]
    public void UdpHeader_TryCreate_PayloadBoundedByLengthField()
    {
        var packet = Frames.Ip("192.0.2.1", "192.0.2.2").Udp(53, 40000).Payload(1, 2, 3).ToArray();
        var withJunk = packet.AsSpan(20).ToArray().Concat(new byte[] { 0xEE, 0xEE }).ToArray();

        Assert.True(UdpHeader.TryCreate(withJunk, firstFragment: false, out var udp, out _));

        Assert.Equal(53, udp.SourcePort);
        Assert.Equal(40000, udp.DestinationPort);
        Assert.Equal(11, udp.DatagramLength);
        Assert.NotEqual(0, udp.Checksum);
        Assert.Equal([1, 2, 3], udp.Payload.ToArray());
    }

    [Fact]
    public void UdpHeader_TryCreate_FirstFragmentAllowsLengthBeyondBuffer()
    {
        var datagram = Frames.Ip("192.0.2.1", "192.0.2.2").Udp(1, 2).Payload(new byte[100]).ToArray().AsSpan(20, 40).ToArray();

        Assert.False(UdpHeader.TryCreate(datagram, firstFragment: false, out _, out var error));
        Assert.Equal(Reason.UdpLengthBeyondPayload, error);
        Assert.True(UdpHeader.TryCreate(datagram, firstFragment: true, out var udp, out _));
        Assert.Equal(108, udp.DatagramLength);
        Assert.Equal(32, udp.Payload.Length);
    }

    [Fact]
    public void IcmpHeader_TryCreate_ReadsEchoFields()
    {
        var packet = Frames.Ip("192.0.2.1", "192.0.2.2").Echo(0xABCD, 0x0102).Payload(5).ToArray();

        Assert.True(IcmpHeader.TryCreate(packet.AsSpan(20), v6: false, out var icmp, out _));

        Assert.Equal(8, icmp.Type);
        Assert.Equal(0, icmp.Code);
        Assert.Equal(0xABCD, icmp.EchoId);
        Assert.Equal(0x0102, icmp.EchoSequence);
        Assert.Equal(0xABCD0102u, icmp.Rest);
        Assert.NotEqual(0, icmp.Checksum);
        Assert.Equal([5], icmp.Body.ToArray());
        Assert.False(IcmpHeader.TryCreate(packet.AsSpan(20, 7), v6: true, out _, out var error));
        Assert.Equal(Reason.TruncatedIcmpv6, error);
    }

    [Fact]
    public void ArpPacket_TryCreate_IgnoresPaddingAfter28Bytes()
    {
        var frame = Frames.ArpReply(Frames.CameraMac, "192.0.2.10", Frames.NvrMac, "192.0.2.20").PadTo(60).ToArray();

        Assert.True(ArpPacket.TryCreate(frame.AsSpan(14), out var arp, out _));

        Assert.Equal(ArpPacket.OperationReply, arp.Operation);
        Assert.Equal(Frames.CameraMac, arp.SenderMac);
        Assert.Equal(Ip("192.0.2.10"), arp.SenderIp);
        Assert.Equal(Frames.NvrMac, arp.TargetMac);
        Assert.Equal(Ip("192.0.2.20"), arp.TargetIp);
    }
}
