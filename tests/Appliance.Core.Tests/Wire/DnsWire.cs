using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Appliance.Core.Tests.Wire;

/// <summary>Builds DNS messages byte by byte for the parser's tables (no compression unless written by hand).</summary>
internal sealed class DnsWire
{
    private readonly List<byte> _bytes = [];

    public static DnsWire Header(ushort id, ushort flags, ushort qd, ushort an, ushort ns = 0, ushort ar = 0)
    {
        var w = new DnsWire();
        w.U16(id).U16(flags).U16(qd).U16(an).U16(ns).U16(ar);
        return w;
    }

    /// <summary>A standard response header (QR, RD, RA) with one question.</summary>
    public static DnsWire Response(ushort id, ushort an, ushort ns = 0, ushort ar = 0) => Header(id, 0x8180, 1, an, ns, ar);

    public int Length => _bytes.Count;

    public DnsWire Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public DnsWire U16(int v) => Raw((byte)(v >> 8), (byte)v);

    public DnsWire U32(uint v) => Raw((byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v);

    /// <summary>An uncompressed name in labels, ending in the root octet.</summary>
    public DnsWire Name(string dotted)
    {
        if (dotted.Length > 0)
        {
            foreach (var label in dotted.Split('.'))
            {
                _bytes.Add((byte)label.Length);
                _bytes.AddRange(Encoding.ASCII.GetBytes(label));
            }
        }

        _bytes.Add(0);
        return this;
    }

    public DnsWire Pointer(int offset) => Raw((byte)(0xC0 | (offset >> 8)), (byte)offset);

    public DnsWire Question(string name, ushort type = 1) => Name(name).U16(type).U16(1);

    /// <summary>Record header after a name already written: type, class IN, TTL, RDLENGTH.</summary>
    public DnsWire RecordHead(ushort type, uint ttl, int dataLength) => U16(type).U16(1).U32(ttl).U16(dataLength);

    public DnsWire A(string name, string address, uint ttl = 60) => Name(name).RecordHead(1, ttl, 4).Raw(IPAddress.Parse(address).GetAddressBytes());

    public DnsWire Aaaa(string name, string address, uint ttl = 60) => Name(name).RecordHead(28, ttl, 16).Raw(IPAddress.Parse(address).GetAddressBytes());

    public DnsWire Cname(string name, string target, uint ttl = 60)
    {
        Name(name);
        var data = new DnsWire().Name(target).ToArray();
        return RecordHead(5, ttl, data.Length).Raw(data);
    }

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Sets a 16-bit field in place (e.g. a count that lies).</summary>
    public static byte[] With16(byte[] message, int offset, ushort value)
    {
        var copy = (byte[])message.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(offset), value);
        return copy;
    }
}
