using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of an Ethernet II header. <see cref="TryCreate"/> checks the length once; after that no accessor can
/// fail. The FCS is not part of the view: capture APIs strip it, and a trailing FCS is just padding to IP.
/// </summary>
public readonly ref struct EthernetHeader
{
    /// <summary>Destination MAC, source MAC, EtherType.</summary>
    public const int Length = 14;

    private const int DestinationOffset = 0;
    private const int SourceOffset = 6;
    private const int EtherTypeOffset = 12;

    private readonly ReadOnlySpan<byte> _frame;

    private EthernetHeader(ReadOnlySpan<byte> frame) => _frame = frame;

    /// <summary>Wraps <paramref name="frame"/> if it holds a whole header; otherwise <see cref="Reason.TruncatedEthernet"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> frame, out EthernetHeader header, out Reason error)
    {
        if (frame.Length < Length)
        {
            header = default;
            error = Reason.TruncatedEthernet;
            return false;
        }

        header = new EthernetHeader(frame);
        error = 0;
        return true;
    }

    /// <summary>Destination MAC.</summary>
    public MacAddress Destination => MacAddress.Read(_frame.Slice(DestinationOffset, 6));

    /// <summary>Source MAC.</summary>
    public MacAddress Source => MacAddress.Read(_frame.Slice(SourceOffset, 6));

    /// <summary>The outer EtherType (a VLAN TPID when the frame is tagged).</summary>
    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_frame[EtherTypeOffset..]);

    /// <summary>Everything after the 14-byte header (may include Ethernet padding).</summary>
    public ReadOnlySpan<byte> Payload => _frame[Length..];
}

/// <summary>
/// A view of one 802.1Q / 802.1ad tag as it follows a TPID: the 2-byte TCI and the next EtherType.
/// The TPID itself belongs to the header before (the Ethernet EtherType field or the previous tag).
/// </summary>
public readonly ref struct VlanTag
{
    /// <summary>TCI plus the encapsulated EtherType.</summary>
    public const int Length = 4;

    private const int TciOffset = 0;
    private const int EtherTypeOffset = 2;

    private readonly ReadOnlySpan<byte> _buffer;

    private VlanTag(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>Wraps the bytes after a TPID if they hold a whole tag; otherwise <see cref="Reason.TruncatedVlan"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> afterTpid, out VlanTag tag, out Reason error)
    {
        if (afterTpid.Length < Length)
        {
            tag = default;
            error = Reason.TruncatedVlan;
            return false;
        }

        tag = new VlanTag(afterTpid);
        error = 0;
        return true;
    }

    /// <summary>Priority code point (3 bits).</summary>
    public byte Priority => (byte)(_buffer[TciOffset] >> 5);

    /// <summary>VLAN id (12 bits); 0 is a priority-only tag.</summary>
    public ushort VlanId => (ushort)(BinaryPrimitives.ReadUInt16BigEndian(_buffer[TciOffset..]) & 0x0FFF);

    /// <summary>The EtherType (or next TPID) this tag carries.</summary>
    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_buffer[EtherTypeOffset..]);

    /// <summary>Everything after the tag.</summary>
    public ReadOnlySpan<byte> Payload => _buffer[Length..];
}
