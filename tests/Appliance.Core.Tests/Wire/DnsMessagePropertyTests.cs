using Appliance.Core.Wire;
using FsCheck;
using FsCheck.Fluent;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// FsCheck properties for the DNS parser: random and mutated messages never throw, never hang (every walk is bounded
/// by the message length, so a test run that finishes is the proof), and whatever validates can be read in full:
/// exactly the records the counts promise, each name with a text form of at most 253 characters, each address
/// record of the right size. Any counterexample found becomes a row in <see cref="DnsMessageTests"/>.
/// </summary>
public class DnsMessagePropertyTests
{
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("CAMFW_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;
    private static readonly int RandomTests = 5000 * Scale;
    private static readonly int MutationTests = 20000 * Scale;
    private static readonly Config Quick = Config.QuickThrowOnFailure;

    /// <summary>A byte array that prints as hex, so a counterexample can be pasted into a test table.</summary>
    public sealed record Input(byte[] Bytes)
    {
        public override string ToString() => Convert.ToHexStringLower(Bytes);
    }

    private static readonly byte[][] Corpus =
    [
        DnsWire.Response(1, 2).Question("www.vendor.example").Cname("www.vendor.example", "cdn.vendor.example").A("cdn.vendor.example", "203.0.113.5").ToArray(),
        Compressed(),
        DnsWire.Response(2, 1, ar: 1).Question("time.example.net", 28).Aaaa("time.example.net", "2001:db8::123").Name("").RecordHead(41, 0, 0).ToArray(),
        DnsWire.Header(3, 0x0100, 1, 0).Question("aGVsbG8gd29ybGQ.t.tunnel.example", 16).ToArray(),
        DnsWire.Response(4, 0, ns: 1).Question("nx.example").Name("example").RecordHead(6, 60, 4).Raw(1, 2, 3, 4).ToArray(),
    ];

    private static byte[] Compressed()
    {
        var w = DnsWire.Response(0xBEEF, 2).Question("www.Vendor.example");
        var cdnAt = w.Length + 2 + 10;
        w.Pointer(12).RecordHead(5, 3600, 6).Raw(3, (byte)'c', (byte)'d', (byte)'n').Pointer(16);
        w.Pointer(cdnAt).RecordHead(1, 30, 4).Raw(203, 0, 113, 5);
        return w.ToArray();
    }

    private static Gen<byte> AnyByte => Gen.Choose(0, 255).Select(i => (byte)i);

    /// <summary>Bytes biased toward what names are made of: small lengths, pointer bytes, letters.</summary>
    private static Gen<byte> NameByte => Gen.Frequency(
        (3, Gen.Choose(0, 8).Select(i => (byte)i)),
        (2, Gen.Elements<byte>(0xC0, 0xC0, 0x40, 0x80, 0x3F, 0x00)),
        (3, Gen.Choose('a', 'z').Select(i => (byte)i)),
        (2, AnyByte));

    private static void AssertConsistent(byte[] message)
    {
        if (!DnsMessage.TryCreate(message, out var dns, out var error))
        {
            Assert.Equal(Reason.DnsTruncatedHeader, error);
            Assert.True(message.Length < DnsMessage.HeaderLength);
            return;
        }

        Span<byte> text = stackalloc byte[DnsName.MaxTextLength];
        if (!dns.TryValidate(out error))
        {
            Assert.True((ushort)error is >= 180 and <= 187, error.ToString());
            return;
        }

        if (dns.QuestionCount > 0)
        {
            Assert.True(dns.TryReadQuestion(out var q, out _));
            Assert.True(q.End <= message.Length);
            Assert.True(q.Name.WireLength <= DnsName.MaxWireLength);
            if (q.Name.TryCopyLowercase(text, out var n))
            {
                Assert.True(n <= 253);
            }
        }

        var records = dns.Records();
        var count = 0;
        while (records.TryNext(out var r, out error))
        {
            count++;
            Assert.True(r.Name.WireLength <= DnsName.MaxWireLength);
            Assert.True(r.Ttl <= int.MaxValue);
            if (r.TryGetAddress(out _))
            {
                Assert.True(r.DataLength is 4 or 16);
            }

            if (r.Type == DnsTypes.Cname && r.Class == DnsTypes.ClassIn)
            {
                Assert.True(r.TryGetCanonicalName(out var target));
                Assert.True(target.WireLength <= DnsName.MaxWireLength);
            }
        }

        Assert.Equal((Reason)0, error);
        Assert.Equal(dns.AnswerCount + dns.AuthorityCount + dns.AdditionalCount, count);
    }

    [Fact]
    public void TryValidate_RandomMessages_NeverThrowAndReadInFull()
    {
        // Counts small enough that some messages validate; the body made of name-shaped bytes.
        var gen =
            from id in Gen.Choose(0, 0xFFFF)
            from qd in Gen.Choose(0, 2)
            from an in Gen.Choose(0, 3)
            from ar in Gen.Choose(0, 1)
            from len in Gen.Choose(0, 120)
            from body in Gen.ArrayOf(NameByte, len)
            select new Input([(byte)(id >> 8), (byte)id, 0x81, 0x80, 0, (byte)qd, 0, (byte)an, 0, 0, 0, (byte)ar, .. body]);

        Check.One(Quick.WithMaxTest(RandomTests), Prop.ForAll(Arb.From(gen), input => AssertConsistent(input.Bytes)));
    }

    [Fact]
    public void TryValidate_UnbiasedRandomBytes_NeverThrow()
    {
        var gen = Gen.Choose(0, 80).SelectMany(len => Gen.ArrayOf(AnyByte, len)).Select(b => new Input(b));
        Check.One(Quick.WithMaxTest(RandomTests), Prop.ForAll(Arb.From(gen), input => AssertConsistent(input.Bytes)));
    }

    [Fact]
    public void TryValidate_MutatedValidMessages_NeverThrowAndReadInFull()
    {
        var gen =
            from index in Gen.Choose(0, Corpus.Length - 1)
            from count in Gen.Choose(1, 4)
            from mutations in Gen.ArrayOf(
                from op in Gen.Choose(0, 4)
                from position in Gen.Choose(0, 200)
                from value in Gen.OneOf(Gen.Choose(0, 0xFFFF), Gen.Elements(0, 1, 2, 4, 12, 16, 63, 64, 0xC0, 0xC00C, 0xC0FF, 0xFFFF))
                select (op, position, value),
                count)
            select new Input(Mutate(Corpus[index], mutations));

        Check.One(Quick.WithMaxTest(MutationTests), Prop.ForAll(Arb.From(gen), input => AssertConsistent(input.Bytes)));
    }

    [Fact]
    public void TryValidate_Corpus_AllValid()
    {
        // Positive control for the mutation test: it starts from messages that do validate.
        foreach (var message in Corpus)
        {
            Assert.True(DnsMessage.TryCreate(message, out var dns, out _));
            Assert.True(dns.TryValidate(out var error), error.ToString());
        }
    }

    private static byte[] Mutate(byte[] message, (int Op, int Position, int Value)[] mutations)
    {
        var bytes = new List<byte>(message);
        foreach (var (op, position, value) in mutations)
        {
            if (bytes.Count == 0)
            {
                break;
            }

            var at = position % bytes.Count;
            switch (op)
            {
                case 0:
                    bytes[at] ^= (byte)(1 << (value & 7));
                    break;
                case 1:
                    bytes[at] = (byte)value;
                    break;
                case 2:
                    // Counts, lengths and pointers are 16-bit big-endian.
                    bytes[at] = (byte)(value >> 8);
                    if (at + 1 < bytes.Count)
                    {
                        bytes[at + 1] = (byte)value;
                    }

                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes.InsertRange(at, [(byte)(value >> 8), (byte)value]);
                    break;
            }
        }

        return [.. bytes];
    }
}
