using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Core;

/// <summary>
/// An IPv4 or IPv6 address as one 128-bit value, the way the hot path keys tables. IPv4 is stored IPv4-mapped
/// (<c>::ffff:a.b.c.d</c>) so that one table and one prefix trie serve both families and an IPv4 flow can never
/// collide with an IPv6 one.
/// </summary>
public readonly record struct IpAddr(UInt128 Value)
{
    private static readonly UInt128 V4MappedPrefix = new(0, 0x0000_FFFF_0000_0000UL);
    private static readonly UInt128 V4Mask = new(ulong.MaxValue, 0xFFFF_FFFF_0000_0000UL);

    /// <summary>True when the value is IPv4-mapped, i.e. an IPv4 address.</summary>
    public bool IsV4 => (Value & V4Mask) == V4MappedPrefix;

    /// <summary>The IPv4 address <paramref name="v4"/> (host-order integer, first octet highest), stored IPv4-mapped.</summary>
    public static IpAddr FromV4(uint v4) => new(V4MappedPrefix | v4);

    /// <summary>Reads 4 bytes in network order.</summary>
    public static IpAddr ReadV4(ReadOnlySpan<byte> four) => FromV4(BinaryPrimitives.ReadUInt32BigEndian(four));

    /// <summary>Reads 16 bytes in network order.</summary>
    public static IpAddr ReadV6(ReadOnlySpan<byte> sixteen) => new(BinaryPrimitives.ReadUInt128BigEndian(sixteen));

    /// <summary>The IPv4 address as a host-order integer; meaningful only when <see cref="IsV4"/>.</summary>
    public uint V4 => (uint)Value;

    /// <summary>
    /// Converts from <see cref="IPAddress"/> (off the hot path: policy compile, tests). IPv4 is stored IPv4-mapped;
    /// an IPv6 address keeps its 16 bytes, so an IPv4-mapped IPv6 address compares equal to the IPv4 one.
    /// </summary>
    public static IpAddr FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> b = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(b, out _);
            return ReadV4(b);
        }

        address.TryWriteBytes(b, out _);
        return ReadV6(b);
    }

    /// <summary>Converts back: an IPv4-mapped value becomes a 4-byte IPv4 address, anything else a 16-byte IPv6 one.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        if (IsV4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, V4);
            return new IPAddress(b[..4]);
        }

        BinaryPrimitives.WriteUInt128BigEndian(b, Value);
        return new IPAddress(b);
    }

    /// <summary>The usual text form (<c>192.0.2.10</c>, <c>2001:db8::1</c>); allocates, so only for logs and display.</summary>
    public override string ToString() => ToIPAddress().ToString();
}
