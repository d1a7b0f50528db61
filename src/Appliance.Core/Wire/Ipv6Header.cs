using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of the fixed IPv6 header and its packet, bounded by the payload-length field (so Ethernet padding is
/// outside). Extension headers are walked by <see cref="Ipv6ExtensionChain"/>. Jumbograms (payload length 0 with
/// a jumbo option) do not exist on Ethernet and are parsed as an empty payload.
/// </summary>
public readonly ref struct Ipv6Header
{
    /// <summary>The fixed header.</summary>
    public const int Length = 40;

    private const int VersionClassFlowOffset = 0;
    private const int PayloadLengthOffset = 4;
    private const int NextHeaderOffset = 6;
    private const int HopLimitOffset = 7;
    private const int SourceOffset = 8;
    private const int DestinationOffset = 24;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv6Header(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>
    /// Wraps an IPv6 packet at the start of <paramref name="buffer"/>: <see cref="Reason.TruncatedIpv6"/>,
    /// <see cref="Reason.BadIpVersion"/> or <see cref="Reason.Ipv6PayloadLengthBeyondFrame"/> on failure.
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out Ipv6Header header, out Reason error)
    {
        header = default;
        if (buffer.Length < Length)
        {
            error = Reason.TruncatedIpv6;
            return false;
        }

        if (buffer[VersionClassFlowOffset] >> 4 != 6)
        {
            error = Reason.BadIpVersion;
            return false;
        }

        var total = Length + BinaryPrimitives.ReadUInt16BigEndian(buffer[PayloadLengthOffset..]);
        if (total > buffer.Length)
        {
            error = Reason.Ipv6PayloadLengthBeyondFrame;
            return false;
        }

        header = new Ipv6Header(buffer[..total]);
        error = 0;
        return true;
    }

    /// <summary>
    /// Wraps the IPv6 packet an ICMPv6 error quotes: the fixed header must be whole; the payload ends where the
    /// quote ends if that comes before the payload length.
    /// </summary>
    public static bool TryCreateQuoted(ReadOnlySpan<byte> quote, out Ipv6Header header)
    {
        header = default;
        if (quote.Length < Length || quote[VersionClassFlowOffset] >> 4 != 6)
        {
            return false;
        }

        var total = Length + BinaryPrimitives.ReadUInt16BigEndian(quote[PayloadLengthOffset..]);
        header = new Ipv6Header(quote[..Math.Min(total, quote.Length)]);
        return true;
    }

    /// <summary>Always 6 once created.</summary>
    public byte Version => (byte)(_packet[VersionClassFlowOffset] >> 4);

    /// <summary>Traffic class (DSCP and ECN).</summary>
    public byte TrafficClass => (byte)(BinaryPrimitives.ReadUInt32BigEndian(_packet) >> 20);

    /// <summary>Flow label (20 bits).</summary>
    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_packet) & 0xF_FFFF;

    /// <summary>The payload-length field (for a quoted header it may exceed <see cref="Payload"/>).</summary>
    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_packet[PayloadLengthOffset..]);

    /// <summary>The first next-header value (an extension header or the upper-layer protocol).</summary>
    public byte NextHeader => _packet[NextHeaderOffset];

    /// <summary>Hop limit.</summary>
    public byte HopLimit => _packet[HopLimitOffset];

    /// <summary>Source address.</summary>
    public IpAddr Source => IpAddr.ReadV6(_packet.Slice(SourceOffset, 16));

    /// <summary>Destination address.</summary>
    public IpAddr Destination => IpAddr.ReadV6(_packet.Slice(DestinationOffset, 16));

    /// <summary>The whole packet as far as the view reaches.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>Extension headers and upper-layer data.</summary>
    public ReadOnlySpan<byte> Payload => _packet[Length..];
}
