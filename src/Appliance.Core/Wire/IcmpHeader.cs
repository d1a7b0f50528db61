using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of an ICMP (RFC 792) or ICMPv6 (RFC 4443) message: both start with type, code, checksum and four
/// type-specific bytes. For errors the body is the quoted packet.
/// </summary>
public readonly ref struct IcmpHeader
{
    /// <summary>Type, code, checksum, rest of header.</summary>
    public const int Length = 8;

    private const int TypeOffset = 0;
    private const int CodeOffset = 1;
    private const int ChecksumOffset = 2;
    private const int RestOffset = 4;
    private const int EchoIdOffset = 4;
    private const int EchoSequenceOffset = 6;

    private readonly ReadOnlySpan<byte> _message;

    private IcmpHeader(ReadOnlySpan<byte> message) => _message = message;

    /// <summary>Wraps an ICMP/ICMPv6 message; <see cref="Reason.TruncatedIcmp"/> or <see cref="Reason.TruncatedIcmpv6"/> below 8 bytes.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> message, bool v6, out IcmpHeader header, out Reason error)
    {
        if (message.Length < Length)
        {
            header = default;
            error = v6 ? Reason.TruncatedIcmpv6 : Reason.TruncatedIcmp;
            return false;
        }

        header = new IcmpHeader(message);
        error = 0;
        return true;
    }

    /// <summary>Type.</summary>
    public byte Type => _message[TypeOffset];

    /// <summary>Code.</summary>
    public byte Code => _message[CodeOffset];

    /// <summary>Checksum as sent.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_message[ChecksumOffset..]);

    /// <summary>The four type-specific bytes (echo id/sequence, MTU, pointer...).</summary>
    public uint Rest => BinaryPrimitives.ReadUInt32BigEndian(_message[RestOffset..]);

    /// <summary>Echo identifier (meaningful for echo request/reply).</summary>
    public ushort EchoId => BinaryPrimitives.ReadUInt16BigEndian(_message[EchoIdOffset..]);

    /// <summary>Echo sequence number (meaningful for echo request/reply).</summary>
    public ushort EchoSequence => BinaryPrimitives.ReadUInt16BigEndian(_message[EchoSequenceOffset..]);

    /// <summary>Everything after the 8-byte header: echo data, or the quoted packet of an error.</summary>
    public ReadOnlySpan<byte> Body => _message[Length..];

    /// <summary>
    /// ICMPv4 errors that quote the offending packet: destination unreachable (3), source quench (4), redirect (5),
    /// time exceeded (11), parameter problem (12).
    /// </summary>
    public static bool IsErrorV4(byte type) => type is 3 or 4 or 5 or 11 or 12;

    /// <summary>ICMPv4 echo reply (0) or request (8).</summary>
    public static bool IsEchoV4(byte type) => type is 0 or 8;

    /// <summary>ICMPv6 errors (types below 128): destination unreachable, packet too big, time exceeded, parameter problem.</summary>
    public static bool IsErrorV6(byte type) => type is >= 1 and <= 4;

    /// <summary>ICMPv6 echo request (128) or reply (129).</summary>
    public static bool IsEchoV6(byte type) => type is 128 or 129;
}
