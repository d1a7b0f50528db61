using System.Buffers.Binary;
using System.Globalization;

namespace Appliance.Core;

/// <summary>A 48-bit Ethernet address held in the low bits of a <see cref="ulong"/> (network byte order, first octet highest).</summary>
public readonly record struct MacAddress(ulong Value)
{
    /// <summary>ff:ff:ff:ff:ff:ff, the Ethernet broadcast address (ARP requests, DHCP discovery).</summary>
    public static MacAddress Broadcast => new(0xFFFF_FFFF_FFFFUL);

    /// <summary>Reads six bytes in wire order. The caller guarantees the length.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> six)
        => new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(six) << 32) | BinaryPrimitives.ReadUInt32BigEndian(six[2..]));

    /// <summary>Group bit: multicast or broadcast.</summary>
    public bool IsMulticast => (Value & 0x0100_0000_0000UL) != 0;

    /// <summary>True for ff:ff:ff:ff:ff:ff only (other group addresses are multicast).</summary>
    public bool IsBroadcast => Value == 0xFFFF_FFFF_FFFFUL;

    /// <summary>Writes the six bytes in wire order. The caller guarantees the length.</summary>
    public void WriteTo(Span<byte> six)
    {
        BinaryPrimitives.WriteUInt16BigEndian(six, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(six[2..], (uint)Value);
    }

    /// <summary>Parses <c>aa:bb:cc:dd:ee:ff</c> or <c>aa-bb-cc-dd-ee-ff</c> (case-insensitive).</summary>
    public static bool TryParse(string? text, out MacAddress mac)
    {
        mac = default;
        if (text is null || text.Length != 17)
        {
            return false;
        }

        ulong v = 0;
        for (var i = 0; i < 6; i++)
        {
            if (i > 0 && text[(i * 3) - 1] != ':' && text[(i * 3) - 1] != '-')
            {
                return false;
            }

            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                return false;
            }

            v = (v << 8) | b;
        }

        mac = new MacAddress(v);
        return true;
    }

    /// <summary>Lower-case colon form, <c>02:00:00:00:01:08</c>, as logs, syslog and the API print it.</summary>
    public override string ToString()
    {
        Span<byte> b = stackalloc byte[6];
        WriteTo(b);
        return string.Create(CultureInfo.InvariantCulture, $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}");
    }
}
