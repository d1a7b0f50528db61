using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// The walked IPv6 extension-header chain (hop-by-hop, routing, fragment, destination options, AH) and the
/// upper-layer data behind it. <see cref="TryWalk"/> checks every header's length against the packet once.
/// <para>
/// Why the caps: a filter that gives up on a long or odd chain and then treats the packet as "no L4 header, no
/// rule matched, fall through" lets an attacker hide TCP/UDP behind it (RFC 7112, RFC 8883; the Linux and
/// FreeBSD filter bypasses were of this kind). So the walk fails closed on anything it cannot finish: more than
/// <see cref="MaxHeaders"/> headers or more than <see cref="MaxBytes"/> bytes of them is
/// <see cref="Reason.Ipv6ChainTooLong"/>; a header running past the packet is <see cref="Reason.Ipv6ChainTruncated"/>;
/// a second fragment header is <see cref="Reason.Ipv6DuplicateFragmentHeader"/>; hop-by-hop anywhere but first is
/// <see cref="Reason.Ipv6HopByHopNotFirst"/>; a type 0 routing header still routing is
/// <see cref="Reason.Ipv6RoutingHeaderType0"/>.
/// </para>
/// <para>
/// A non-first fragment ends the walk at its fragment header: what follows is fragment data, not headers, and
/// <see cref="Protocol"/> is the fragment header's next-header value. ESP and "no next header" end the walk too.
/// </para>
/// </summary>
public readonly ref struct Ipv6ExtensionChain
{
    /// <summary>Most extension headers one packet may carry. Real traffic uses at most three or four.</summary>
    public const int MaxHeaders = 8;

    /// <summary>Most bytes of extension headers one packet may carry before the upper-layer header.</summary>
    public const int MaxBytes = 256;

    private const int NextHeaderOffset = 0;
    private const int LengthOffset = 1;
    private const int RoutingTypeOffset = 2;
    private const int SegmentsLeftOffset = 3;
    private const int FragmentOffsetFlagsOffset = 2;
    private const int FragmentIdOffset = 4;

    /// <summary>Fragment header, and the smallest of every other extension header.</summary>
    private const int MinHeaderLength = 8;

    /// <summary>AH: next header, length, reserved, SPI, sequence number, before the ICV.</summary>
    private const int MinAhLength = 12;

    private readonly ReadOnlySpan<byte> _upperLayer;

    private Ipv6ExtensionChain(
        ReadOnlySpan<byte> upperLayer, byte protocol, int headerCount, int length, bool hasFragment,
        ushort fragmentOffset, bool moreFragments, uint fragmentId, int fragmentDataLength)
    {
        _upperLayer = upperLayer;
        Protocol = protocol;
        HeaderCount = headerCount;
        Length = length;
        HasFragmentHeader = hasFragment;
        FragmentOffset = fragmentOffset;
        MoreFragments = moreFragments;
        FragmentId = fragmentId;
        FragmentDataLength = fragmentDataLength;
    }

    /// <summary>The upper-layer protocol (or, for a non-first fragment, the fragment header's next header).</summary>
    public byte Protocol { get; }

    /// <summary>Number of extension headers walked.</summary>
    public int HeaderCount { get; }

    /// <summary>Bytes of extension headers walked; the upper layer starts this far into the IPv6 payload.</summary>
    public int Length { get; }

    /// <summary>A fragment header was present (including an atomic fragment: offset 0, M clear).</summary>
    public bool HasFragmentHeader { get; }

    /// <summary>Fragment offset in 8-byte units.</summary>
    public ushort FragmentOffset { get; }

    /// <summary>M flag of the fragment header.</summary>
    public bool MoreFragments { get; }

    /// <summary>Fragment identification.</summary>
    public uint FragmentId { get; }

    /// <summary>Bytes after the fragment header (the fragmentable part this fragment carries); 0 without one.</summary>
    public int FragmentDataLength { get; }

    /// <summary>The bytes after the chain: the upper-layer header, or fragment data for a non-first fragment.</summary>
    public ReadOnlySpan<byte> UpperLayer => _upperLayer;

    /// <summary>True for the next-header values this walk treats as extension headers.</summary>
    public static bool IsExtensionHeader(byte nextHeader) => nextHeader is IpProtocols.HopByHop or IpProtocols.Routing
        or IpProtocols.Fragment or IpProtocols.DestinationOptions or IpProtocols.Ah;

    /// <summary>
    /// Walks the chain starting with <paramref name="nextHeader"/> (the fixed header's value) over
    /// <paramref name="payload"/> (the IPv6 payload, bounded by the payload length).
    /// </summary>
    public static bool TryWalk(ReadOnlySpan<byte> payload, byte nextHeader, out Ipv6ExtensionChain chain, out Reason error)
    {
        chain = default;
        var offset = 0;
        var count = 0;
        var protocol = nextHeader;
        var hasFragment = false;
        ushort fragmentOffset = 0;
        var moreFragments = false;
        uint fragmentId = 0;
        var fragmentDataLength = 0;

        while (IsExtensionHeader(protocol))
        {
            if (++count > MaxHeaders)
            {
                error = Reason.Ipv6ChainTooLong;
                return false;
            }

            if (payload.Length - offset < MinHeaderLength)
            {
                error = Reason.Ipv6ChainTruncated;
                return false;
            }

            var header = payload[offset..];
            int length;
            switch (protocol)
            {
                case IpProtocols.Fragment:
                    if (hasFragment)
                    {
                        error = Reason.Ipv6DuplicateFragmentHeader;
                        return false;
                    }

                    hasFragment = true;
                    var offsetFlags = BinaryPrimitives.ReadUInt16BigEndian(header[FragmentOffsetFlagsOffset..]);
                    fragmentOffset = (ushort)(offsetFlags >> 3);
                    moreFragments = (offsetFlags & 1) != 0;
                    fragmentId = BinaryPrimitives.ReadUInt32BigEndian(header[FragmentIdOffset..]);
                    fragmentDataLength = header.Length - MinHeaderLength;
                    length = MinHeaderLength;
                    break;

                case IpProtocols.Ah:
                    // RFC 4302: the length is in 4-byte units minus 2.
                    length = (header[LengthOffset] + 2) * 4;
                    if (length < MinAhLength)
                    {
                        error = Reason.Ipv6ChainTruncated;
                        return false;
                    }

                    break;

                case IpProtocols.HopByHop when count != 1:
                    error = Reason.Ipv6HopByHopNotFirst;
                    return false;

                case IpProtocols.Routing when header[RoutingTypeOffset] == 0 && header[SegmentsLeftOffset] != 0:
                    error = Reason.Ipv6RoutingHeaderType0;
                    return false;

                default:
                    // Hop-by-hop, routing, destination options: the length is in 8-byte units, not counting the first 8.
                    length = (header[LengthOffset] + 1) * 8;
                    break;
            }

            if (length > header.Length)
            {
                error = Reason.Ipv6ChainTruncated;
                return false;
            }

            if (offset + length > MaxBytes)
            {
                error = Reason.Ipv6ChainTooLong;
                return false;
            }

            protocol = header[NextHeaderOffset];
            offset += length;
            if (hasFragment && fragmentOffset != 0)
            {
                break;
            }
        }

        chain = new Ipv6ExtensionChain(payload[offset..], protocol, count, offset, hasFragment, fragmentOffset, moreFragments, fragmentId, fragmentDataLength);
        error = 0;
        return true;
    }
}
