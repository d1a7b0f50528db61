using System.Buffers.Binary;
using Appliance.Transport.PcapFile.Pcapng;
using FsCheck;
using FsCheck.Fluent;

namespace Appliance.Transport.PcapFile.Tests.Pcapng;

/// <summary>
/// The reader against hostile bytes: random files, and valid files with flipped bytes, length fields that lie
/// (zero, small, odd, huge, just past the end), and cuts anywhere. It must never throw, must end (End or Error)
/// within one read per 12 bytes, and must never hand out more bytes than the file holds.
/// </summary>
public sealed class PcapngReaderPropertyTests
{
    private static readonly uint[] LyingLengths = [0, 4, 8, 11, 12, 13, 16, 28, 0x7FFF_FFFF, 0xFFFF_FFFF, PcapngReader.MaxBlockLength, PcapngReader.MaxBlockLength + 4, 1 << 20];

    private static byte[][] Seeds { get; } =
    [
        new PcapngBuilder().Section().Interface(1, 0, "eth1", tsresol: 9).Interface(101, 64, "tun0")
            .Packet(0, 1_700_000_000_000_000_000, new byte[60], flags: 1).Packet(1, 5, new byte[40], original: 1500)
            .SimplePacket(new byte[17]).Block(5, new byte[20]).ToArray(),
        new PcapngBuilder().Section(bigEndian: true).Interface(1, 262_144, tsresol: 0x86, tsoffset: -5).Packet(0, ulong.MaxValue, new byte[33])
            .Section().Interface().Packet(0, 0, new byte[1]).ToArray(),
    ];

    private static Gen<byte[]> Mutated =>
        from seed in Gen.Elements(Seeds)
        from kind in Gen.Choose(0, 3)
        from position in Gen.Choose(0, 4096)
        from value in Gen.Choose(0, 255)
        from lie in Gen.Elements(LyingLengths)
        from flips in Gen.Choose(1, 6)
        select Mutate(seed, kind, position, (byte)value, lie, flips);

    private static byte[] Mutate(byte[] seed, int kind, int position, byte value, uint lie, int flips)
    {
        var bytes = (byte[])seed.Clone();
        var at = position % bytes.Length;
        switch (kind)
        {
            case 0:
                // Byte flips, spread from the chosen position.
                for (var i = 0; i < flips; i++)
                {
                    bytes[(at + (i * 37)) % bytes.Length] ^= (byte)(value | 1);
                }

                return bytes;
            case 1:
                // A length field (any 4-aligned word) replaced by a lie, in either byte order.
                var word = at & ~3;
                if (word + 4 <= bytes.Length)
                {
                    if ((value & 1) == 0)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(word), lie);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(word), lie);
                    }
                }

                return bytes;
            case 2:
                // Cut short anywhere.
                return bytes[..at];
            default:
                // A block repeated or spliced in the middle of another.
                return [.. bytes[..at], .. bytes[(at / 2)..]];
        }
    }

    private static bool Survives(byte[] file)
    {
        using var reader = new PcapngReader(new MemoryStream(file));
        var limit = (file.Length / 12) + 2;
        long handedOut = 0;
        for (var reads = 0; reads < limit; reads++)
        {
            var status = reader.Read(out var packet);
            if (status != PcapngReadStatus.Packet)
            {
                // Sticky: the same answer again.
                return reader.Read(out _) == status && (status == PcapngReadStatus.End) == (reader.Error is null);
            }

            handedOut += packet.Data.Length;
            if (handedOut > file.Length || packet.WireLength < packet.Data.Length)
            {
                return false;
            }
        }

        return false;
    }

    [Fact]
    public void Read_RandomBytes_NeverThrowsAndEnds()
        => Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(Arb.From(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))), Survives));

    [Fact]
    public void Read_RandomBytesAfterAValidSectionHeader_NeverThrowsAndEnds()
    {
        var header = new PcapngBuilder().Section().ToArray();
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(Arb.From(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))), tail => Survives([.. header, .. tail])));
    }

    [Fact]
    public void Read_MutatedValidFiles_NeverThrowsAndEnds()
        => Check.One(Config.QuickThrowOnFailure.WithMaxTest(5000), Prop.ForAll(Arb.From(Mutated), Survives));

    [Fact]
    public void Read_SeedFiles_ReadToTheEnd()
    {
        // Positive control for the properties above: the unmutated seeds are valid and read completely.
        foreach (var seed in Seeds)
        {
            var packets = PcapngReaderTests.ReadAll(seed, out var end, out var error, out _);
            Assert.True(end == PcapngReadStatus.End, error);
            Assert.NotEmpty(packets);
        }
    }

    [Fact]
    public void Read_EveryPrefixOfAValidFile_NeverThrows()
    {
        // Exhaustive cuts: every truncation point of the first seed ends in End (on a block boundary) or Error.
        var seed = Seeds[0];
        var ends = 0;
        for (var cut = 0; cut <= seed.Length; cut++)
        {
            Assert.True(Survives(seed[..cut]), $"cut at {cut}");
            PcapngReaderTests.ReadAll(seed[..cut], out var end, out _, out _);
            ends += end == PcapngReadStatus.End ? 1 : 0;
        }

        Assert.Equal(7, ends);
    }
}
