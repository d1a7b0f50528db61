using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>DNS resource record types the engine reads (RFC 1035 3.2.2, RFC 3596).</summary>
public static class DnsTypes
{
    /// <summary>IPv4 address.</summary>
    public const ushort A = 1;

    /// <summary>NULL record (RFC 1035 3.3.10): arbitrary bytes, a tunnel's favourite.</summary>
    public const ushort Null = 10;

    /// <summary>Canonical name (alias).</summary>
    public const ushort Cname = 5;

    /// <summary>Text strings, a tunnel's other favourite.</summary>
    public const ushort Txt = 16;

    /// <summary>IPv6 address.</summary>
    public const ushort Aaaa = 28;

    /// <summary>The Internet class.</summary>
    public const ushort ClassIn = 1;
}

/// <summary>Which section of a message a record came from.</summary>
public enum DnsSection : byte
{
    /// <summary>Answer section.</summary>
    Answer = 1,

    /// <summary>Authority section.</summary>
    Authority = 2,

    /// <summary>Additional section.</summary>
    Additional = 3,
}

/// <summary>
/// A view of a DNS message (RFC 1035 4.1) over a UDP payload or one length-prefixed TCP message. <see cref="TryCreate"/>
/// checks the header; <see cref="TryValidate"/> walks every question and record once (names, pointers, lengths,
/// counts) so that a message that passes it can be read with <see cref="TryReadQuestion"/> and
/// <see cref="Records"/> without any failure. Nothing allocates.
/// </summary>
public readonly ref struct DnsMessage
{
    /// <summary>ID, flags and the four section counts.</summary>
    public const int HeaderLength = 12;

    /// <summary>Type and class after a question's name.</summary>
    public const int QuestionFixedLength = 4;

    /// <summary>Type, class, TTL and data length after a record's name.</summary>
    public const int RecordFixedLength = 10;

    private const int IdOffset = 0;
    private const int FlagsOffset = 2;
    private const int QuestionCountOffset = 4;
    private const int AnswerCountOffset = 6;
    private const int AuthorityCountOffset = 8;
    private const int AdditionalCountOffset = 10;

    private readonly ReadOnlySpan<byte> _message;

    private DnsMessage(ReadOnlySpan<byte> message) => _message = message;

    /// <summary>Wraps a message; <see cref="Reason.DnsTruncatedHeader"/> when it is shorter than the header.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> message, out DnsMessage dns, out Reason error)
    {
        if (message.Length < HeaderLength)
        {
            dns = default;
            error = Reason.DnsTruncatedHeader;
            return false;
        }

        dns = new DnsMessage(message);
        error = 0;
        return true;
    }

    /// <summary>DNS over TCP (RFC 1035 4.2.2, RFC 7766): every message is preceded by its two-byte length.</summary>
    public const int TcpLengthPrefix = 2;

    /// <summary>
    /// The message in a TCP segment's payload when the segment carries exactly one whole length-prefixed message.
    /// A segment with part of a message, or more than one, yields false: the engine does not reassemble streams,
    /// so such answers are forwarded but teach nothing (resolvers write one short answer per segment in practice).
    /// </summary>
    public static bool TryUnframeTcp(ReadOnlySpan<byte> segmentPayload, out ReadOnlySpan<byte> message)
    {
        if (segmentPayload.Length > TcpLengthPrefix
            && BinaryPrimitives.ReadUInt16BigEndian(segmentPayload) == segmentPayload.Length - TcpLengthPrefix)
        {
            message = segmentPayload[TcpLengthPrefix..];
            return true;
        }

        message = default;
        return false;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _message;

    /// <summary>Transaction id.</summary>
    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(_message[IdOffset..]);

    /// <summary>The flags word as sent.</summary>
    public ushort Flags => BinaryPrimitives.ReadUInt16BigEndian(_message[FlagsOffset..]);

    /// <summary>QR: a response, not a query.</summary>
    public bool IsResponse => (_message[FlagsOffset] & 0x80) != 0;

    /// <summary>OPCODE (0 standard query).</summary>
    public int Opcode => (_message[FlagsOffset] >> 3) & 0x0F;

    /// <summary>TC: the answer was cut to fit (the client retries over TCP).</summary>
    public bool IsTruncated => (_message[FlagsOffset] & 0x02) != 0;

    /// <summary>RCODE (0 no error, 3 name error).</summary>
    public int ResponseCode => _message[FlagsOffset + 1] & 0x0F;

    /// <summary>QDCOUNT.</summary>
    public ushort QuestionCount => BinaryPrimitives.ReadUInt16BigEndian(_message[QuestionCountOffset..]);

    /// <summary>ANCOUNT.</summary>
    public ushort AnswerCount => BinaryPrimitives.ReadUInt16BigEndian(_message[AnswerCountOffset..]);

    /// <summary>NSCOUNT.</summary>
    public ushort AuthorityCount => BinaryPrimitives.ReadUInt16BigEndian(_message[AuthorityCountOffset..]);

    /// <summary>ARCOUNT.</summary>
    public ushort AdditionalCount => BinaryPrimitives.ReadUInt16BigEndian(_message[AdditionalCountOffset..]);

    /// <summary>
    /// Walks every question and record: each name must read (<see cref="DnsName.TryRead"/>), each fixed part and
    /// record data must lie inside the message (<see cref="Reason.DnsTruncatedRecord"/> when a count promises more than
    /// is there), A/AAAA data must be 4/16 bytes and CNAME data exactly one name (<see cref="Reason.DnsBadRecordData"/>).
    /// Bytes after the last record are ignored. The walk is bounded by the message length: every step consumes bytes.
    /// </summary>
    public bool TryValidate(out Reason error)
    {
        var offset = HeaderLength;
        for (int i = 0, n = QuestionCount; i < n; i++)
        {
            if (!TryReadQuestionAt(offset, out var q, out error))
            {
                return false;
            }

            offset = q.End;
        }

        var records = RecordsFrom(offset);
        while (records.TryNext(out _, out error))
        {
        }

        return error == 0;
    }

    /// <summary>The first question. False with <see cref="Reason.DnsTruncatedRecord"/> when QDCOUNT is 0.</summary>
    public bool TryReadQuestion(out DnsQuestion question, out Reason error)
    {
        if (QuestionCount == 0)
        {
            question = default;
            error = Reason.DnsTruncatedRecord;
            return false;
        }

        return TryReadQuestionAt(HeaderLength, out question, out error);
    }

    /// <summary>
    /// A reader over the answer, authority and additional records, after all questions. Call only after
    /// <see cref="TryValidate"/> succeeded, or check every <see cref="DnsRecordReader.TryNext"/>'s error.
    /// </summary>
    public DnsRecordReader Records()
    {
        var offset = HeaderLength;
        for (int i = 0, n = QuestionCount; i < n; i++)
        {
            if (!TryReadQuestionAt(offset, out var q, out _))
            {
                // The reader reports the failure from where the questions stopped being readable.
                return new DnsRecordReader(_message, _message.Length + 1, 1, 0, 0);
            }

            offset = q.End;
        }

        return RecordsFrom(offset);
    }

    private DnsRecordReader RecordsFrom(int offset) => new(_message, offset, AnswerCount, AuthorityCount, AdditionalCount);

    private bool TryReadQuestionAt(int offset, out DnsQuestion question, out Reason error)
    {
        question = default;
        if (!DnsName.TryRead(_message, offset, out var name, out var end, out error))
        {
            return false;
        }

        if (end + QuestionFixedLength > _message.Length)
        {
            error = Reason.DnsTruncatedRecord;
            return false;
        }

        question = new DnsQuestion(
            name,
            BinaryPrimitives.ReadUInt16BigEndian(_message[end..]),
            BinaryPrimitives.ReadUInt16BigEndian(_message[(end + 2)..]),
            end + QuestionFixedLength);
        return true;
    }
}

/// <summary>One question: name, type, class, and the offset after it.</summary>
public readonly ref struct DnsQuestion
{
    internal DnsQuestion(DnsName name, ushort type, ushort @class, int end)
    {
        Name = name;
        Type = type;
        Class = @class;
        End = end;
    }

    /// <summary>QNAME.</summary>
    public DnsName Name { get; }

    /// <summary>QTYPE.</summary>
    public ushort Type { get; }

    /// <summary>QCLASS.</summary>
    public ushort Class { get; }

    /// <summary>Offset just after the question.</summary>
    public int End { get; }
}

/// <summary>One resource record, checked by <see cref="DnsRecordReader.TryNext"/>.</summary>
public readonly ref struct DnsRecord
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly int _dataOffset;

    internal DnsRecord(ReadOnlySpan<byte> message, DnsSection section, DnsName name, ushort type, ushort @class, uint ttl, int dataOffset, int dataLength)
    {
        _message = message;
        Section = section;
        Name = name;
        Type = type;
        Class = @class;
        Ttl = ttl;
        _dataOffset = dataOffset;
        DataLength = dataLength;
    }

    /// <summary>The section it was read from.</summary>
    public DnsSection Section { get; }

    /// <summary>The owner name.</summary>
    public DnsName Name { get; }

    /// <summary>TYPE.</summary>
    public ushort Type { get; }

    /// <summary>CLASS.</summary>
    public ushort Class { get; }

    /// <summary>TTL in seconds; a value with the top bit set reads as 0 (RFC 2181 8).</summary>
    public uint Ttl { get; }

    /// <summary>RDLENGTH.</summary>
    public int DataLength { get; }

    /// <summary>RDATA.</summary>
    public ReadOnlySpan<byte> Data => _message.Slice(_dataOffset, DataLength);

    /// <summary>The address of an IN A or AAAA record.</summary>
    public bool TryGetAddress(out IpAddr address)
    {
        if (Class == DnsTypes.ClassIn && Type == DnsTypes.A && DataLength == 4)
        {
            address = IpAddr.ReadV4(Data);
            return true;
        }

        if (Class == DnsTypes.ClassIn && Type == DnsTypes.Aaaa && DataLength == 16)
        {
            address = IpAddr.ReadV6(Data);
            return true;
        }

        address = default;
        return false;
    }

    /// <summary>The target of a CNAME record (already checked by the reader).</summary>
    public bool TryGetCanonicalName(out DnsName target)
    {
        if (Type == DnsTypes.Cname && DnsName.TryRead(_message, _dataOffset, out target, out _, out _))
        {
            return true;
        }

        target = default;
        return false;
    }
}

/// <summary>Reads the records after the questions, one at a time, every bound checked.</summary>
public ref struct DnsRecordReader
{
    private readonly ReadOnlySpan<byte> _message;
    private int _offset;
    private int _answers;
    private int _authority;
    private int _additional;

    internal DnsRecordReader(ReadOnlySpan<byte> message, int offset, int answers, int authority, int additional)
    {
        _message = message;
        _offset = offset;
        _answers = answers;
        _authority = authority;
        _additional = additional;
    }

    /// <summary>
    /// The next record. False with <paramref name="error"/> 0 after the last one the counts promise; false with a
    /// reason when the record is malformed or missing (the reader then stays failed).
    /// </summary>
    public bool TryNext(out DnsRecord record, out Reason error)
    {
        record = default;
        DnsSection section;
        if (_answers > 0)
        {
            _answers--;
            section = DnsSection.Answer;
        }
        else if (_authority > 0)
        {
            _authority--;
            section = DnsSection.Authority;
        }
        else if (_additional > 0)
        {
            _additional--;
            section = DnsSection.Additional;
        }
        else
        {
            error = 0;
            return false;
        }

        if (_offset >= _message.Length)
        {
            return Fail(Reason.DnsTruncatedRecord, out error);
        }

        if (!DnsName.TryRead(_message, _offset, out var name, out var end, out error))
        {
            return Fail(error, out error);
        }

        if (end + DnsMessage.RecordFixedLength > _message.Length)
        {
            return Fail(Reason.DnsTruncatedRecord, out error);
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(_message[end..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(_message[(end + 2)..]);
        var ttl = BinaryPrimitives.ReadUInt32BigEndian(_message[(end + 4)..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(_message[(end + 8)..]);
        var data = end + DnsMessage.RecordFixedLength;
        if (data + length > _message.Length)
        {
            return Fail(Reason.DnsTruncatedRecord, out error);
        }

        if (@class == DnsTypes.ClassIn && !DataFits(type, data, length))
        {
            return Fail(Reason.DnsBadRecordData, out error);
        }

        record = new DnsRecord(_message, section, name, type, @class, ttl > int.MaxValue ? 0 : ttl, data, length);
        _offset = data + length;
        error = 0;
        return true;
    }

    private readonly bool DataFits(ushort type, int data, int length) => type switch
    {
        DnsTypes.A => length == 4,
        DnsTypes.Aaaa => length == 16,

        // The target may be compressed, but what is written in place must fill the data exactly.
        DnsTypes.Cname => DnsName.TryRead(_message[..(data + length)], data, out _, out var end, out _) && end == data + length,
        _ => true,
    };

    private bool Fail(Reason reason, out Reason error)
    {
        _answers = _authority = _additional = 0;
        error = reason;
        return false;
    }
}
