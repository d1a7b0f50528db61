using Appliance.Core.Wire;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// What must hold after any parse, of any input: failures carry a malformed reason and claim no layer 4; successes
/// keep every offset inside the input, and an unfragmented (or first-fragment) TCP/UDP/ICMP packet that parsed has
/// its layer-4 header (the fail-closed rule: never "parsed, but no ports").
/// </summary>
internal static class ParserInvariants
{
    public static void Check(ReadOnlySpan<byte> input, bool ok, in PacketInfo info)
    {
        if (!ok)
        {
            Require(ReasonNames.IsMalformed(info.Error), $"failure without a malformed reason: {info.Error}");
            Require(!info.HasL4, "failure claims a layer-4 header");
            return;
        }

        Require(info.Error == 0, $"success with error {info.Error}");
        Require(info.VlanCount <= FrameParser.MaxVlanTags, "too many VLAN tags accepted");
        Require(info.L3Offset >= 0 && info.L3Offset <= input.Length, "L3 offset out of range");
        switch (info.Kind)
        {
            case L3Kind.Arp:
                Require(info.L3Offset + ArpPacket.Length <= input.Length, "ARP beyond input");
                Require(info.ArpOperation is 1 or 2, "ARP operation");
                break;

            case L3Kind.Ipv4:
            case L3Kind.Ipv6:
                var minimum = info.Kind == L3Kind.Ipv4 ? Ipv4Header.MinLength : Ipv6Header.Length;
                Require(info.IpLength >= minimum, "IP length below header");
                Require(info.L3Offset + info.IpLength <= input.Length, "IP length beyond input");
                CheckLayer4(info);
                break;

            default:
                throw new InvalidOperationException($"success with kind {info.Kind}");
        }
    }

    private static void CheckLayer4(in PacketInfo info)
    {
        var end = info.L3Offset + info.IpLength;
        var v6 = info.Kind == L3Kind.Ipv6;
        var laterFragment = info.IsFragment && info.FragmentOffset != 0;
        var l4Protocol = info.Protocol is IpProtocols.Tcp or IpProtocols.Udp
            || info.Protocol == (v6 ? IpProtocols.Icmpv6 : IpProtocols.Icmp);

        Require(info.IsFragment ? info.FragmentDataLength >= 0 && info.FragmentDataLength < info.IpLength : info.FragmentDataLength == 0, "fragment data length");
        Require(info.HasL4 == (l4Protocol && !laterFragment), $"HasL4 {info.HasL4} for protocol {info.Protocol}, offset {info.FragmentOffset}");
        if (info.HasL4)
        {
            Require(info.L4Offset > info.L3Offset && info.L4Offset <= info.PayloadOffset, "L4 offset order");
            Require(info.PayloadLength >= 0 && info.PayloadOffset + info.PayloadLength <= end, "payload beyond IP length");
            if (info.Protocol == IpProtocols.Tcp)
            {
                Require(TcpHeader.IsValidFlagCombination(info.TcpFlags), "invalid TCP flags accepted");
            }
        }
        else
        {
            Require(info.SourcePort == 0 && info.DestinationPort == 0 && info.L4Offset == 0, "ports without L4");
        }

        if (info.HasQuote)
        {
            Require(info.HasL4 && info.QuoteSource.IsV4 == !v6, "quote family differs from the error's");
        }

        if (v6)
        {
            Require(!info.Source.IsV4 && !info.Destination.IsV4, "IPv4-mapped address in IPv6 accepted");
        }
        else
        {
            Require(info.Source.IsV4 && info.Destination.IsV4, "IPv4 address not mapped");
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
