using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of an IPv4 header and its packet, bounded by the total-length field (so Ethernet padding is outside).
/// <see cref="TryCreate"/> checks version, IHL, total length and the option walk once; after it succeeds no
/// accessor can fail. The header checksum is not verified here (end hosts do, and checksum offload leaves it
/// unset on locally sent packets a WinDivert gateway sees); <see cref="IsChecksumValid"/> computes it on demand.
/// </summary>
public readonly ref struct Ipv4Header
{
    /// <summary>The fixed header without options.</summary>
    public const int MinLength = 20;

    private const int VersionIhlOffset = 0;
    private const int TosOffset = 1;
    private const int TotalLengthOffset = 2;
    private const int IdentificationOffset = 4;
    private const int FlagsFragmentOffset = 6;
    private const int TtlOffset = 8;
    private const int ProtocolOffset = 9;
    private const int ChecksumOffset = 10;
    private const int SourceOffset = 12;
    private const int DestinationOffset = 16;

    private const ushort DontFragmentBit = 0x4000;
    private const ushort MoreFragmentsBit = 0x2000;
    private const ushort FragmentOffsetMask = 0x1FFF;

    private const byte OptionEndOfList = 0;
    private const byte OptionNoOperation = 1;
    private const byte OptionLooseSourceRoute = 131;
    private const byte OptionStrictSourceRoute = 137;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv4Header(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>
    /// Wraps an IPv4 packet at the start of <paramref name="buffer"/>. Fails with <see cref="Reason.TruncatedIpv4"/>
    /// (shorter than 20 bytes or than IHL), <see cref="Reason.BadIpVersion"/>, <see cref="Reason.BadIpv4HeaderLength"/>
    /// (IHL &lt; 5), <see cref="Reason.IpTotalLengthTooSmall"/> (total length &lt; IHL*4),
    /// <see cref="Reason.IpTotalLengthBeyondFrame"/>, <see cref="Reason.BadIpv4Options"/> or
    /// <see cref="Reason.Ipv4SourceRoute"/>. Bytes after the total length (Ethernet padding) are outside the view.
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out Ipv4Header header, out Reason error)
    {
        header = default;
        if (!CheckHeader(buffer, out var headerLength, out error))
        {
            return false;
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(buffer[TotalLengthOffset..]);
        if (totalLength < headerLength)
        {
            error = Reason.IpTotalLengthTooSmall;
            return false;
        }

        if (totalLength > buffer.Length)
        {
            error = Reason.IpTotalLengthBeyondFrame;
            return false;
        }

        header = new Ipv4Header(buffer[..totalLength]);
        return true;
    }

    /// <summary>
    /// Wraps the IPv4 packet an ICMP error quotes. The quote is cut short by design (RFC 792: header plus 8 bytes),
    /// so a total length beyond the buffer is accepted and the view ends where the quote ends; the header itself
    /// must be whole and well-formed.
    /// </summary>
    public static bool TryCreateQuoted(ReadOnlySpan<byte> quote, out Ipv4Header header)
    {
        header = default;
        if (!CheckHeader(quote, out var headerLength, out _))
        {
            return false;
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(quote[TotalLengthOffset..]);
        if (totalLength < headerLength)
        {
            return false;
        }

        header = new Ipv4Header(quote[..Math.Min(totalLength, quote.Length)]);
        return true;
    }

    private static bool CheckHeader(ReadOnlySpan<byte> buffer, out int headerLength, out Reason error)
    {
        headerLength = 0;
        if (buffer.Length < MinLength)
        {
            error = Reason.TruncatedIpv4;
            return false;
        }

        var versionIhl = buffer[VersionIhlOffset];
        if (versionIhl >> 4 != 4)
        {
            error = Reason.BadIpVersion;
            return false;
        }

        headerLength = (versionIhl & 0x0F) * 4;
        if (headerLength < MinLength)
        {
            error = Reason.BadIpv4HeaderLength;
            return false;
        }

        if (headerLength > buffer.Length)
        {
            error = Reason.TruncatedIpv4;
            return false;
        }

        error = CheckOptions(buffer[MinLength..headerLength]);
        return error == 0;
    }

    // Walks the option TLVs so that a length byte pointing outside the header is caught here, not by whoever
    // reads options later. Source routes are refused outright: they let a sender steer the return path.
    private static Reason CheckOptions(ReadOnlySpan<byte> options)
    {
        var i = 0;
        while (i < options.Length)
        {
            var type = options[i];
            if (type == OptionEndOfList)
            {
                return 0;
            }

            if (type == OptionNoOperation)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length)
            {
                return Reason.BadIpv4Options;
            }

            int length = options[i + 1];
            if (length < 2 || length > options.Length - i)
            {
                return Reason.BadIpv4Options;
            }

            if (type is OptionLooseSourceRoute or OptionStrictSourceRoute)
            {
                return Reason.Ipv4SourceRoute;
            }

            i += length;
        }

        return 0;
    }

    /// <summary>Always 4 once created.</summary>
    public byte Version => (byte)(_packet[VersionIhlOffset] >> 4);

    /// <summary>IHL in bytes (20..60).</summary>
    public int HeaderLength => (_packet[VersionIhlOffset] & 0x0F) * 4;

    /// <summary>Type of service byte (DSCP and ECN).</summary>
    public byte Tos => _packet[TosOffset];

    /// <summary>The total-length field (for a quoted header it may exceed <see cref="Packet"/>).</summary>
    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_packet[TotalLengthOffset..]);

    /// <summary>Identification.</summary>
    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_packet[IdentificationOffset..]);

    /// <summary>DF flag.</summary>
    public bool DontFragment => (BinaryPrimitives.ReadUInt16BigEndian(_packet[FlagsFragmentOffset..]) & DontFragmentBit) != 0;

    /// <summary>MF flag.</summary>
    public bool MoreFragments => (BinaryPrimitives.ReadUInt16BigEndian(_packet[FlagsFragmentOffset..]) & MoreFragmentsBit) != 0;

    /// <summary>Fragment offset in 8-byte units.</summary>
    public ushort FragmentOffset => (ushort)(BinaryPrimitives.ReadUInt16BigEndian(_packet[FlagsFragmentOffset..]) & FragmentOffsetMask);

    /// <summary>True for any fragment: MF set or a non-zero offset.</summary>
    public bool IsFragment => (BinaryPrimitives.ReadUInt16BigEndian(_packet[FlagsFragmentOffset..]) & (MoreFragmentsBit | FragmentOffsetMask)) != 0;

    /// <summary>Time to live.</summary>
    public byte Ttl => _packet[TtlOffset];

    /// <summary>Upper-layer protocol.</summary>
    public byte Protocol => _packet[ProtocolOffset];

    /// <summary>Header checksum as sent.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_packet[ChecksumOffset..]);

    /// <summary>Source address.</summary>
    public IpAddr Source => IpAddr.ReadV4(_packet.Slice(SourceOffset, 4));

    /// <summary>Destination address.</summary>
    public IpAddr Destination => IpAddr.ReadV4(_packet.Slice(DestinationOffset, 4));

    /// <summary>Options (empty when IHL is 5).</summary>
    public ReadOnlySpan<byte> Options => _packet[MinLength..HeaderLength];

    /// <summary>The whole packet as far as the view reaches.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>The bytes after the header, up to the total length (or the end of a quote).</summary>
    public ReadOnlySpan<byte> Payload => _packet[HeaderLength..];

    /// <summary>Verifies the header checksum (RFC 1071): the one's-complement sum over the header is 0xFFFF.</summary>
    public bool IsChecksumValid
    {
        get
        {
            var header = _packet[..HeaderLength];
            uint sum = 0;
            for (var i = 0; i < header.Length; i += 2)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
            }

            sum = (sum & 0xFFFF) + (sum >> 16);
            sum += sum >> 16;
            return (ushort)sum == 0xFFFF;
        }
    }
}
