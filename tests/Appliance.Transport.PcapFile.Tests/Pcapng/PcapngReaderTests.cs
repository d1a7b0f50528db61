using Appliance.Transport.PcapFile.Pcapng;

namespace Appliance.Transport.PcapFile.Tests.Pcapng;

public sealed class PcapngReaderTests
{
    private static readonly byte[] Frame60 = [.. Enumerable.Range(0, 60).Select(i => (byte)i)];

    internal static List<(byte[] Data, int Interface, long Micros, bool HasTime, int Wire, PacketDirection Direction)> ReadAll(byte[] file, out PcapngReadStatus end, out string? error, out PcapngReader reader)
    {
        reader = new PcapngReader(new MemoryStream(file));
        var list = new List<(byte[], int, long, bool, int, PacketDirection)>();
        PcapngReadStatus status;
        while ((status = reader.Read(out var p)) == PcapngReadStatus.Packet)
        {
            list.Add((p.Data.ToArray(), p.Interface.Index, p.TimestampMicros, p.HasTimestamp, p.WireLength, p.Direction));
        }

        end = status;
        error = reader.Error;
        return list;
    }

    [Fact]
    public void Read_TwoInterfacesTwoSectionsBothByteOrders_EveryPacketWithItsInterface()
    {
        var file = new PcapngBuilder()
            .Section().Interface(1, 262_144, "eth1", tsresol: 9).Interface(1, 128, "eth2")
            .Packet(0, 1_700_000_000_123_456_789UL, Frame60)
            .Packet(1, 1_700_000_001_000_000UL, Frame60, flags: 2)
            .Section(bigEndian: true).Interface(101, 0, "tun0").Interface(1, 65_535, "eth3", tsresol: 0x80 | 20)
            .Packet(1, (1_700_000_002UL << 20) + (1UL << 19), Frame60, flags: 1)
            .Packet(0, 5_000_000, Frame60[..20])
            .ToArray();

        var packets = ReadAll(file, out var end, out var error, out var reader);

        Assert.Equal(PcapngReadStatus.End, end);
        Assert.Null(error);
        Assert.Equal(2, reader.Sections);
        Assert.Equal(["eth1", "eth2", "tun0", "eth3"], reader.Interfaces.Select(i => i.Name));
        Assert.Equal([1, 1, 101, 1], reader.Interfaces.Select(i => i.LinkType));
        Assert.Equal([0, 1, 3, 2], packets.Select(p => p.Interface));
        Assert.Equal(1_700_000_000_123_456L, packets[0].Micros);
        Assert.Equal(1_700_000_001_000_000L, packets[1].Micros);
        Assert.Equal(1_700_000_002_500_000L, packets[2].Micros);
        Assert.Equal(5_000_000L, packets[3].Micros);
        Assert.Equal([PacketDirection.Unknown, PacketDirection.Outbound, PacketDirection.Inbound, PacketDirection.Unknown], packets.Select(p => p.Direction));
        Assert.Equal(Frame60, packets[2].Data);
        Assert.Equal(Frame60[..20], packets[3].Data);
    }

    [Fact]
    public void Read_CapturedBeyondInterfaceSnapLength_CutToItAndWireKept()
    {
        var file = new PcapngBuilder().Section().Interface(1, 32).Packet(0, 0, Frame60).ToArray();

        var (data, _, _, _, wire, _) = Assert.Single(ReadAll(file, out var end, out _, out _));

        Assert.Equal(PcapngReadStatus.End, end);
        Assert.Equal(32, data.Length);
        Assert.Equal(60, wire);
    }

    [Fact]
    public void Read_TimestampThatOverflowsMicroseconds_Saturates()
    {
        // if_tsresol 10^0: seconds; 2^64-1 seconds is far beyond what 64-bit microseconds hold.
        var file = new PcapngBuilder().Section().Interface(1, 0, tsresol: 0).Packet(0, ulong.MaxValue, Frame60)
            .Section().Interface(1, 0, tsoffset: long.MinValue / 2).Packet(0, 0, Frame60).ToArray();

        var packets = ReadAll(file, out var end, out _, out _);

        Assert.Equal(PcapngReadStatus.End, end);
        Assert.Equal([long.MaxValue, long.MinValue], packets.Select(p => p.Micros));
    }

    [Fact]
    public void Read_SimplePacket_NoTimestampInterfaceZero()
    {
        var file = new PcapngBuilder().Section().Interface(1, 0).SimplePacket(Frame60[..13]).ToArray();

        var p = Assert.Single(ReadAll(file, out _, out _, out _));

        Assert.False(p.HasTime);
        Assert.Equal(Frame60[..13], p.Data);
    }

    [Fact]
    public void Read_InterfaceNameWithEscapeSequences_ControlCharactersReplaced()
    {
        var file = new PcapngBuilder().Section().Interface(1, 0, "eth\u001b[31m1\n").ToArray();

        ReadAll(file, out _, out _, out var reader);

        Assert.Equal("eth?[31m1?", Assert.Single(reader.Interfaces).Name);
    }

    public static TheoryData<string, byte[], string> Malformed => new()
    {
        { "empty file", [], "empty" },
        { "no section header first", new PcapngBuilder().Interface().ToArray(), "not a pcapng file" },
        { "unknown byte-order magic", new PcapngBuilder().Section().ToArray().Select((b, i) => i == 8 ? (byte)0x99 : b).ToArray(), "byte-order magic" },
        { "pcapng version 2", new PcapngBuilder().Section(major: 2).ToArray(), "version 2" },
        { "block length zero", new PcapngBuilder().Section().Block(1, new byte[8], length: 0).ToArray(), "claims 0 bytes" },
        { "block length not a multiple of 4", new PcapngBuilder().Section().Block(1, new byte[8], length: 21).ToArray(), "multiple of 4" },
        { "block length 4 GiB", new PcapngBuilder().Section().Block(1, new byte[8], length: uint.MaxValue).ToArray(), "more than" },
        { "block length past the end of file", new PcapngBuilder().Section().Block(1, new byte[8], length: 1024).ToArray(), "ends inside a block" },
        { "trailing length differs", new PcapngBuilder().Section().Block(1, new byte[8], trailer: 24).ToArray(), "at its end" },
        { "cut inside a block header", new PcapngBuilder().Section().Raw(1, 0, 0).ToArray(), "into a block header" },
        { "interface block too short", new PcapngBuilder().Section().Block(1, new byte[4]).ToArray(), "interface description" },
        { "interface option longer than the block", new PcapngBuilder().Section().Block(1, [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 200, 0]).ToArray(), "option 2 claims 200" },
        { "if_tsresol finer than 10^-19", new PcapngBuilder().Section().Interface(tsresol: 20).ToArray(), "if_tsresol" },
        { "packet before any interface", new PcapngBuilder().Section().Packet(0, 0, Frame60).ToArray(), "describes 0 interfaces" },
        { "packet on an interface of the previous section", new PcapngBuilder().Section().Interface().Interface().Section().Interface().Packet(1, 0, Frame60).ToArray(), "describes 1 interface" },
        { "captured length beyond the block", new PcapngBuilder().Section().Interface().Block(6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 60, 0, 0, 0]).ToArray(), "captured bytes" },
        { "packet block too short", new PcapngBuilder().Section().Interface().Block(6, new byte[8]).ToArray(), "packet block" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Read_Malformed_ErrorNamingTheDefect(string because, byte[] file, string expected)
    {
        ReadAll(file, out var end, out var error, out var reader);

        Assert.True(PcapngReadStatus.Error == end, because);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(PcapngReadStatus.Error, reader.Read(out _));
    }

    [Fact]
    public void Read_DamageAfterGoodPackets_PacketsFirstThenError()
    {
        var good = new PcapngBuilder().Section().Interface().Packet(0, 1, Frame60).Packet(0, 2, Frame60).ToArray();
        var file = good.Concat(new PcapngBuilder().Packet(0, 3, Frame60).ToArray()[..30]).ToArray();

        var packets = ReadAll(file, out var end, out var error, out _);

        Assert.Equal(2, packets.Count);
        Assert.Equal(PcapngReadStatus.Error, end);
        Assert.Contains($"at byte {good.Length}", error, StringComparison.Ordinal);
    }
}
