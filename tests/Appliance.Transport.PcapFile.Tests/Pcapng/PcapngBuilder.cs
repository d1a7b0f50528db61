using System.Buffers.Binary;
using System.Text;

namespace Appliance.Transport.PcapFile.Tests.Pcapng;

/// <summary>Writes pcapng bytes block by block, in either byte order, for tests (including blocks that lie).</summary>
internal sealed class PcapngBuilder
{
    private readonly MemoryStream _bytes = new();
    private bool _bigEndian;

    public PcapngBuilder Section(bool bigEndian = false, ushort major = 1)
    {
        _bigEndian = bigEndian;
        var body = new byte[16];
        U32(body, 0, 0x1A2B3C4D);
        U16(body, 4, major);
        U16(body, 6, 0);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(8), -1);
        return Block(0x0A0D0D0A, body);
    }

    public PcapngBuilder Interface(ushort linkType = 1, uint snapLength = 262_144, string? name = null, byte? tsresol = null, long? tsoffset = null)
    {
        var body = new List<byte>();
        var head = new byte[8];
        U16(head, 0, linkType);
        U32(head, 4, snapLength);
        body.AddRange(head);
        if (name is not null)
        {
            body.AddRange(Option(2, Encoding.UTF8.GetBytes(name)));
        }

        if (tsresol is { } r)
        {
            body.AddRange(Option(9, [r]));
        }

        if (tsoffset is { } o)
        {
            var v = new byte[8];
            if (_bigEndian)
            {
                BinaryPrimitives.WriteInt64BigEndian(v, o);
            }
            else
            {
                BinaryPrimitives.WriteInt64LittleEndian(v, o);
            }

            body.AddRange(Option(14, v));
        }

        if (name is not null || tsresol is not null || tsoffset is not null)
        {
            body.AddRange(new byte[4]);
        }

        return Block(1, [.. body]);
    }

    public PcapngBuilder Packet(uint interfaceId, ulong timestamp, byte[] data, uint? original = null, uint? flags = null)
    {
        var padded = (data.Length + 3) & ~3;
        var body = new List<byte>();
        var head = new byte[20];
        U32(head, 0, interfaceId);
        U32(head, 4, (uint)(timestamp >> 32));
        U32(head, 8, (uint)timestamp);
        U32(head, 12, (uint)data.Length);
        U32(head, 16, original ?? (uint)data.Length);
        body.AddRange(head);
        body.AddRange(data);
        body.AddRange(new byte[padded - data.Length]);
        if (flags is { } f)
        {
            var v = new byte[4];
            U32(v, 0, f);
            body.AddRange(Option(2, v));
            body.AddRange(new byte[4]);
        }

        return Block(6, [.. body]);
    }

    public PcapngBuilder SimplePacket(byte[] data)
    {
        var body = new byte[4 + ((data.Length + 3) & ~3)];
        U32(body, 0, (uint)data.Length);
        data.CopyTo(body, 4);
        return Block(3, body);
    }

    public PcapngBuilder Block(uint type, byte[] body, uint? length = null, uint? trailer = null)
    {
        var total = (uint)(12 + body.Length);
        var head = new byte[8];
        if (type == 0x0A0D0D0A)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(head, type);
        }
        else
        {
            U32(head, 0, type);
        }

        U32(head, 4, length ?? total);
        _bytes.Write(head);
        _bytes.Write(body);
        var tail = new byte[4];
        U32(tail, 0, trailer ?? length ?? total);
        _bytes.Write(tail);
        return this;
    }

    public PcapngBuilder Raw(params byte[] bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();

    private byte[] Option(ushort code, byte[] value)
    {
        var o = new byte[4 + ((value.Length + 3) & ~3)];
        U16(o, 0, code);
        U16(o, 2, (ushort)value.Length);
        value.CopyTo(o, 4);
        return o;
    }

    private void U32(byte[] b, int at, uint v)
    {
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
        }
    }

    private void U16(byte[] b, int at, ushort v)
    {
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at), v);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), v);
        }
    }
}
