using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Appliance.Transport.PcapFile.Pcapng;

/// <summary>What <see cref="PcapngReader.Read"/> found.</summary>
public enum PcapngReadStatus
{
    /// <summary>A packet; see <see cref="PcapngPacket"/>.</summary>
    Packet,

    /// <summary>The file ended cleanly on a block boundary.</summary>
    End,

    /// <summary>The file is malformed or unreadable from here on; <see cref="PcapngReader.Error"/> says why and where.</summary>
    Error,
}

/// <summary>Which way a frame crossed its interface, from the packet block's flags (epb_flags bits 0-1).</summary>
public enum PacketDirection : byte
{
    /// <summary>Not recorded.</summary>
    Unknown = 0,

    /// <summary>The interface received it.</summary>
    Inbound = 1,

    /// <summary>The interface sent it.</summary>
    Outbound = 2,
}

/// <summary>One interface description of a pcapng file, numbered across the whole file.</summary>
public sealed class PcapngInterface
{
    internal PcapngInterface(int index, int section, int localId, int linkType, uint snapLength, string? name, ulong unitsPerSecond, long offsetSeconds)
    {
        Index = index;
        Section = section;
        LocalId = localId;
        LinkType = linkType;
        SnapLength = snapLength;
        Name = name;
        UnitsPerSecond = unitsPerSecond;
        OffsetSeconds = offsetSeconds;
    }

    /// <summary>0-based position among every interface of the file (sections numbered in order), as Wireshark counts.</summary>
    public int Index { get; }

    /// <summary>0-based section the interface belongs to.</summary>
    public int Section { get; }

    /// <summary>The interface id packet blocks of its section use.</summary>
    public int LocalId { get; }

    /// <summary>LINKTYPE_ value.</summary>
    public int LinkType { get; }

    /// <summary>Snapshot length; 0 means unlimited.</summary>
    public uint SnapLength { get; }

    /// <summary>if_name, with control characters replaced; null when absent.</summary>
    public string? Name { get; }

    /// <summary>Timestamp units per second (if_tsresol; 1,000,000 when absent).</summary>
    public ulong UnitsPerSecond { get; }

    /// <summary>if_tsoffset: seconds added to every timestamp.</summary>
    public long OffsetSeconds { get; }

    /// <summary>For messages: <c>interface 1 (eth2, EN10MB (1))</c>.</summary>
    public override string ToString() => Name is null
        ? string.Create(CultureInfo.InvariantCulture, $"interface {Index} ({LinkTypes.Describe(LinkType)})")
        : string.Create(CultureInfo.InvariantCulture, $"interface {Index} ({Name}, {LinkTypes.Describe(LinkType)})");
}

/// <summary>One packet read from a pcapng file. <see cref="Data"/> points into the reader's buffer until its next read.</summary>
public readonly ref struct PcapngPacket
{
    internal PcapngPacket(ReadOnlySpan<byte> data, PcapngInterface iface, bool hasTimestamp, long timestampMicros, int wireLength, PacketDirection direction)
    {
        Data = data;
        Interface = iface;
        HasTimestamp = hasTimestamp;
        TimestampMicros = timestampMicros;
        WireLength = wireLength;
        Direction = direction;
    }

    /// <summary>The captured bytes.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The interface it was captured on.</summary>
    public PcapngInterface Interface { get; }

    /// <summary>False for simple packet blocks, which carry no time.</summary>
    public bool HasTimestamp { get; }

    /// <summary>
    /// Microseconds since the Unix epoch after if_tsresol and if_tsoffset, saturated to <see cref="long.MinValue"/>
    /// or <see cref="long.MaxValue"/> when the file's value does not fit (the caller decides what such a time means).
    /// </summary>
    public long TimestampMicros { get; }

    /// <summary>Length on the wire; never less than <see cref="Data"/>'s.</summary>
    public int WireLength { get; }

    /// <summary>Direction when the block records it.</summary>
    public PacketDirection Direction { get; }
}

/// <summary>
/// A reader of pcapng files (draft-ietf-opsawg-pcapng) for what libpcap refuses: any number of interfaces and
/// sections, each section in either byte order, each interface with its own link type, snapshot length and
/// timestamp resolution. It reads untrusted input: every length is checked against the block that holds it before
/// anything is read through it, a block is at most <see cref="MaxBlockLength"/> bytes, nothing throws for malformed
/// input (the first defect ends the file with <see cref="PcapngReadStatus.Error"/> and a reason naming its byte
/// offset), and every read consumes at least one whole block, so a file of N bytes ends within N / 12 reads.
/// Enhanced (6), simple (3) and obsolete (2) packet blocks are returned; other blocks are skipped.
/// </summary>
public sealed class PcapngReader : IDisposable
{
    /// <summary>The largest block accepted (libpcap's own bound for pcapng): larger lengths are lies or damage.</summary>
    public const int MaxBlockLength = 16 * 1024 * 1024;

    private const uint SectionHeaderType = 0x0A0D0D0A;
    private const uint InterfaceDescriptionType = 1;
    private const uint ObsoletePacketType = 2;
    private const uint SimplePacketType = 3;
    private const uint EnhancedPacketType = 6;
    private const uint ByteOrderMagic = 0x1A2B3C4D;
    private const int BlockHeaderLength = 8;
    private const int BlockOverhead = 12;
    private const int SectionHeaderMinimum = BlockOverhead + 16;
    private const int MaxInterfaces = 65_536;
    private const int MaxNameLength = 256;

    // Option codes (generic, IDB, EPB) and packet-block field layout.
    private const ushort OptEndOfOpt = 0;
    private const ushort OptIfName = 2;
    private const ushort OptIfTsResol = 9;
    private const ushort OptIfTsOffset = 14;
    private const ushort OptEpbFlags = 2;
    private const int PacketFixed = 20;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly List<PcapngInterface> _interfaces = [];
    private byte[] _block = new byte[64 * 1024];
    private bool _bigEndian;
    private int _section = -1;
    private int _sectionFirstInterface;
    private long _offset;
    private long _blockOffset;

    /// <summary>Reads <paramref name="stream"/> from its current position, which must be a section header.</summary>
    public PcapngReader(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Every interface described so far, numbered across sections.</summary>
    public IReadOnlyList<PcapngInterface> Interfaces => _interfaces;

    /// <summary>Sections seen so far.</summary>
    public int Sections => _section + 1;

    /// <summary>Why reading stopped, once <see cref="Read"/> returned <see cref="PcapngReadStatus.Error"/>.</summary>
    public string? Error { get; private set; }

    /// <summary>Bytes consumed so far (the offset of the next block).</summary>
    public long Offset => _offset;

    /// <summary>True when the four bytes open a pcapng section header.</summary>
    public static bool IsPcapng(ReadOnlySpan<byte> start) => start.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(start) == SectionHeaderType;

    /// <summary>
    /// Reads blocks up to and including the next packet. After <see cref="PcapngReadStatus.End"/> or
    /// <see cref="PcapngReadStatus.Error"/> every further call returns the same.
    /// </summary>
    public PcapngReadStatus Read(out PcapngPacket packet)
    {
        packet = default;
        while (true)
        {
            if (Error is not null)
            {
                return PcapngReadStatus.Error;
            }

            var status = NextBlock(out var type, out var length);
            if (status != PcapngReadStatus.Packet)
            {
                return status;
            }

            var body = _block.AsSpan(BlockHeaderLength, length - BlockOverhead);
            switch (type)
            {
                case SectionHeaderType:
                    if (!TryStartSection(body))
                    {
                        return PcapngReadStatus.Error;
                    }

                    break;
                case InterfaceDescriptionType:
                    if (!TryAddInterface(body))
                    {
                        return PcapngReadStatus.Error;
                    }

                    break;
                case EnhancedPacketType or ObsoletePacketType:
                    if (!TryPacket(body, type == EnhancedPacketType, out packet))
                    {
                        return PcapngReadStatus.Error;
                    }

                    return PcapngReadStatus.Packet;
                case SimplePacketType:
                    if (!TrySimplePacket(body, out packet))
                    {
                        return PcapngReadStatus.Error;
                    }

                    return PcapngReadStatus.Packet;
                default:
                    // Name resolution, statistics, journal, custom blocks: nothing a verdict depends on.
                    break;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    /// <summary>
    /// Reads one whole block into <see cref="_block"/> and checks its framing: both length fields equal, at least
    /// 12, a multiple of 4, at most <see cref="MaxBlockLength"/>, all present. Returns Packet for "a block is ready".
    /// </summary>
    private PcapngReadStatus NextBlock(out uint type, out int length)
    {
        type = 0;
        length = 0;
        _blockOffset = _offset;
        var got = ReadFully(_block.AsSpan(0, BlockHeaderLength));
        if (got < 0)
        {
            return PcapngReadStatus.Error;
        }

        if (got == 0)
        {
            if (_section < 0)
            {
                return Fail("the file is empty");
            }

            return PcapngReadStatus.End;
        }

        if (got < BlockHeaderLength)
        {
            return Fail($"the file ends {got} bytes into a block header");
        }

        var rawType = BinaryPrimitives.ReadUInt32LittleEndian(_block);
        uint rawLength;
        if (rawType == SectionHeaderType)
        {
            // The section header's byte-order magic, right after the length, says how to read the length itself.
            got = ReadFully(_block.AsSpan(BlockHeaderLength, 4));
            if (got < 0)
            {
                return PcapngReadStatus.Error;
            }

            if (got < 4)
            {
                return Fail("the file ends inside a section header");
            }

            var magic = BinaryPrimitives.ReadUInt32LittleEndian(_block.AsSpan(BlockHeaderLength));
            if (magic == ByteOrderMagic)
            {
                _bigEndian = false;
            }
            else if (BinaryPrimitives.ReverseEndianness(magic) == ByteOrderMagic)
            {
                _bigEndian = true;
            }
            else
            {
                return Fail($"section header with byte-order magic 0x{magic:x8}, neither 1a2b3c4d nor 4d3c2b1a");
            }

            type = SectionHeaderType;
            rawLength = U32(_block.AsSpan(4));
            if (rawLength < SectionHeaderMinimum)
            {
                return Fail($"section header of {rawLength} bytes; it needs at least {SectionHeaderMinimum}");
            }
        }
        else
        {
            if (_section < 0)
            {
                return Fail("not a pcapng file: it does not start with a section header");
            }

            type = U32(_block);
            rawLength = U32(_block.AsSpan(4));
        }

        if (rawLength < BlockOverhead || rawLength % 4 != 0 || rawLength > MaxBlockLength)
        {
            return Fail(rawLength > MaxBlockLength
                ? $"block of type 0x{type:x} claims {rawLength} bytes, more than the {MaxBlockLength} a block may have"
                : $"block of type 0x{type:x} claims {rawLength} bytes; a block length is a multiple of 4 and at least {BlockOverhead}");
        }

        length = (int)rawLength;
        if (_block.Length < length)
        {
            // Grows to the largest block seen, never past MaxBlockLength: the length was checked above.
            Array.Resize(ref _block, Math.Max(length, Math.Min(_block.Length * 2, MaxBlockLength)));
        }

        var already = type == SectionHeaderType ? BlockHeaderLength + 4 : BlockHeaderLength;
        got = ReadFully(_block.AsSpan(already, length - already));
        if (got < 0)
        {
            return PcapngReadStatus.Error;
        }

        if (got < length - already)
        {
            return Fail($"the file ends inside a block of type 0x{type:x} that claims {length} bytes ({already + got} present)");
        }

        var trailer = U32(_block.AsSpan(length - 4));
        if (trailer != rawLength)
        {
            return Fail($"block of type 0x{type:x} has length {rawLength} at its start and {trailer} at its end");
        }

        return PcapngReadStatus.Packet;
    }

    private bool TryStartSection(ReadOnlySpan<byte> body)
    {
        // body: byte-order magic(4) major(2) minor(2) section length(8) options
        var major = U16(body[4..]);
        var minor = U16(body[6..]);
        if (major != 1)
        {
            Fail($"section header of pcapng version {major}.{minor}; only version 1 is known");
            return false;
        }

        _section++;
        _sectionFirstInterface = _interfaces.Count;
        return true;
    }

    private bool TryAddInterface(ReadOnlySpan<byte> body)
    {
        // body: link type(2) reserved(2) snap length(4) options
        if (body.Length < 8)
        {
            Fail($"interface description of {body.Length + BlockOverhead} bytes; it needs at least {8 + BlockOverhead}");
            return false;
        }

        if (_interfaces.Count >= MaxInterfaces)
        {
            Fail($"more than {MaxInterfaces} interface descriptions");
            return false;
        }

        var localId = _interfaces.Count - _sectionFirstInterface;
        var linkType = U16(body);
        var snap = U32(body[4..]);
        string? name = null;
        var units = 1_000_000UL;
        var offsetSeconds = 0L;
        var options = body[8..];
        while (options.Length >= 4)
        {
            var code = U16(options);
            var size = U16(options[2..]);
            if (code == OptEndOfOpt)
            {
                break;
            }

            if (size > options.Length - 4)
            {
                Fail($"interface {localId} of section {_section}: option {code} claims {size} bytes, {options.Length - 4} remain in the block");
                return false;
            }

            var value = options.Slice(4, size);
            switch (code)
            {
                case OptIfName:
                    name = Printable(value);
                    break;
                case OptIfTsResol:
                    if (size != 1 || !TryResolution(value[0], out units))
                    {
                        Fail(size != 1
                            ? $"interface {localId} of section {_section}: if_tsresol of {size} bytes; it has 1"
                            : $"interface {localId} of section {_section}: if_tsresol 0x{value[0]:x2} is finer than 2^-63 or 10^-19 s");
                        return false;
                    }

                    break;
                case OptIfTsOffset:
                    if (size != 8)
                    {
                        Fail($"interface {localId} of section {_section}: if_tsoffset of {size} bytes; it has 8");
                        return false;
                    }

                    offsetSeconds = _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(value) : BinaryPrimitives.ReadInt64LittleEndian(value);
                    break;
                default:
                    break;
            }

            // Values are padded to 4 bytes; a last option without its padding is tolerated.
            var advance = 4 + ((size + 3) & ~3);
            options = advance >= options.Length ? [] : options[advance..];
        }

        _interfaces.Add(new PcapngInterface(_interfaces.Count, _section, localId, linkType, snap, name, units, offsetSeconds));
        return true;
    }

    private bool TryPacket(ReadOnlySpan<byte> body, bool enhanced, out PcapngPacket packet)
    {
        // enhanced: interface id(4) ts high(4) ts low(4) captured(4) original(4) data options
        // obsolete: interface id(2) drops(2) ts high(4) ts low(4) captured(4) original(4) data options
        packet = default;
        if (body.Length < PacketFixed)
        {
            Fail($"packet block of {body.Length + BlockOverhead} bytes; it needs at least {PacketFixed + BlockOverhead}");
            return false;
        }

        var id = enhanced ? U32(body) : U16(body);
        if (!TryInterface(id, out var iface))
        {
            return false;
        }

        var high = U32(body[4..]);
        var low = U32(body[8..]);
        var captured = U32(body[12..]);
        var original = U32(body[16..]);
        if (captured > (uint)(body.Length - PacketFixed))
        {
            Fail($"packet block claims {captured} captured bytes; the block holds {body.Length - PacketFixed}");
            return false;
        }

        var data = body.Slice(PacketFixed, (int)captured);
        var direction = PacketDirection.Unknown;
        var optionsAt = PacketFixed + (((int)captured + 3) & ~3);
        if (optionsAt < body.Length)
        {
            direction = DirectionOption(body[optionsAt..]);
        }

        packet = MakePacket(data, iface, hasTimestamp: true, Timestamp(iface, ((ulong)high << 32) | low), original, direction);
        return true;
    }

    private bool TrySimplePacket(ReadOnlySpan<byte> body, out PcapngPacket packet)
    {
        // original length(4) data; always interface 0 of the section, captured = min(original, snap, what is there)
        packet = default;
        if (body.Length < 4)
        {
            Fail($"simple packet block of {body.Length + BlockOverhead} bytes; it needs at least {4 + BlockOverhead}");
            return false;
        }

        if (!TryInterface(0, out var iface))
        {
            return false;
        }

        var original = U32(body);
        var captured = Math.Min((long)original, body.Length - 4);
        packet = MakePacket(body.Slice(4, (int)captured), iface, hasTimestamp: false, 0, original, PacketDirection.Unknown);
        return true;
    }

    private static PcapngPacket MakePacket(ReadOnlySpan<byte> data, PcapngInterface iface, bool hasTimestamp, long micros, uint original, PacketDirection direction)
    {
        // As libpcap does: nothing longer than the interface's snapshot length is delivered, and the wire length is
        // at least what was captured, so "captured < wire" always means the capture cut the frame.
        if (iface.SnapLength != 0 && (uint)data.Length > iface.SnapLength)
        {
            data = data[..(int)iface.SnapLength];
        }

        var wire = (int)Math.Clamp(original, (uint)data.Length, int.MaxValue);
        return new PcapngPacket(data, iface, hasTimestamp, micros, wire, direction);
    }

    private bool TryInterface(uint localId, out PcapngInterface iface)
    {
        var declared = _interfaces.Count - _sectionFirstInterface;
        if (localId >= (uint)declared)
        {
            iface = null!;
            Fail($"packet on interface {localId}, but section {_section} describes {declared} interface{(declared == 1 ? string.Empty : "s")}");
            return false;
        }

        iface = _interfaces[_sectionFirstInterface + (int)localId];
        return true;
    }

    private PacketDirection DirectionOption(ReadOnlySpan<byte> options)
    {
        // Options only inform (the direction); malformed ones are ignored rather than failing the file.
        while (options.Length >= 4)
        {
            var code = U16(options);
            var size = U16(options[2..]);
            if (code == OptEndOfOpt || size > options.Length - 4)
            {
                break;
            }

            if (code == OptEpbFlags && size == 4)
            {
                return (PacketDirection)(U32(options[4..]) & 0x3) switch
                {
                    PacketDirection.Inbound => PacketDirection.Inbound,
                    PacketDirection.Outbound => PacketDirection.Outbound,
                    _ => PacketDirection.Unknown,
                };
            }

            var advance = 4 + ((size + 3) & ~3);
            options = advance >= options.Length ? [] : options[advance..];
        }

        return PacketDirection.Unknown;
    }

    /// <summary>Units since the epoch to microseconds, in 128 bits so no resolution or offset can overflow silently.</summary>
    private static long Timestamp(PcapngInterface iface, ulong units)
    {
        var micros = ((Int128)units * 1_000_000 / iface.UnitsPerSecond) + ((Int128)iface.OffsetSeconds * 1_000_000);
        return micros > long.MaxValue ? long.MaxValue : micros < long.MinValue ? long.MinValue : (long)micros;
    }

    private static bool TryResolution(byte tsresol, out ulong unitsPerSecond)
    {
        // Bit 7 clear: 10^-n seconds; set: 2^-n seconds.
        var exponent = tsresol & 0x7F;
        unitsPerSecond = 1;
        if ((tsresol & 0x80) != 0)
        {
            if (exponent > 63)
            {
                return false;
            }

            unitsPerSecond = 1UL << exponent;
            return true;
        }

        if (exponent > 19)
        {
            return false;
        }

        for (var i = 0; i < exponent; i++)
        {
            unitsPerSecond *= 10;
        }

        return true;
    }

    private static string Printable(ReadOnlySpan<byte> value)
    {
        // The name comes from the file and ends up on a terminal: no escape sequences, bounded length.
        var end = value.IndexOf((byte)0);
        var text = Encoding.UTF8.GetString(end >= 0 ? value[..end] : value);
        if (text.Length > MaxNameLength)
        {
            text = text[..MaxNameLength];
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; -1 (with Error set) when the read fails.</summary>
    private int ReadFully(Span<byte> buffer)
    {
        try
        {
            var got = _stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            _offset += got;
            return got;
        }
        catch (IOException ex)
        {
            Fail($"reading failed: {ex.Message}");
            return -1;
        }
    }

    private PcapngReadStatus Fail(string reason)
    {
        Error ??= string.Create(CultureInfo.InvariantCulture, $"pcapng block at byte {_blockOffset}: {reason}");
        return PcapngReadStatus.Error;
    }

    private uint U32(ReadOnlySpan<byte> at) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(at) : BinaryPrimitives.ReadUInt32LittleEndian(at);

    private ushort U16(ReadOnlySpan<byte> at) => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(at) : BinaryPrimitives.ReadUInt16LittleEndian(at);
}
