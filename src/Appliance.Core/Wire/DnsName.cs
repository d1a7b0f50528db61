using System.Runtime.CompilerServices;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of a domain name inside a DNS message (RFC 1035 3.1, 4.1.4): a sequence of labels, possibly ending in a
/// compression pointer into an earlier part of the same message. Created only by <see cref="TryRead"/>, which walks
/// the whole name once with every bound checked; after that no member can fail or throw.
/// </summary>
/// <remarks>
/// <para>Loops: a pointer must point strictly before the start of the stretch of labels being read (the name's own
/// start, then each pointer's target). Each jump therefore moves to a strictly lower offset, so a walk ends after at
/// most <c>message.Length</c> jumps; loops (a pointer to itself, two pointers to each other) and forward pointers are
/// refused. Compressors only ever point back to a name written earlier, so no real message is refused.</para>
/// <para>Names are compared ASCII case-insensitively (RFC 4343) and without allocation, through the flat lower-case
/// dotted form <see cref="TryCopyLowercase"/> writes into a caller's (stack) buffer.</para>
/// </remarks>
public readonly ref struct DnsName
{
    /// <summary>Longest name on the wire, length octets and the root label included (RFC 1035 2.3.4).</summary>
    public const int MaxWireLength = 255;

    /// <summary>Longest label (RFC 1035 2.3.4).</summary>
    public const int MaxLabelLength = 63;

    /// <summary>Longest dotted text form (253 characters) rounded up: a buffer this long holds any name.</summary>
    public const int MaxTextLength = 256;

    private readonly ReadOnlySpan<byte> _message;
    private readonly int _offset;

    private DnsName(ReadOnlySpan<byte> message, int offset, int wireLength, int labelCount)
    {
        _message = message;
        _offset = offset;
        WireLength = wireLength;
        LabelCount = labelCount;
    }

    /// <summary>Expanded length on the wire: every label with its length octet, plus the root's zero octet.</summary>
    public int WireLength { get; }

    /// <summary>Labels before the root (0 for the root name itself).</summary>
    public int LabelCount { get; }

    /// <summary>
    /// Reads the name that starts at <paramref name="offset"/> of <paramref name="message"/>. On success
    /// <paramref name="end"/> is the offset just after the name as written in place (after its first pointer, or
    /// after the root octet). Failures: <see cref="Reason.DnsTruncatedName"/>, <see cref="Reason.DnsBadLabel"/>,
    /// <see cref="Reason.DnsNameTooLong"/>, <see cref="Reason.DnsPointerPastEnd"/>, <see cref="Reason.DnsPointerLoop"/>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, int offset, out DnsName name, out int end, out Reason error)
    {
        name = default;
        end = 0;
        if ((uint)offset >= (uint)message.Length)
        {
            error = Reason.DnsTruncatedName;
            return false;
        }

        var position = offset;
        var floor = offset; // every pointer must land strictly below this
        var wire = 1;       // the root octet
        var labels = 0;
        var inPlaceEnd = -1;
        while (true)
        {
            if (position >= message.Length)
            {
                error = Reason.DnsTruncatedName;
                return false;
            }

            int length = message[position];
            if (length == 0)
            {
                if (inPlaceEnd < 0)
                {
                    inPlaceEnd = position + 1;
                }

                break;
            }

            switch (length & 0xC0)
            {
                case 0xC0:
                    if (position + 1 >= message.Length)
                    {
                        error = Reason.DnsTruncatedName;
                        return false;
                    }

                    var target = ((length & 0x3F) << 8) | message[position + 1];
                    if (inPlaceEnd < 0)
                    {
                        inPlaceEnd = position + 2;
                    }

                    if (target >= message.Length)
                    {
                        error = Reason.DnsPointerPastEnd;
                        return false;
                    }

                    if (target >= floor)
                    {
                        error = Reason.DnsPointerLoop;
                        return false;
                    }

                    floor = target;
                    position = target;
                    continue;
                case 0x00:
                    wire += length + 1;
                    if (wire > MaxWireLength)
                    {
                        error = Reason.DnsNameTooLong;
                        return false;
                    }

                    if (position + 1 + length > message.Length)
                    {
                        error = Reason.DnsTruncatedName;
                        return false;
                    }

                    labels++;
                    position += 1 + length;
                    continue;
                default:
                    // 0x40 (extended label types, RFC 6891 deprecated) and 0x80 (reserved).
                    error = Reason.DnsBadLabel;
                    return false;
            }
        }

        name = new DnsName(message, offset, wire, labels);
        end = inPlaceEnd;
        error = 0;
        return true;
    }

    /// <summary>
    /// Writes the name in lower case, labels joined by dots, without a trailing dot (the root is empty) into
    /// <paramref name="destination"/> (at least <see cref="MaxTextLength"/> bytes holds any name). False, with nothing
    /// promised about <paramref name="destination"/>, when a label holds a byte outside printable ASCII or a dot:
    /// such a name has no unambiguous text form, so it can match no rule and is never learned or shown.
    /// </summary>
    public bool TryCopyLowercase(Span<byte> destination, out int written)
    {
        written = 0;
        var position = _offset;
        var w = 0;

        // TryRead proved every step below in bounds and the walk finite.
        while (true)
        {
            int length = _message[position];
            if (length == 0)
            {
                written = w;
                return true;
            }

            if ((length & 0xC0) == 0xC0)
            {
                position = ((length & 0x3F) << 8) | _message[position + 1];
                continue;
            }

            if (w != 0)
            {
                if (w >= destination.Length)
                {
                    return false;
                }

                destination[w++] = (byte)'.';
            }

            if (w + length > destination.Length)
            {
                return false;
            }

            var label = _message.Slice(position + 1, length);
            for (var i = 0; i < label.Length; i++)
            {
                var b = label[i];
                if (b is <= 0x20 or >= 0x7F or (byte)'.')
                {
                    return false;
                }

                destination[w++] = ToLower(b);
            }

            position += 1 + length;
        }
    }

    /// <summary>
    /// Writes the name's labels as they would be written without compression: each label's length octet and bytes,
    /// ending in the root's zero octet; at most <see cref="MaxWireLength"/> bytes (<see cref="WireLength"/>). Unlike
    /// the text form this never fails: labels holding dots or any byte are kept as they are.
    /// </summary>
    /// <returns>The bytes written; 0 when <paramref name="destination"/> is shorter than <see cref="WireLength"/>.</returns>
    public int CopyWire(Span<byte> destination)
    {
        if (destination.Length < WireLength)
        {
            return 0;
        }

        var position = _offset;
        var w = 0;

        // TryRead proved every step below in bounds, the walk finite and the total at most WireLength.
        while (true)
        {
            int length = _message[position];
            if ((length & 0xC0) == 0xC0)
            {
                position = ((length & 0x3F) << 8) | _message[position + 1];
                continue;
            }

            _message.Slice(position, 1 + length).CopyTo(destination[w..]);
            w += 1 + length;
            if (length == 0)
            {
                return w;
            }

            position += 1 + length;
        }
    }

    /// <summary>True when both names have the same labels, ASCII case ignored. Allocation-free.</summary>
    public bool EqualsIgnoreCase(DnsName other)
    {
        if (other.WireLength != WireLength || other.LabelCount != LabelCount)
        {
            return false;
        }

        var a = _offset;
        var b = other._offset;
        while (true)
        {
            a = SkipPointers(_message, a);
            b = SkipPointers(other._message, b);
            int la = _message[a];
            int lb = other._message[b];
            if (la != lb)
            {
                return false;
            }

            if (la == 0)
            {
                return true;
            }

            for (var i = 1; i <= la; i++)
            {
                if (ToLower(_message[a + i]) != ToLower(other._message[b + i]))
                {
                    return false;
                }
            }

            a += la + 1;
            b += lb + 1;
        }
    }

    /// <summary>
    /// True when this name equals the dotted ASCII <paramref name="text"/> (no trailing dot; empty for the root),
    /// ASCII case ignored. Allocation-free.
    /// </summary>
    public bool EqualsIgnoreCase(ReadOnlySpan<byte> text)
    {
        Span<byte> flat = stackalloc byte[MaxTextLength];
        return TryCopyLowercase(flat, out var n) && AsciiEqualsIgnoreCase(flat[..n], text);
    }

    /// <summary>ASCII case-insensitive equality of two byte strings.</summary>
    public static bool AsciiEqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (ToLower(a[i]) != ToLower(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte ToLower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipPointers(ReadOnlySpan<byte> message, int position)
    {
        while ((message[position] & 0xC0) == 0xC0)
        {
            position = ((message[position] & 0x3F) << 8) | message[position + 1];
        }

        return position;
    }
}
