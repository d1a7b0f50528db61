using System.Buffers.Binary;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// The test frame builder writes what a real stack would: checksums verify (one's-complement sum over the data,
/// pseudo-header included, comes to 0xFFFF) and tags sit where 802.1Q puts them. Other suites rely on it.
/// </summary>
public class FrameBuilderTests
{
    private static ushort Sum(ReadOnlySpan<byte> data, uint start = 0)
    {
        var sum = start;
        for (var i = 0; i < data.Length; i += 2)
        {
            sum += i + 1 < data.Length ? BinaryPrimitives.ReadUInt16BigEndian(data[i..]) : (uint)data[i] << 8;
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    private static uint PseudoHeader(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte protocol, int length)
        => Sum(src) + (uint)Sum(dst) + protocol + (uint)length;

    [Theory]
    // TCP over IPv4 with options and data.
    [InlineData("192.0.2.1", "198.51.100.2", IpProtocols.Tcp)]
    // UDP over IPv4 with an odd-length payload.
    [InlineData("192.0.2.1", "198.51.100.2", IpProtocols.Udp)]
    // TCP over IPv6.
    [InlineData("2001:db8::1", "2001:db8::2", IpProtocols.Tcp)]
    // UDP over IPv6.
    [InlineData("2001:db8::1", "2001:db8::2", IpProtocols.Udp)]
    // ICMPv6 (pseudo-header checksum).
    [InlineData("2001:db8::1", "2001:db8::2", IpProtocols.Icmpv6)]
    // ICMP (checksum over the message only).
    [InlineData("192.0.2.1", "198.51.100.2", IpProtocols.Icmp)]
    public void ToArray_Checksums_Verify(string src, string dst, byte protocol)
    {
        var builder = Frames.Ip(src, dst);
        _ = protocol switch
        {
            IpProtocols.Tcp => builder.Tcp(40000, 554, TcpFlags.Syn).TcpOptions(2, 4, 5, 0xB4).Payload(1, 2, 3),
            IpProtocols.Udp => builder.Udp(5000, 53).Payload(1, 2, 3, 4, 5),
            _ => builder.Echo(7, 9).Payload(1, 2, 3),
        };
        var packet = builder.ToArray();

        var v6 = src.Contains(':', StringComparison.Ordinal);
        var headerLength = v6 ? 40 : 20;
        var l4 = packet.AsSpan(headerLength);
        if (!v6)
        {
            Assert.Equal(0xFFFF, Sum(packet.AsSpan(0, 20)));
        }

        var addressLength = v6 ? 16 : 4;
        var addresses = packet.AsSpan(v6 ? 8 : 12);
        var start = protocol == IpProtocols.Icmp ? 0 : PseudoHeader(addresses[..addressLength], addresses.Slice(addressLength, addressLength), protocol, l4.Length);
        Assert.Equal(0xFFFF, Sum(l4, start));
    }

    [Fact]
    public void ToArray_QinQ_WritesTagsInOrder()
    {
        var frame = FrameBuilder.Ethernet(Frames.CameraMac, Frames.NvrMac).QinQ(100, 200).Ipv4("192.0.2.1", "192.0.2.2").Udp(1, 2).ToArray();

        Assert.Equal(EtherTypes.QinQ, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        Assert.Equal(100, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14)) & 0xFFF);
        Assert.Equal(EtherTypes.Vlan, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(16)));
        Assert.Equal(200, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18)) & 0xFFF);
        Assert.Equal(EtherTypes.Ipv4, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(20)));
        Assert.Equal(0x45, frame[22]);
    }

    [Fact]
    public void ToArray_Ipv6ExtensionHeaders_ChainNextHeaders()
    {
        var packet = Frames.Ip("2001:db8::1", "2001:db8::2").HopByHop().FragmentHeader(0, true, 42).AuthenticationHeader().Udp(1, 2).ToArray();

        Assert.Equal(IpProtocols.HopByHop, packet[6]);
        Assert.Equal(IpProtocols.Fragment, packet[40]);
        Assert.Equal(IpProtocols.Ah, packet[48]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(50)));
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(52)));
        Assert.Equal(IpProtocols.Udp, packet[56]);
        Assert.Equal(4, packet[57]);
        Assert.Equal(packet.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(4)));
    }

    [Fact]
    public void ToArray_PadTo_AddsZerosOutsideIpLength()
    {
        var frame = Frames.ArpRequest(Frames.CameraMac, "192.0.2.1", "192.0.2.2").PadTo(60).ToArray();

        Assert.Equal(60, frame.Length);
        Assert.All(frame[42..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void IcmpError_QuotesCutPacket()
    {
        var quoted = Frames.Ip("192.0.2.1", "198.51.100.2").Udp(4000, 53).Payload(new byte[50]);

        var frame = Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, "198.51.100.2", "192.0.2.1", 3, 3, quoted, 28).ToArray();

        Assert.Equal(14 + 20 + 8 + 28, frame.Length);
        Assert.Equal(quoted.ToArray().AsSpan(0, 28).ToArray(), frame.AsSpan(42).ToArray());
    }

    [Fact]
    public void Builder_LayerOutOfOrder_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => FrameBuilder.Ethernet(Frames.CameraMac, Frames.NvrMac).Tcp(1, 2, TcpFlags.Syn));
        Assert.Throws<InvalidOperationException>(() => FrameBuilder.IpPacket().Vlan(3));
        Assert.Throws<ArgumentException>(() => Frames.Ip("192.0.2.1", "2001:db8::1"));
    }
}
