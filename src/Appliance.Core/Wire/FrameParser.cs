using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// Turns one frame (L2, for the bridge) or one bare IP packet (L3, for a WinDivert gateway) into a
/// <see cref="PacketInfo"/>. Never throws, allocates nothing, and fails closed: anything it cannot parse all the
/// way down to the layer-4 header the decision needs is returned as <c>false</c> with a malformed-input reason in
/// <see cref="PacketInfo.Error"/>, never as a packet "without ports" that could fall through a rule set.
/// </summary>
/// <remarks>
/// <para>Fragments (RFC 791, RFC 8200) are not reassembled; instead the attacks that exploit filters on
/// fragments are refused at parse time:</para>
/// <list type="bullet">
/// <item>Tiny first fragment (RFC 1858 3.1): a first fragment (MF set, offset 0) must hold the whole TCP header
/// (data offset included), the 8-byte UDP header or the 8-byte ICMP header, else
/// <see cref="Reason.FirstFragmentTooSmall"/>; for IPv6 the whole extension chain must be there too (RFC 7112),
/// else <see cref="Reason.Ipv6ChainTruncated"/>.</item>
/// <item>Overlapping fragment (RFC 1858 3.2): a later TCP fragment whose offset lands inside the minimal TCP header
/// (offset 1 or 2, i.e. byte 8 or 16) could rewrite ports or flags on reassembly; it is
/// <see cref="Reason.BadFragmentOffset"/>. RFC 1858 only demands offset 1; offset 2 reaches the checksum and
/// urgent pointer and is refused too since no stack sends it.</item>
/// <item>Oversized reassembly ("ping of death"): a fragment ending past 65,535 bytes is
/// <see cref="Reason.BadFragmentOffset"/>.</item>
/// </list>
/// <para>A non-first fragment parses with <see cref="PacketInfo.HasL4"/> false and <see cref="PacketInfo.IsFragment"/>
/// set; the engine passes it only as part of a datagram whose first fragment it allowed.</para>
/// <para>Addresses that never appear on a wire are refused as <see cref="Reason.BadAddress"/>: multicast, class E
/// or broadcast IPv4 sources, loopback at either end, 0.0.0.0 or :: as destination, IPv6 multicast sources, and
/// IPv4-mapped IPv6 addresses at either end (<see cref="IpAddr"/> keys IPv4 as IPv4-mapped, so an IPv6 packet
/// from ::ffff:192.0.2.10 must never be mistaken for the IPv4 host).</para>
/// </remarks>
public static class FrameParser
{
    /// <summary>Most VLAN tags a frame may carry: an 802.1ad S-tag and an 802.1Q C-tag. More is <see cref="Reason.TooManyVlanTags"/>.</summary>
    public const int MaxVlanTags = 2;

    /// <summary>The largest IP datagram a set of fragments may reassemble to.</summary>
    private const int MaxDatagram = 65535;

    /// <summary>Bytes of the quoted packet's layer-4 header an ICMP error carries at least (RFC 792).</summary>
    private const int QuotedL4Bytes = 8;

    /// <summary>
    /// Parses an Ethernet II frame (FCS stripped), optionally with up to <see cref="MaxVlanTags"/> VLAN tags, carrying
    /// ARP, IPv4 or IPv6. Trailing Ethernet padding after an IP packet is ignored (the IP length fields rule).
    /// </summary>
    /// <returns>True when the frame parsed; false with <see cref="PacketInfo.Error"/> set otherwise.</returns>
    public static bool ParseEthernet(ReadOnlySpan<byte> frame, out PacketInfo info)
    {
        info = default;
        if (!EthernetHeader.TryCreate(frame, out var ethernet, out var error))
        {
            return Fail(ref info, error);
        }

        info.HasEthernet = true;
        info.DestinationMac = ethernet.Destination;
        info.SourceMac = ethernet.Source;

        var etherType = ethernet.EtherType;
        var payload = ethernet.Payload;
        var offset = EthernetHeader.Length;
        while (EtherTypes.IsVlanTag(etherType))
        {
            if (info.VlanCount == MaxVlanTags)
            {
                return Fail(ref info, Reason.TooManyVlanTags);
            }

            if (!VlanTag.TryCreate(payload, out var tag, out error))
            {
                return Fail(ref info, error);
            }

            if (info.VlanCount == 0)
            {
                info.OuterVlan = tag.VlanId;
            }
            else
            {
                info.InnerVlan = tag.VlanId;
            }

            info.VlanCount++;
            etherType = tag.EtherType;
            payload = tag.Payload;
            offset += VlanTag.Length;
        }

        info.EtherType = etherType;
        info.L3Offset = offset;
        return etherType switch
        {
            EtherTypes.Ipv4 => ParseIpv4(payload, offset, ref info),
            EtherTypes.Ipv6 => ParseIpv6(payload, offset, ref info),
            EtherTypes.Arp => ParseArp(payload, ref info),
            _ => Fail(ref info, Reason.UnknownEthertype),
        };
    }

    /// <summary>
    /// Parses a bare IPv4 or IPv6 packet (no layer 2), choosing the family by the version nibble. The layer-2
    /// fields of <paramref name="info"/> stay zero.
    /// </summary>
    /// <returns>True when the packet parsed; false with <see cref="PacketInfo.Error"/> set otherwise.</returns>
    public static bool ParseIp(ReadOnlySpan<byte> packet, out PacketInfo info)
    {
        info = default;
        if (packet.IsEmpty)
        {
            return Fail(ref info, Reason.TruncatedIpv4);
        }

        return (packet[0] >> 4) switch
        {
            4 => ParseIpv4(packet, 0, ref info),
            6 => ParseIpv6(packet, 0, ref info),
            _ => Fail(ref info, Reason.BadIpVersion),
        };
    }

    private static bool ParseArp(ReadOnlySpan<byte> buffer, ref PacketInfo info)
    {
        info.Kind = L3Kind.Arp;
        if (!ArpPacket.TryCreate(buffer, out var arp, out var error))
        {
            return Fail(ref info, error);
        }

        info.ArpOperation = arp.Operation;
        info.ArpSenderMac = arp.SenderMac;
        info.ArpSenderIp = arp.SenderIp;
        info.ArpTargetMac = arp.TargetMac;
        info.ArpTargetIp = arp.TargetIp;
        return true;
    }

    private static bool ParseIpv4(ReadOnlySpan<byte> buffer, int offset, ref PacketInfo info)
    {
        info.Kind = L3Kind.Ipv4;
        if (!Ipv4Header.TryCreate(buffer, out var ip, out var error))
        {
            return Fail(ref info, error);
        }

        info.Source = ip.Source;
        info.Destination = ip.Destination;
        info.Protocol = ip.Protocol;
        info.IpLength = ip.TotalLength;
        info.Ttl = ip.Ttl;
        if (!IsValidV4(ip.Source.V4, ip.Destination.V4))
        {
            return Fail(ref info, Reason.BadAddress);
        }

        var firstFragment = false;
        if (ip.IsFragment)
        {
            info.IsFragment = true;
            info.FragmentOffset = ip.FragmentOffset;
            info.MoreFragments = ip.MoreFragments;
            info.FragmentId = ip.Identification;
            info.FragmentDataLength = ip.Payload.Length;
            if (info.FragmentOffset != 0)
            {
                return CheckLaterFragment(info.Protocol, info.FragmentOffset, ip.Payload.Length + ip.HeaderLength, ref info);
            }

            firstFragment = true;
        }

        return ParseL4(ip.Payload, v6: false, firstFragment, offset + ip.HeaderLength, ref info);
    }

    private static bool ParseIpv6(ReadOnlySpan<byte> buffer, int offset, ref PacketInfo info)
    {
        info.Kind = L3Kind.Ipv6;
        if (!Ipv6Header.TryCreate(buffer, out var ip, out var error))
        {
            return Fail(ref info, error);
        }

        info.Source = ip.Source;
        info.Destination = ip.Destination;
        info.Protocol = ip.NextHeader;
        info.IpLength = ip.Packet.Length;
        info.Ttl = ip.HopLimit;
        if (!IsValidV6(info.Source, info.Destination))
        {
            return Fail(ref info, Reason.BadAddress);
        }

        if (!Ipv6ExtensionChain.TryWalk(ip.Payload, ip.NextHeader, out var chain, out error))
        {
            return Fail(ref info, error);
        }

        info.Protocol = chain.Protocol;
        var firstFragment = false;
        if (chain.HasFragmentHeader)
        {
            info.IsFragment = true;
            info.FragmentOffset = chain.FragmentOffset;
            info.MoreFragments = chain.MoreFragments;
            info.FragmentId = chain.FragmentId;
            info.FragmentDataLength = chain.FragmentDataLength;
            if (chain.FragmentOffset != 0)
            {
                return CheckLaterFragment(chain.Protocol, chain.FragmentOffset, chain.UpperLayer.Length, ref info);
            }

            firstFragment = chain.MoreFragments;
        }

        return ParseL4(chain.UpperLayer, v6: true, firstFragment, offset + Ipv6Header.Length + chain.Length, ref info);
    }

    // A non-first fragment carries no layer-4 header; refuse the shapes that attack a filter on reassembly.
    // bytesAfterOffset: the length this fragment adds to the reassembled datagram from its offset on (IPv4 counts
    // its header, as the 65,535 limit is on the whole datagram).
    private static bool CheckLaterFragment(byte protocol, ushort offset8, int bytesAfterOffset, ref PacketInfo info)
    {
        var start = offset8 * 8;
        if (protocol == IpProtocols.Tcp && start < TcpHeader.MinLength)
        {
            return Fail(ref info, Reason.BadFragmentOffset);
        }

        if (start + bytesAfterOffset > MaxDatagram)
        {
            return Fail(ref info, Reason.BadFragmentOffset);
        }

        return true;
    }

    private const int DhcpServerPort = 67;
    private const int DhcpClientPort = 68;
    private const int DhcpPortSum = DhcpServerPort + DhcpClientPort;

    private static bool ParseL4(ReadOnlySpan<byte> l4, bool v6, bool firstFragment, int l4Offset, ref PacketInfo info)
    {
        Reason error;
        switch (info.Protocol)
        {
            case IpProtocols.Tcp:
                if (!TcpHeader.TryCreate(l4, out var tcp, out error))
                {
                    return Fail(ref info, firstFragment && error == Reason.TruncatedTcp ? Reason.FirstFragmentTooSmall : error);
                }

                info.SourcePort = tcp.SourcePort;
                info.DestinationPort = tcp.DestinationPort;
                info.TcpFlags = (byte)tcp.Flags;
                info.TcpSequence = tcp.Sequence;
                info.TcpAcknowledgment = tcp.Acknowledgment;
                info.PayloadOffset = l4Offset + tcp.HeaderLength;
                info.PayloadLength = tcp.Payload.Length;
                break;

            case IpProtocols.Udp:
                if (!UdpHeader.TryCreate(l4, firstFragment, out var udp, out error))
                {
                    return Fail(ref info, firstFragment && error == Reason.TruncatedUdp ? Reason.FirstFragmentTooSmall : error);
                }

                info.SourcePort = udp.SourcePort;
                info.DestinationPort = udp.DestinationPort;
                info.PayloadOffset = l4Offset + UdpHeader.Length;
                info.PayloadLength = udp.Payload.Length;
                if (info.SourcePort + info.DestinationPort == DhcpPortSum && info.SourcePort is DhcpServerPort or DhcpClientPort
                    && DhcpHeader.TryCreate(udp.Payload, out var dhcp) && dhcp.HasEthernetClient)
                {
                    // The engine decides server replies on who they are for; anything else in the port pair is
                    // just UDP (HasDhcp false), which the engine then refuses as a DHCP reply.
                    info.HasDhcp = true;
                    info.DhcpOp = dhcp.Op;
                    info.DhcpClientMac = dhcp.ClientMac;
                }

                break;

            case IpProtocols.Icmp when !v6:
            case IpProtocols.Icmpv6 when v6:
                if (!IcmpHeader.TryCreate(l4, v6, out var icmp, out error))
                {
                    return Fail(ref info, firstFragment ? Reason.FirstFragmentTooSmall : error);
                }

                info.IcmpType = icmp.Type;
                info.IcmpCode = icmp.Code;
                info.PayloadOffset = l4Offset + IcmpHeader.Length;
                info.PayloadLength = icmp.Body.Length;
                if (v6 ? IcmpHeader.IsEchoV6(icmp.Type) : IcmpHeader.IsEchoV4(icmp.Type))
                {
                    info.IcmpEchoId = icmp.EchoId;
                }
                else if (v6 ? IcmpHeader.IsErrorV6(icmp.Type) : IcmpHeader.IsErrorV4(icmp.Type))
                {
                    if (v6)
                    {
                        ParseQuoteV6(icmp.Body, ref info);
                    }
                    else
                    {
                        ParseQuoteV4(icmp.Body, ref info);
                    }
                }

                break;

            default:
                // Unknown (or ICMP of the other family, ESP, "no next header"...): parsed, no layer 4. The engine
                // decides by protocol number, and by default denies.
                return true;
        }

        info.HasL4 = true;
        info.L4Offset = l4Offset;
        return true;
    }

    // The quoted packet of an ICMP error: its header and the first 8 bytes of its layer 4. A quote that cannot
    // show that much, or quotes a non-first fragment, leaves HasQuote false; the engine then finds no related flow.
    private static void ParseQuoteV4(ReadOnlySpan<byte> quote, ref PacketInfo info)
    {
        if (!Ipv4Header.TryCreateQuoted(quote, out var ip) || ip.FragmentOffset != 0 || ip.Payload.Length < QuotedL4Bytes)
        {
            return;
        }

        SetQuote(ip.Source, ip.Destination, ip.Protocol, IpProtocols.Icmp, ip.Payload, ref info);
    }

    private static void ParseQuoteV6(ReadOnlySpan<byte> quote, ref PacketInfo info)
    {
        if (!Ipv6Header.TryCreateQuoted(quote, out var ip)
            || !Ipv6ExtensionChain.TryWalk(ip.Payload, ip.NextHeader, out var chain, out _)
            || chain.FragmentOffset != 0
            || chain.UpperLayer.Length < QuotedL4Bytes)
        {
            return;
        }

        SetQuote(ip.Source, ip.Destination, chain.Protocol, IpProtocols.Icmpv6, chain.UpperLayer, ref info);
    }

    private static void SetQuote(IpAddr source, IpAddr destination, byte protocol, byte icmpProtocol, ReadOnlySpan<byte> l4, ref PacketInfo info)
    {
        info.HasQuote = true;
        info.QuoteSource = source;
        info.QuoteDestination = destination;
        info.QuoteProtocol = protocol;
        if (protocol is IpProtocols.Tcp or IpProtocols.Udp)
        {
            info.QuoteSourcePort = BinaryPrimitives.ReadUInt16BigEndian(l4);
            info.QuoteDestinationPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
        }
        else if (protocol == icmpProtocol
            && (protocol == IpProtocols.Icmp ? IcmpHeader.IsEchoV4(l4[0]) : IcmpHeader.IsEchoV6(l4[0])))
        {
            info.QuoteSourcePort = BinaryPrimitives.ReadUInt16BigEndian(l4[4..]);
        }
    }

    private static bool IsValidV4(uint source, uint destination)
    {
        // Sources: multicast 224/4 and class E 240/4 (with 255.255.255.255) never send; loopback never crosses a wire.
        if (source >= 0xE000_0000u || source >> 24 == 127)
        {
            return false;
        }

        // Destinations: 0.0.0.0, loopback, class E except limited broadcast.
        return destination != 0
            && destination >> 24 != 127
            && (destination < 0xF000_0000u || destination == 0xFFFF_FFFFu);
    }

    private static bool IsValidV6(IpAddr source, IpAddr destination)
    {
        var loopback = UInt128.One;
        return !source.IsV4 && !destination.IsV4
            && source.Value >> 120 != 0xFF
            && source.Value != loopback
            && destination.Value != loopback
            && destination.Value != UInt128.Zero;
    }

    private static bool Fail(ref PacketInfo info, Reason reason)
    {
        info.Error = reason;
        return false;
    }
}
