using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>A view of a UDP header and its datagram, bounded by the UDP length field.</summary>
public readonly ref struct UdpHeader
{
    /// <summary>Ports, length, checksum.</summary>
    public const int Length = 8;

    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int LengthOffset = 4;
    private const int ChecksumOffset = 6;

    private readonly ReadOnlySpan<byte> _datagram;

    private UdpHeader(ReadOnlySpan<byte> datagram) => _datagram = datagram;

    /// <summary>
    /// Wraps a UDP datagram: <see cref="Reason.TruncatedUdp"/> when shorter than 8 bytes,
    /// <see cref="Reason.UdpLengthTooShort"/> for a length field below 8 (including the IPv6 jumbogram 0),
    /// <see cref="Reason.UdpLengthBeyondPayload"/> when the length field exceeds <paramref name="datagram"/>. In a
    /// first fragment (<paramref name="firstFragment"/>) the length covers the reassembled datagram, so only the
    /// view is cut to what this fragment holds.
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<byte> datagram, bool firstFragment, out UdpHeader header, out Reason error)
    {
        header = default;
        if (datagram.Length < Length)
        {
            error = Reason.TruncatedUdp;
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(datagram[LengthOffset..]);
        if (length < Length)
        {
            error = Reason.UdpLengthTooShort;
            return false;
        }

        if (length > datagram.Length)
        {
            if (!firstFragment)
            {
                error = Reason.UdpLengthBeyondPayload;
                return false;
            }

            length = datagram.Length;
        }

        header = new UdpHeader(datagram[..length]);
        error = 0;
        return true;
    }

    /// <summary>Source port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_datagram[SourcePortOffset..]);

    /// <summary>Destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_datagram[DestinationPortOffset..]);

    /// <summary>The length field as sent.</summary>
    public ushort DatagramLength => BinaryPrimitives.ReadUInt16BigEndian(_datagram[LengthOffset..]);

    /// <summary>Checksum as sent (0 = none, IPv4 only).</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_datagram[ChecksumOffset..]);

    /// <summary>Data after the header, bounded by the length field.</summary>
    public ReadOnlySpan<byte> Payload => _datagram[Length..];
}
