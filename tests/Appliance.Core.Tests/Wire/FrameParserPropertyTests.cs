using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using FsCheck;
using FsCheck.Fluent;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// FsCheck properties: random and mutated frames never throw and leave <see cref="PacketInfo"/> consistent
/// (<see cref="ParserInvariants"/>). Any counterexample found goes into ParserRegressions.txt.
/// </summary>
public class FrameParserPropertyTests
{
    // CAMFW_FUZZ_SCALE multiplies the test counts for a long soak (e.g. 100 in a nightly job); the default keeps the
    // suite fast.
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("CAMFW_FUZZ_SCALE"), out var s) && s > 0 ? s : 1;
    private static readonly int RandomTests = 5000 * Scale;
    private static readonly int MutationTests = 20000 * Scale;

    /// <summary>A byte array that prints as hex, so a counterexample can be pasted into the regression file.</summary>
    public sealed record Input(byte[] Bytes)
    {
        public override string ToString() => Frames.ToHex(Bytes);
    }

    private enum Op { FlipBit, SetByte, SetWord, Truncate, Append }

    private readonly record struct Mutation(Op Op, int Position, int Value);

    private static readonly byte[][] Corpus = BuildCorpus();

    private static byte[][] BuildCorpus()
    {
        var c = Frames.CameraMac;
        var n = Frames.NvrMac;
        const string a = "192.0.2.10";
        const string b = "198.51.100.5";
        const string a6 = "2001:db8::10";
        const string b6 = "2001:db8::5";
        return
        [
            Frames.Tcp(c, n, a, b, 40000, 554, TcpFlags.Syn).TcpOptions(2, 4, 5, 0xB4, 1, 3, 3, 7).ToArray(),
            Frames.Tcp(c, n, a6, b6, 40000, 554, TcpFlags.Ack | TcpFlags.Psh).Payload(new byte[24]).ToArray(),
            Frames.Udp(c, n, a, b, 5000, 53).Payload(new byte[12]).PadTo(60).ToArray(),
            Frames.Udp(c, n, a6, b6, 546, 547).Payload(new byte[8]).ToArray(),
            Frames.Echo(c, n, a, b, 7, 1).Payload(new byte[8]).ToArray(),
            Frames.Echo(c, n, a6, b6, 7, 1).ToArray(),
            Frames.ArpRequest(c, a, "192.0.2.1").PadTo(60).ToArray(),
            Frames.ArpReply(c, a, n, b).ToArray(),
            FrameBuilder.Ethernet(c, n).QinQ(100, 200).Ipv4(a, b).Udp(1, 2).ToArray(),
            FrameBuilder.Ethernet(c, n).Vlan(5).Ipv6(a6, b6).Tcp(1, 2, TcpFlags.Syn).ToArray(),
            FrameBuilder.Ethernet(c, n).Ipv4(a, b).Ipv4Options(1, 7, 7, 4, 0, 0, 0, 0).Tcp(1, 2, TcpFlags.Syn).ToArray(),
            FrameBuilder.Ethernet(c, n).Ipv4(a, b).Id(9).Fragment(0, true).Tcp(1, 2, TcpFlags.Syn).Payload(new byte[16]).ToArray(),
            FrameBuilder.Ethernet(c, n).Ipv4(a, b).Id(9).Fragment(3, false).Protocol(6).Payload(new byte[16]).ToArray(),
            FrameBuilder.Ethernet(c, n).Ipv6(a6, b6).HopByHop().Routing().FragmentHeader(0, true).DestinationOptions().AuthenticationHeader().Tcp(1, 2, TcpFlags.Syn).ToArray(),
            FrameBuilder.Ethernet(c, n).Ipv6(a6, b6).FragmentHeader(100, true).Protocol(17).Payload(new byte[24]).ToArray(),
            Frames.IcmpError(Frames.RouterMac, c, b, a, 3, 3, Frames.Ip(a, b).Udp(4000, 53), 28).ToArray(),
            Frames.IcmpError(Frames.RouterMac, c, b6, a6, 2, 0, Frames.Ip(a6, b6).DestinationOptions().Tcp(4000, 443, TcpFlags.Ack), 40 + 8 + 20).ToArray(),
            Frames.IcmpError(Frames.RouterMac, c, b, a, 11, 0, Frames.Ip(a, b).Echo(77), 28).ToArray(),
        ];
    }

    private static Gen<byte> AnyByte => Gen.Choose(0, 255).Select(i => (byte)i);

    private static Gen<byte[]> Bytes(int min, int max) => Gen.Choose(min, max).SelectMany(len => Gen.ArrayOf(AnyByte, len));

    private static readonly Config Quick = Config.QuickThrowOnFailure;

    private static void AssertEthernet(byte[] frame)
    {
        var ok = FrameParser.ParseEthernet(frame, out var info);
        ParserInvariants.Check(frame, ok, info);
    }

    private static void AssertIp(byte[] packet)
    {
        var ok = FrameParser.ParseIp(packet, out var info);
        ParserInvariants.Check(packet, ok, info);
    }

    [Fact]
    public void ParseEthernet_RandomFrames_NeverThrowAndKeepInvariants()
    {
        // Random bytes almost never get past the EtherType, so the type and the first IP byte are biased toward
        // what the parser knows; the rest is noise.
        var etherType = Gen.Elements<ushort>(EtherTypes.Ipv4, EtherTypes.Ipv6, EtherTypes.Arp, EtherTypes.Vlan, EtherTypes.QinQ, EtherTypes.QinQLegacy, 0x88CC);
        var firstIpByte = Gen.Elements<byte>(0x45, 0x46, 0x4F, 0x60, 0x44, 0x00, 0xFF);
        var gen =
            from head in Bytes(12, 12)
            from type in etherType
            from first in firstIpByte
            from tail in Bytes(0, 120)
            select new Input([.. head, (byte)(type >> 8), (byte)type, first, .. tail]);

        Check.One(Quick.WithMaxTest(RandomTests), Prop.ForAll(Arb.From(gen), input => AssertEthernet(input.Bytes)));
    }

    [Fact]
    public void ParseEthernet_UnbiasedRandomBytes_NeverThrowAndKeepInvariants()
    {
        var gen = Bytes(0, 80).Select(b => new Input(b));

        Check.One(Quick.WithMaxTest(RandomTests), Prop.ForAll(Arb.From(gen), input => AssertEthernet(input.Bytes)));
    }

    [Fact]
    public void ParseIp_RandomPackets_NeverThrowAndKeepInvariants()
    {
        var firstIpByte = Gen.Elements<byte>(0x45, 0x47, 0x4F, 0x60, 0x6F, 0x44, 0x00);
        var gen =
            from first in firstIpByte
            from tail in Bytes(0, 120)
            select new Input([first, .. tail]);

        Check.One(Quick.WithMaxTest(RandomTests), Prop.ForAll(Arb.From(gen), input => AssertIp(input.Bytes)));
    }

    private static Gen<Mutation> MutationGen(int maxLength) =>
        from op in Gen.Elements(Op.FlipBit, Op.SetByte, Op.SetWord, Op.SetWord, Op.Truncate, Op.Append)
        from position in Gen.Choose(0, maxLength)
        from value in Gen.OneOf(Gen.Choose(0, 0xFFFF), Gen.Elements(0, 1, 2, 4, 5, 7, 8, 20, 40, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF))
        select new Mutation(op, position, value);

    private static byte[] Apply(byte[] frame, Mutation[] mutations)
    {
        var bytes = new List<byte>(frame);
        foreach (var m in mutations)
        {
            if (bytes.Count == 0 && m.Op != Op.Append)
            {
                continue;
            }

            var at = m.Position % Math.Max(bytes.Count, 1);
            switch (m.Op)
            {
                case Op.FlipBit:
                    bytes[at] ^= (byte)(1 << (m.Value & 7));
                    break;
                case Op.SetByte:
                    bytes[at] = (byte)m.Value;
                    break;
                case Op.SetWord:
                    // Length and offset fields are 16-bit big-endian: the tweak that reaches them.
                    bytes[at] = (byte)(m.Value >> 8);
                    if (at + 1 < bytes.Count)
                    {
                        bytes[at + 1] = (byte)m.Value;
                    }

                    break;
                case Op.Truncate:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case Op.Append:
                    for (var i = 0; i < (m.Value & 0x3F); i++)
                    {
                        bytes.Add((byte)(m.Value + i));
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    private static Gen<Input> MutatedFrames =>
        from index in Gen.Choose(0, Corpus.Length - 1)
        from count in Gen.Choose(1, 4)
        from mutations in Gen.ArrayOf(MutationGen(200), count)
        select new Input(Apply(Corpus[index], mutations));

    [Fact]
    public void ParseEthernet_MutatedValidFrames_NeverThrowAndKeepInvariants()
    {
        Check.One(Quick.WithMaxTest(MutationTests), Prop.ForAll(Arb.From(MutatedFrames), input => AssertEthernet(input.Bytes)));
    }

    [Fact]
    public void ParseIp_MutatedValidPackets_AgreeWithParseEthernet()
    {
        // The L3 entry point must judge the IP packet inside a frame exactly as the L2 one did.
        Check.One(Quick.WithMaxTest(MutationTests), Prop.ForAll(Arb.From(MutatedFrames), input =>
        {
            FrameParser.ParseEthernet(input.Bytes, out var l2);
            var packet = input.Bytes.AsSpan(l2.L3Offset).ToArray();

            // ParseIp picks the family by the version nibble, ParseEthernet by the EtherType: compare only where
            // they agree (a mismatch is BadIpVersion or, when too short to tell, truncated on the L2 side).
            var version = l2.Kind switch { L3Kind.Ipv4 => 4, L3Kind.Ipv6 => 6, _ => -1 };
            if (version < 0 || packet.Length == 0 || packet[0] >> 4 != version)
            {
                return;
            }

            var ok = FrameParser.ParseIp(packet, out var l3);
            ParserInvariants.Check(packet, ok, l3);
            Assert.Equal(l2.Error, l3.Error);
            Assert.Equal(l2.Kind, l3.Kind);
            Assert.Equal(l2.Source, l3.Source);
            Assert.Equal(l2.Protocol, l3.Protocol);
            Assert.Equal(l2.HasL4, l3.HasL4);
            Assert.Equal(l2.SourcePort, l3.SourcePort);
            Assert.Equal(l2.DestinationPort, l3.DestinationPort);
            Assert.Equal(l2.HasQuote, l3.HasQuote);
            Assert.Equal(l2.QuoteSourcePort, l3.QuoteSourcePort);
            if (l2.HasL4)
            {
                Assert.Equal(l2.L4Offset - l2.L3Offset, l3.L4Offset);
            }
        }));
    }

    [Fact]
    public void ParseEthernet_ValidFrameWithAnyTrailer_ParsesTheSame()
    {
        // Ethernet padding, a kept FCS or junk after the IP packet must not change the result.
        var ipFrames = Corpus.Where(f => FrameParser.ParseEthernet(f, out var i) && i.Kind != L3Kind.Arp).ToArray();
        var gen =
            from index in Gen.Choose(0, ipFrames.Length - 1)
            from trailer in Bytes(1, 64)
            select (Frame: ipFrames[index], Trailer: new Input(trailer));

        Check.One(Quick.WithMaxTest(2000 * Scale), Prop.ForAll(Arb.From(gen), t =>
        {
            FrameParser.ParseEthernet(t.Frame, out var expected);
            Assert.True(FrameParser.ParseEthernet([.. t.Frame, .. t.Trailer.Bytes], out var actual));
            Assert.Equal(expected, actual);
        }));
    }

    [Fact]
    public void Corpus_EveryFrame_ParsesCleanly()
    {
        // The mutation seeds must be valid, or the mutations explore nothing deep.
        foreach (var frame in Corpus)
        {
            Assert.True(FrameParser.ParseEthernet(frame, out var info), $"{info.Error}: {Frames.ToHex(frame)}");
        }
    }
}
