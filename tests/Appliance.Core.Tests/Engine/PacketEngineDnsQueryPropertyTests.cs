using System.Buffers.Binary;
using Appliance.Core.Tests.Wire;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using FsCheck;
using FsCheck.Fluent;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// No query sequence lets a camera restricted to names N ask its resolver about a name outside N. The frames are built
/// from names in and out of N (any case, labels holding dots or odd bytes, wildcard apexes, allowed names as prefixes),
/// one to three questions with QDCOUNT telling the truth or lying, compression pointers into earlier questions or
/// anywhere, other header flags and record counts, over UDP and over one TCP connection (one message per segment, two,
/// a split one, a length prefix that lies; in order, retransmitted, overlapping or after a gap). Whatever the engine
/// passes is read the way a resolver would (TCP: the stream reassembled by sequence number, then its length-prefixed
/// messages; each message's QDCOUNT questions, compression followed anywhere) and every question's labels must be a
/// name of N, compared label by label, independently of the engine's text form.
/// </summary>
public class PacketEngineDnsQueryPropertyTests
{
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("CAMFW_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;
    private static readonly string Cam1 = Cam1Mac.ToString();

    private static readonly string[][] Allowed =
    [
        ["time", "vendor", "example"], ["ntp", "also", "example"], ["a", "fw", "vendor", "example"], ["x", "y", "fw", "vendor", "example"],
    ];

    private static readonly string[][] Outside =
    [
        ["exfil", "attacker", "example"], ["fw", "vendor", "example"], ["vendor", "example"], ["time", "vendor", "example", "attacker", "example"],
        ["xtime", "vendor", "example"], ["time.vendor", "example"], ["a.fw", "vendor", "example"], ["time", "vendor.example"], ["also", "example"],
    ];

    /// <summary>N, label by label: exact names and the one wildcard (one or more labels below fw.vendor.example).</summary>
    private static bool InN(List<byte[]> labels)
    {
        var text = labels.Select(l => System.Text.Encoding.Latin1.GetString(l).ToLowerInvariant()).ToList();
        return text.SequenceEqual(["time", "vendor", "example"]) || text.SequenceEqual(["ntp", "also", "example"])
            || (text.Count >= 4 && text[^3..].SequenceEqual(["fw", "vendor", "example"]));
    }

    public sealed record Message(byte[] Bytes, string Describe)
    {
        public override string ToString() => Describe + " " + Convert.ToHexStringLower(Bytes);
    }

    private static Gen<byte[]> LabelGen =>
        Gen.OneOf(
            Gen.Elements(Allowed.Concat(Outside).SelectMany(n => n).Distinct().ToArray()).Select(t => System.Text.Encoding.ASCII.GetBytes(t)),
            Gen.Choose(1, 63).SelectMany(n => Gen.ArrayOf(Gen.Elements<byte>(0x00, 0x2e, 0x20, 0x41, 0x61, 0x7a, 0xff, 0x2a, 0x5c), n)));

    private static Gen<List<byte[]>> NameGen =>
        Gen.Frequency(
            (4, Gen.Elements(Allowed.Concat(Outside).ToArray()).Select(n => n.Select(t => System.Text.Encoding.ASCII.GetBytes(t)).ToList())),
            (1, Gen.Choose(1, 5).SelectMany(n => Gen.ListOf(LabelGen, n)).Select(l => l.ToList())))
        .SelectMany(labels => Gen.ArrayOf(Gen.Elements(true, false), 64).Select(upper => labels.Select((l, i) => CaseMix(l, upper, i)).ToList()));

    private static byte[] CaseMix(byte[] label, bool[] upper, int seed)
        => [.. label.Select((b, j) => upper[(seed * 7 + j) % upper.Length] && b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b)];

    private static Gen<Message> MessageGen =>
        from count in Gen.Choose(1, 3)
        from names in Gen.ArrayOf(NameGen, count)
        from qd in Gen.Frequency((6, Gen.Constant(-1)), (1, Gen.Choose(0, 4)))
        from flags in Gen.Frequency((6, Gen.Constant<ushort>(0x0100)), (1, Gen.Elements<ushort>(0x0000, 0x8100, 0x2800, 0x0900)), (1, Gen.Choose(0, 65535).Select(v => (ushort)v)))
        from counts in Gen.Frequency((6, Gen.Constant((0, 0, 0))), (1, Gen.Choose(0, 2).Select(n => (0, 0, n))), (1, Gen.Choose(0, 3).Select(n => (n, n, n))))
        from compress in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, 255)))
        from keep in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
        from trailer in Gen.Frequency((4, Gen.Constant(Array.Empty<byte>())), (1, Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 11)))
        select Build(names, qd, flags, counts, compress, keep, trailer);

    /// <summary>
    /// Writes the questions; with <paramref name="compress"/> &gt;= 0 the last question keeps its first
    /// <paramref name="keep"/> labels and then points to offset 12 + <paramref name="compress"/> (into an earlier question,
    /// or anywhere).
    /// </summary>
    private static Message Build(List<byte[]>[] names, int qd, ushort flags, (int An, int Ns, int Ar) counts, int compress, int keep, byte[] trailer)
    {
        var w = DnsWire.Header(0x4242, flags, (ushort)(qd < 0 ? names.Length : qd), (ushort)counts.An, (ushort)counts.Ns, (ushort)counts.Ar);
        for (var i = 0; i < names.Length; i++)
        {
            var labels = names[i];
            var pointer = compress >= 0 && i == names.Length - 1 && names.Length > 1;
            var written = pointer ? labels.Take(keep) : labels;
            foreach (var label in written)
            {
                w.Raw((byte)label.Length).Raw(label);
            }

            if (pointer)
            {
                w.Pointer(12 + compress);
            }
            else
            {
                w.Raw(0);
            }

            w.U16(1).U16(1);
        }

        w.Raw(trailer);
        var describe = string.Join(" | ", names.Select(n => string.Join('.', n.Select(l => System.Text.Encoding.Latin1.GetString(l)))));
        return new Message(w.ToArray(), $"qd {qd} flags {flags:x4} counts {counts} compress {compress}/{keep}: {describe}");
    }

    /// <summary>The questions a lenient resolver reads: QDCOUNT of them, pointers followed in any direction (64 jumps).</summary>
    private static IEnumerable<List<byte[]>> ResolverQuestions(ReadOnlySpan<byte> message)
    {
        var result = new List<List<byte[]>>();
        if (message.Length < 12)
        {
            return result;
        }

        var offset = 12;
        for (int q = 0, n = BinaryPrimitives.ReadUInt16BigEndian(message[4..]); q < n; q++)
        {
            var labels = new List<byte[]>();
            var position = offset;
            var end = -1;
            var jumps = 0;
            while (true)
            {
                if (position >= message.Length || jumps > 64)
                {
                    return result; // unreadable: the resolver answers FORMERR, asks nobody
                }

                int length = message[position];
                if (length == 0)
                {
                    end = end < 0 ? position + 1 : end;
                    break;
                }

                if ((length & 0xC0) == 0xC0)
                {
                    if (position + 1 >= message.Length)
                    {
                        return result;
                    }

                    end = end < 0 ? position + 2 : end;
                    position = ((length & 0x3F) << 8) | message[position + 1];
                    jumps++;
                    continue;
                }

                if ((length & 0xC0) != 0 || position + 1 + length > message.Length)
                {
                    return result;
                }

                labels.Add(message.Slice(position + 1, length).ToArray());
                position += 1 + length;
            }

            result.Add(labels);
            offset = end + 4;
            if (offset > message.Length)
            {
                return result;
            }
        }

        return result;
    }

    private static void AssertOnlyN(ReadOnlySpan<byte> message, string context)
    {
        foreach (var labels in ResolverQuestions(message))
        {
            Assert.True(InN(labels), $"a question about {string.Join('.', labels.Select(l => Convert.ToHexStringLower(l)))} reached the resolver: {context}");
        }
    }

    [Fact]
    public void UdpQueries_AnyMessage_OnlyNamesInNReachTheResolver()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000 * Scale), Prop.ForAll(Arb.From(MessageGen), m =>
        {
            var e = PacketEngineDnsQueryTests.Restricted();
            var frame = Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 40000, 53).Payload(m.Bytes).ToArray();
            if (e.ProcessFrame(frame, Side.Camera, 0).IsPass)
            {
                AssertOnlyN(m.Bytes, m.ToString());
            }
        }));
    }

    [Fact]
    public void UdpQueries_WellFormedQuestionAboutANameInN_AlwaysPasses()
    {
        // The positive control of the property above: it must not hold by refusing everything.
        var gen = from name in Gen.Elements(Allowed) from upper in Gen.ArrayOf(Gen.Elements(true, false), 64) select name.Select((l, i) => CaseMix(System.Text.Encoding.ASCII.GetBytes(l), upper, i)).ToList();
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300 * Scale), Prop.ForAll(Arb.From(gen), labels =>
        {
            var m = Build([labels], -1, 0x0100, (0, 0, 0), -1, 0, []);
            var frame = Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 40000, 53).Payload(m.Bytes).ToArray();
            Assert.True(PacketEngineDnsQueryTests.Restricted().ProcessFrame(frame, Side.Camera, 0).IsPass, m.ToString());
        }));
    }

    public enum Framing { Whole, Two, Split, LyingPrefix }

    public enum Placement { InOrder, Retransmit, Overlap, Gap }

    public sealed record Segment(Message First, Message Second, Framing Framing, Placement Placement, int Shift)
    {
        public override string ToString() => $"{Framing}/{Placement}({Shift}) {First} ;; {Second}";
    }

    private static Gen<Segment> SegmentGen =>
        from first in MessageGen
        from second in MessageGen
        from framing in Gen.Elements(Framing.Whole, Framing.Whole, Framing.Two, Framing.Split, Framing.LyingPrefix)
        from placement in Gen.Elements(Placement.InOrder, Placement.InOrder, Placement.Retransmit, Placement.Overlap, Placement.Gap)
        from shift in Gen.Choose(1, 40)
        select new Segment(first, second, framing, placement, shift);

    private static byte[] Prefix(byte[] m, int length) => [(byte)(length >> 8), (byte)length, .. m];

    [Fact]
    public void TcpQueries_AnySegmentSequence_OnlyNamesInNReachTheResolver()
    {
        var gen = Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(SegmentGen, n));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500 * Scale), Prop.ForAll(Arb.From(gen), segments =>
        {
            var e = PacketEngineDnsQueryTests.Restricted();
            byte[] Out(TcpFlags f, uint seq, byte[] payload) => Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 45000, 53, f).Seq(seq).Payload(payload).ToArray();
            Assert.True(e.ProcessFrame(Out(TcpFlags.Syn, 0, []), Side.Camera, 0).IsPass);
            Assert.True(e.ProcessFrame(Frames.Tcp(RouterMac, Cam1Mac, DnsIp, Cam1Ip, 53, 45000, TcpFlags.Syn | TcpFlags.Ack).Seq(9000).Ack(1).ToArray(), Side.Uplink, 1).IsPass);
            Assert.True(e.ProcessFrame(Out(TcpFlags.Ack, 1, []), Side.Camera, 2).IsPass);

            // What the resolver's TCP receives, by sequence number (what arrived first at a position stays).
            var stream = new Dictionary<uint, byte>();
            uint next = 1;
            long now = 3;
            var log = new List<string>();
            foreach (var s in segments)
            {
                var payload = s.Framing switch
                {
                    Framing.Whole => Prefix(s.First.Bytes, s.First.Bytes.Length),
                    Framing.Two => [.. Prefix(s.First.Bytes, s.First.Bytes.Length), .. Prefix(s.Second.Bytes, s.Second.Bytes.Length)],
                    Framing.Split => Prefix(s.First.Bytes, s.First.Bytes.Length)[..Math.Max(1, Math.Min(s.Shift, s.First.Bytes.Length + 1))],
                    _ => Prefix(s.First.Bytes, Math.Max(0, s.First.Bytes.Length - s.Shift)),
                };
                var seq = s.Placement switch
                {
                    Placement.InOrder => next,
                    Placement.Retransmit => 1u,
                    Placement.Overlap => next - (uint)Math.Min(s.Shift, (int)next - 1),
                    _ => next + (uint)s.Shift,
                };
                var passed = e.ProcessFrame(Out(TcpFlags.Ack | TcpFlags.Psh, seq, payload), Side.Camera, now++).IsPass;
                log.Add($"seq {seq} len {payload.Length} {(passed ? "passed" : "dropped")}: {s}");
                if (passed)
                {
                    for (var i = 0; i < payload.Length; i++)
                    {
                        stream.TryAdd(seq + (uint)i, payload[i]);
                    }
                }

                next = Math.Max(next, seq + (uint)payload.Length);
            }

            // The contiguous stream from the first byte, then its length-prefixed messages.
            var bytes = new List<byte>();
            for (uint at = 1; stream.TryGetValue(at, out var b); at++)
            {
                bytes.Add(b);
            }

            var all = bytes.ToArray();
            for (var at = 0; at + 2 <= all.Length;)
            {
                var length = BinaryPrimitives.ReadUInt16BigEndian(all.AsSpan(at));
                if (at + 2 + length > all.Length)
                {
                    break;
                }

                AssertOnlyN(all.AsSpan(at + 2, length), string.Join("\n", log));
                at += 2 + length;
            }
        }));
    }
}
