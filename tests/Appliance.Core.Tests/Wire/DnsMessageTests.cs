using System.Text;
using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// The DNS parser on raw messages: every malformation the engine must survive, each with the reason it is refused,
/// and well-formed answers read field by field.
/// </summary>
public class DnsMessageTests
{
    private static string Label(int length) => new('a', length);

    /// <summary>(case, message, the reason TryCreate or TryValidate refuses it with).</summary>
    public static TheoryData<string, byte[], Reason> MalformedCases()
    {
        var d = new TheoryData<string, byte[], Reason>();

        d.Add("empty", [], Reason.DnsTruncatedHeader);
        d.Add("11 bytes: one short of the header", new byte[11], Reason.DnsTruncatedHeader);

        // Names in the question (offset 12).
        d.Add("label runs past the end", DnsWire.Response(1, 0).Raw(3, (byte)'a', (byte)'b').ToArray(), Reason.DnsTruncatedName);
        d.Add("no root octet", DnsWire.Response(1, 0).Raw(1, (byte)'a').ToArray(), Reason.DnsTruncatedName);
        d.Add("QDCOUNT 1, no question bytes", DnsWire.Response(1, 0).ToArray(), Reason.DnsTruncatedName);
        d.Add("label length 64 (0x40: extended label type)", DnsWire.Response(1, 0).Raw(64).Raw(Encoding.ASCII.GetBytes(Label(64))).Raw(0).U16(1).U16(1).ToArray(), Reason.DnsBadLabel);
        d.Add("label type 0x80 (reserved)", DnsWire.Response(1, 0).Raw(0x81, (byte)'a', 0).U16(1).U16(1).ToArray(), Reason.DnsBadLabel);
        d.Add("name of 256 bytes (four 63-byte labels)", DnsWire.Response(1, 0).Name($"{Label(63)}.{Label(63)}.{Label(63)}.{Label(63)}").U16(1).U16(1).ToArray(), Reason.DnsNameTooLong);
        d.Add("pointer to itself", DnsWire.Response(1, 0).Pointer(12).U16(1).U16(1).ToArray(), Reason.DnsPointerLoop);
        d.Add("label then pointer back to the name's own start", DnsWire.Response(1, 0).Raw(1, (byte)'x').Pointer(12).U16(1).U16(1).ToArray(), Reason.DnsPointerLoop);
        d.Add("forward pointer", DnsWire.Response(1, 0).Pointer(18).U16(1).U16(1).Name("a").ToArray(), Reason.DnsPointerLoop);
        d.Add("pointer past the end", DnsWire.Response(1, 0).Pointer(0x3FFF).U16(1).U16(1).ToArray(), Reason.DnsPointerPastEnd);
        d.Add("pointer cut in half at the end", DnsWire.Response(1, 0).Raw(0xC0).ToArray(), Reason.DnsTruncatedName);

        // A record name pointing at a pointer that points back at the record: a two-step loop.
        var loop = DnsWire.Response(1, 1).Question("a.example");
        var at = loop.Length;
        loop.Pointer(at + 12).RecordHead(1, 60, 4).Raw(192, 0, 2, 1).Pointer(at);
        d.Add("two pointers pointing at each other", loop.ToArray(), Reason.DnsPointerLoop);

        // A question whose only label holds the bytes C0 0D (a valid, odd name), then an answer whose name points into
        // that label (offset 13): the bytes there read as a pointer to 13 itself.
        d.Add("pointer into a label that reads as a pointer to itself", DnsWire.Response(1, 1).Raw(2, 0xC0, 0x0D, 0).U16(1).U16(1).Pointer(13).RecordHead(1, 60, 4).Raw(192, 0, 2, 1).ToArray(), Reason.DnsPointerLoop);

        // Counts that lie, records cut short.
        d.Add("question without type and class", DnsWire.Response(1, 0).Name("a.example").U16(1).ToArray(), Reason.DnsTruncatedRecord);
        d.Add("ANCOUNT 2, one answer", DnsWire.Response(1, 2).Question("a.example").A("a.example", "192.0.2.1").ToArray(), Reason.DnsTruncatedRecord);
        d.Add("ANCOUNT 65535", DnsWire.Response(1, 65535).Question("a.example").A("a.example", "192.0.2.1").ToArray(), Reason.DnsTruncatedRecord);
        d.Add("ARCOUNT 1, nothing after the answer", DnsWire.Response(1, 1, ar: 1).Question("a.example").A("a.example", "192.0.2.1").ToArray(), Reason.DnsTruncatedRecord);
        d.Add("QDCOUNT 3, one question", DnsWire.Header(1, 0x8180, 3, 0).Question("a.example").ToArray(), Reason.DnsTruncatedName);
        d.Add("record fixed part cut", DnsWire.Response(1, 1).Question("a.example").Name("a.example").U16(1).U16(1).ToArray(), Reason.DnsTruncatedRecord);
        d.Add("RDLENGTH past the end", DnsWire.Response(1, 1).Question("a.example").Name("a.example").RecordHead(1, 60, 40).Raw(192, 0, 2, 1).ToArray(), Reason.DnsTruncatedRecord);
        d.Add("A with 5 bytes", DnsWire.Response(1, 1).Question("a.example").Name("a.example").RecordHead(1, 60, 5).Raw(192, 0, 2, 1, 9).ToArray(), Reason.DnsBadRecordData);
        d.Add("AAAA with 4 bytes", DnsWire.Response(1, 1).Question("a.example").Name("a.example").RecordHead(28, 60, 4).Raw(192, 0, 2, 1).ToArray(), Reason.DnsBadRecordData);
        d.Add("CNAME data longer than its name", DnsWire.Response(1, 1).Question("a.example").Name("a.example").RecordHead(5, 60, 5).Raw(1, (byte)'b', 0, 9, 9).ToArray(), Reason.DnsBadRecordData);
        d.Add("CNAME data cut inside its name", DnsWire.Response(1, 1).Question("a.example").Name("a.example").RecordHead(5, 60, 2).Raw(3, (byte)'b', (byte)'c', (byte)'d', 0).ToArray(), Reason.DnsBadRecordData);
        d.Add("CNAME target with a loop", DnsWire.Response(1, 1).Question("a.example").Name("a.example").RecordHead(5, 60, 2).Pointer(0x3FFF).ToArray(), Reason.DnsBadRecordData);
        return d;
    }

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void TryValidate_MalformedMessage_RefusedWithReason(string description, byte[] message, Reason expected)
    {
        var reason = Validate(message);
        Assert.True(expected == reason, $"{description}: expected {expected}, got {reason}");
    }

    [Fact]
    public void MalformedCases_CoverEveryDnsReason()
    {
        var covered = new HashSet<Reason>();
        foreach (var row in MalformedCases())
        {
            covered.Add((Reason)row[2]);
        }

        var dnsReasons = 0;
        foreach (var reason in ReasonNames.All)
        {
            // The parser's reasons (malformed input); the query policy's and the tunnel guard's are policy reasons.
            if (reason.ToString().StartsWith("Dns", StringComparison.Ordinal) && ReasonNames.IsMalformed(reason))
            {
                dnsReasons++;
                Assert.Contains(reason, covered);
            }
        }

        Assert.Equal(8, dnsReasons);
    }

    private static Reason Validate(byte[] message)
    {
        if (!DnsMessage.TryCreate(message, out var dns, out var error))
        {
            return error;
        }

        return dns.TryValidate(out error) ? 0 : error;
    }

    [Fact]
    public void TryValidate_CompressedCnameChain_ReadsEveryField()
    {
        // www.Vendor.example CNAME cdn (compressed against the question), cdn A 203.0.113.5, AAAA, then an authority
        // NS-shaped record and an OPT-like additional record of another type that the reader must skip.
        var w = DnsWire.Response(0xBEEF, 3, ns: 1).Question("www.Vendor.example");
        var cdnAt = w.Length + 2 + 10;
        w.Pointer(12).RecordHead(5, 3600, 6).Raw(3, (byte)'c', (byte)'d', (byte)'n').Pointer(16);
        w.Pointer(cdnAt).RecordHead(1, 30, 4).Raw(203, 0, 113, 5);
        w.Pointer(cdnAt).RecordHead(28, 0x8000_0000, 16).Raw(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5);
        w.Pointer(16).RecordHead(2, 60, 2).Pointer(16);
        var message = w.ToArray();

        Assert.True(DnsMessage.TryCreate(message, out var dns, out _));
        Assert.True(dns.TryValidate(out var error), error.ToString());
        Assert.Equal(0xBEEF, dns.Id);
        Assert.True(dns.IsResponse);
        Assert.Equal(0, dns.ResponseCode);
        Assert.True(dns.TryReadQuestion(out var q, out _));
        Assert.True(q.Name.EqualsIgnoreCase("www.vendor.example"u8));
        Assert.Equal(DnsTypes.A, q.Type);

        var records = dns.Records();
        Assert.True(records.TryNext(out var cname, out _));
        Assert.Equal(DnsTypes.Cname, cname.Type);
        Assert.Equal(3600u, cname.Ttl);
        Assert.True(cname.Name.EqualsIgnoreCase(q.Name));
        Assert.True(cname.TryGetCanonicalName(out var target));
        Assert.True(target.EqualsIgnoreCase("cdn.vendor.example"u8));

        Assert.True(records.TryNext(out var a, out _));
        Assert.True(a.Name.EqualsIgnoreCase(target));
        Assert.True(a.TryGetAddress(out var v4));
        Assert.Equal("203.0.113.5", v4.ToString());
        Assert.Equal(DnsSection.Answer, a.Section);

        Assert.True(records.TryNext(out var aaaa, out _));
        Assert.True(aaaa.TryGetAddress(out var v6));
        Assert.Equal("2001:db8::5", v6.ToString());
        Assert.Equal(0u, aaaa.Ttl); // top bit set: RFC 2181 says read it as 0

        Assert.True(records.TryNext(out var ns, out _));
        Assert.Equal(DnsSection.Authority, ns.Section);
        Assert.False(ns.TryGetAddress(out _));
        Assert.False(records.TryNext(out _, out error));
        Assert.Equal((Reason)0, error);
    }

    [Theory]
    [InlineData("WWW.VENDOR.EXAMPLE", "www.vendor.example", true)]
    [InlineData("www.vendor.example", "www.vendor.example", true)]
    [InlineData("www.vendor.example", "www.vendor.exampl", false)]
    [InlineData("www.vendor.example", "ww.vendor.example", false)]
    [InlineData("www.vendor.example", "www.vendor.example.", false)]
    [InlineData("", "", true)]
    public void EqualsIgnoreCase_Text_AsciiCaseOnly(string wire, string text, bool expected)
    {
        var message = DnsWire.Response(1, 0).Question(wire).ToArray();
        Assert.True(DnsMessage.TryCreate(message, out var dns, out _));
        Assert.True(dns.TryReadQuestion(out var q, out _));
        Assert.Equal(expected, q.Name.EqualsIgnoreCase(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void EqualsIgnoreCase_CompressedAndPlainForms_Equal()
    {
        var w = DnsWire.Response(1, 2).Question("Time.Vendor.Example");
        var plain = w.Length;
        w.A("time.vendor.example", "192.0.2.1");
        var compressed = w.Length;
        w.Raw(4).Raw("TIME"u8.ToArray()).Pointer(17).RecordHead(1, 60, 4).Raw(192, 0, 2, 2);
        var message = w.ToArray();

        Assert.True(DnsName.TryRead(message, plain, out var a, out _, out _));
        Assert.True(DnsName.TryRead(message, compressed, out var b, out _, out _));
        Assert.True(DnsName.TryRead(message, 12, out var q, out _, out _));
        Assert.True(a.EqualsIgnoreCase(b));
        Assert.True(b.EqualsIgnoreCase(q));
        Assert.Equal(a.WireLength, b.WireLength);
        Assert.Equal(3, b.LabelCount);
    }

    [Theory]
    [InlineData(new byte[] { 3, (byte)'a', (byte)'.', (byte)'b', 0 })] // a dot inside a label: "a.b" would read as two labels
    [InlineData(new byte[] { 2, (byte)'a', 0x00, 0 })]                 // NUL
    [InlineData(new byte[] { 2, (byte)'a', (byte)' ', 0 })]            // space
    [InlineData(new byte[] { 2, (byte)'a', 0xC3, 0 })]                 // non-ASCII
    public void TryCopyLowercase_LabelWithoutTextForm_False(byte[] name)
    {
        Assert.True(DnsName.TryRead(name, 0, out var n, out _, out _));
        Assert.False(n.TryCopyLowercase(new byte[DnsName.MaxTextLength], out _));
    }

    [Fact]
    public void TryCopyLowercase_LongestName_FitsMaxTextLength()
    {
        var longest = $"{Label(63)}.{Label(63)}.{Label(63)}.{Label(61)}"; // 255 bytes on the wire
        var bytes = new DnsWire().Name(longest.ToUpperInvariant()).ToArray();
        Assert.True(DnsName.TryRead(bytes, 0, out var n, out _, out _));
        Assert.Equal(255, n.WireLength);
        var buffer = new byte[DnsName.MaxTextLength];
        Assert.True(n.TryCopyLowercase(buffer, out var written));
        Assert.Equal(longest, Encoding.ASCII.GetString(buffer, 0, written));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TryRead_LongChainOfPointers_EndsAtRootOrRefusesTheLoop(bool closeTheLoop)
    {
        // The root octet at 0, then 8,000 pointers each to the one before: the longest legal chain in 16 KB. The
        // walk must follow it (every jump goes lower) to the root. Pointing the first one at the last instead makes
        // a cycle through all of them, which must be refused, never spun in.
        var bytes = new byte[1 + (2 * 8000)];
        for (var i = 1; i < bytes.Length; i += 2)
        {
            var target = i == 1 ? (closeTheLoop ? bytes.Length - 2 : 0) : i - 2;
            bytes[i] = (byte)(0xC0 | (target >> 8));
            bytes[i + 1] = (byte)target;
        }

        var ok = DnsName.TryRead(bytes, bytes.Length - 2, out var name, out var end, out var error);

        Assert.Equal(!closeTheLoop, ok);
        if (ok)
        {
            Assert.Equal(0, name.LabelCount);
            Assert.Equal(bytes.Length, end);
        }
        else
        {
            Assert.Equal(Reason.DnsPointerLoop, error);
        }
    }

    [Theory]
    [InlineData("000400010203", true)]    // exactly one whole message after its length prefix
    [InlineData("00050001020304ff", false)] // one message and the start of another
    [InlineData("0010000102", false)]      // the first part of a split message
    [InlineData("00", false)]              // the prefix itself split
    [InlineData("0000", false)]            // an empty message
    public void TryUnframeTcp_OnlyOneWholeMessage(string hex, bool expected)
    {
        var segment = Frames.FromHex(hex);
        Assert.Equal(expected, DnsMessage.TryUnframeTcp(segment, out var message));
        if (expected)
        {
            Assert.Equal(segment.Length - 2, message.Length);
        }
    }

    [Fact]
    public void Parse_ValidAndMalformedMessages_AllocateNothing()
    {
        var inputs = new List<byte[]>();
        foreach (var row in MalformedCases())
        {
            inputs.Add((byte[])row[1]);
        }

        inputs.Add(DnsWire.Response(1, 2).Question("a.example").Cname("a.example", "b.example").A("b.example", "192.0.2.1").ToArray());
        var all = inputs.ToArray();
        var sum = 0;
        var windows = AllocationWindows.Measure(_ => sum += Walk(all), warmupRounds: 10, roundsPerWindow: 50);

        Assert.True(sum > 0);
        Assert.True(windows[^1] == 0, AllocationWindows.Describe(windows));
    }

    private static int Walk(byte[][] inputs)
    {
        var sum = 0;
        Span<byte> text = stackalloc byte[DnsName.MaxTextLength];
        foreach (var input in inputs)
        {
            if (!DnsMessage.TryCreate(input, out var dns, out _) || !dns.TryValidate(out _))
            {
                sum++;
                continue;
            }

            var records = dns.Records();
            while (records.TryNext(out var r, out _))
            {
                sum += r.Name.TryCopyLowercase(text, out var n) ? n : 0;
            }
        }

        return sum;
    }
}
