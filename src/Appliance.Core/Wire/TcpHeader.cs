using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of a TCP header. <see cref="TryCreate"/> checks the data offset against the segment and the flag
/// combination once; after it succeeds no accessor can fail.
/// </summary>
public readonly ref struct TcpHeader
{
    /// <summary>The header without options.</summary>
    public const int MinLength = 20;

    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int SequenceOffset = 4;
    private const int AcknowledgmentOffset = 8;
    private const int DataOffsetOffset = 12;
    private const int FlagsOffset = 13;
    private const int WindowOffset = 14;
    private const int ChecksumOffset = 16;
    private const int UrgentPointerOffset = 18;

    // Flag combinations a real stack sends, after Linux nf_conntrack's tcp_valid_flags: PSH, ECE and CWR are
    // ignored; of FIN, SYN, RST, ACK, URG only these are valid. One bit per combination of the masked flags
    // (mask 0x37, so the index is below 64):
    //   SYN 0x02, SYN|URG 0x22, SYN|ACK 0x12, RST 0x04, RST|ACK 0x14,
    //   FIN|ACK 0x11, FIN|ACK|URG 0x31, ACK 0x10, ACK|URG 0x30.
    // Everything else (no flags, FIN alone, SYN|FIN, SYN|RST, Xmas...) is a scan or an evasion probe.
    private const int FlagMask = 0x37;
    private const ulong ValidFlagCombinations =
        (1UL << 0x02) | (1UL << 0x22) | (1UL << 0x12) | (1UL << 0x04) | (1UL << 0x14)
        | (1UL << 0x11) | (1UL << 0x31) | (1UL << 0x10) | (1UL << 0x30);

    private readonly ReadOnlySpan<byte> _segment;

    private TcpHeader(ReadOnlySpan<byte> segment) => _segment = segment;

    /// <summary>
    /// Wraps a TCP segment: <see cref="Reason.TruncatedTcp"/> when shorter than 20 bytes or than the data offset
    /// says, <see cref="Reason.TcpBadDataOffset"/> for a data offset below 5, <see cref="Reason.TcpBadFlags"/> for a
    /// flag combination no stack sends (see <see cref="IsValidFlagCombination"/>).
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<byte> segment, out TcpHeader header, out Reason error)
    {
        header = default;
        if (segment.Length < MinLength)
        {
            error = Reason.TruncatedTcp;
            return false;
        }

        var headerLength = (segment[DataOffsetOffset] >> 4) * 4;
        if (headerLength < MinLength)
        {
            error = Reason.TcpBadDataOffset;
            return false;
        }

        if (headerLength > segment.Length)
        {
            error = Reason.TruncatedTcp;
            return false;
        }

        if (!IsValidFlagCombination(segment[FlagsOffset]))
        {
            error = Reason.TcpBadFlags;
            return false;
        }

        header = new TcpHeader(segment);
        error = 0;
        return true;
    }

    /// <summary>
    /// True for the flag combinations real stacks send (SYN, SYN|ACK, ACK, FIN|ACK, RST, RST|ACK, each optionally
    /// with URG; PSH, ECE and CWR ignored). SYN|FIN, SYN|RST, no flags, FIN alone and the like are refused.
    /// </summary>
    public static bool IsValidFlagCombination(byte flags) => ((ValidFlagCombinations >> (flags & FlagMask)) & 1) != 0;

    /// <summary>Source port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_segment[SourcePortOffset..]);

    /// <summary>Destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_segment[DestinationPortOffset..]);

    /// <summary>Sequence number.</summary>
    public uint Sequence => BinaryPrimitives.ReadUInt32BigEndian(_segment[SequenceOffset..]);

    /// <summary>Acknowledgment number.</summary>
    public uint Acknowledgment => BinaryPrimitives.ReadUInt32BigEndian(_segment[AcknowledgmentOffset..]);

    /// <summary>Header length in bytes (data offset * 4, 20..60).</summary>
    public int HeaderLength => (_segment[DataOffsetOffset] >> 4) * 4;

    /// <summary>Flags byte.</summary>
    public TcpFlags Flags => (TcpFlags)_segment[FlagsOffset];

    /// <summary>Receive window.</summary>
    public ushort Window => BinaryPrimitives.ReadUInt16BigEndian(_segment[WindowOffset..]);

    /// <summary>Checksum as sent.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_segment[ChecksumOffset..]);

    /// <summary>Urgent pointer.</summary>
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_segment[UrgentPointerOffset..]);

    /// <summary>Options (empty when the data offset is 5).</summary>
    public ReadOnlySpan<byte> Options => _segment[MinLength..HeaderLength];

    /// <summary>Segment data after the header.</summary>
    public ReadOnlySpan<byte> Payload => _segment[HeaderLength..];
}
