using Appliance.TestSupport.Tools;
using Appliance.Transport.PcapFile.Pcapng;

namespace Appliance.Transport.PcapFile.Tests.Pcapng;

/// <summary>
/// The reader against files other tools wrote, and against scapy's own pcapng reader: same frames, same bytes, same
/// interfaces. Includes the files libpcap refuses (several interfaces and sections, a big-endian section).
/// </summary>
public sealed class PcapngScapyCrossCheckTests
{
    /// <summary>
    /// Python that writes a pcapng as dumpcap does for two ports (section header with shb_userappl, one interface
    /// description per port with if_name and if_tsresol, enhanced packet blocks with epb_flags, an interface
    /// statistics block), then a second section in big-endian byte order with its own interfaces (one raw IP),
    /// and prints what scapy's RawPcapNgReader reads back: one line per frame, its bytes in hex.
    /// </summary>
    private static string TwoSectionScript(string path) => $$"""
        import struct
        from scapy.all import Ether, IP, IPv6, UDP, TCP, Raw
        from scapy.utils import RawPcapNgReader

        def opt(e, code, value):
            return struct.pack(e + 'HH', code, len(value)) + value + b'\0' * (-len(value) % 4)

        def block(e, btype, body):
            body += b'\0' * (-len(body) % 4)
            n = 12 + len(body)
            head = b'\x0a\x0d\x0d\x0a' if btype == 0x0A0D0D0A else struct.pack(e + 'I', btype)
            return head + struct.pack(e + 'I', n) + body + struct.pack(e + 'I', n)

        def shb(e):
            return block(e, 0x0A0D0D0A, struct.pack(e + 'IHHq', 0x1A2B3C4D, 1, 0, -1) + opt(e, 4, b'Dumpcap (Wireshark) 4.0.17') + opt(e, 0, b''))

        def idb(e, linktype, snap, name, tsresol=6):
            return block(e, 1, struct.pack(e + 'HHI', linktype, 0, snap) + opt(e, 2, name) + opt(e, 9, bytes([tsresol])) + opt(e, 0, b''))

        def epb(e, iface, ts, data, flags=None, orig=None):
            body = struct.pack(e + 'IIIII', iface, ts >> 32, ts & 0xffffffff, len(data), orig or len(data)) + data + b'\0' * (-len(data) % 4)
            if flags is not None:
                body += opt(e, 2, struct.pack(e + 'I', flags)) + opt(e, 0, b'')
            return block(e, 6, body)

        def isb(e, iface):
            return block(e, 5, struct.pack(e + 'III', iface, 0, 0))

        cam = bytes(Ether(src='02:00:00:00:0c:01', dst='02:00:00:00:0a:01')/IP(src='192.0.2.10', dst='192.0.2.53')/UDP(sport=40000, dport=53)/Raw(b'query'))
        ans = bytes(Ether(src='02:00:00:00:0a:01', dst='02:00:00:00:0c:01')/IP(src='192.0.2.53', dst='192.0.2.10')/UDP(sport=53, dport=40000)/Raw(b'answer'))
        big = bytes(Ether(src='02:00:00:00:0a:01', dst='02:00:00:00:0c:01')/IP(src='192.0.2.20', dst='192.0.2.10')/TCP(sport=50000, dport=554, flags='A')/Raw(b'x' * 1400))
        raw = bytes(IP(src='192.0.2.10', dst='192.0.2.53')/UDP(sport=40001, dport=53)/Raw(b'raw'))
        raw6 = bytes(IPv6(src='2001:db8::10', dst='2001:db8::53')/UDP(sport=40002, dport=53))
        t = 1700000000 * 10**9
        le = '<'
        out = shb(le) + idb(le, 1, 262144, b'cam', 9) + idb(le, 1, 96, b'up', 6)
        out += epb(le, 0, t + 1000, cam, flags=1)
        out += epb(le, 1, (t + 2000) // 1000, cam, flags=2)
        out += epb(le, 1, (t + 3000) // 1000, ans, flags=1)
        out += epb(le, 0, t + 4000, ans, flags=2)
        out += epb(le, 1, (t + 5000) // 1000, big[:96], orig=len(big))
        out += isb(le, 0) + isb(le, 1)
        be = '>'
        out += shb(be) + idb(be, 1, 262144, b'cam', 6) + idb(be, 101, 65535, b'tun0', 6)
        out += epb(be, 1, (t + 6000) // 1000, raw)
        out += epb(be, 0, (t + 7000) // 1000, cam)
        out += epb(be, 1, (t + 8000) // 1000, raw6)
        open('{{path}}', 'wb').write(out)

        r = RawPcapNgReader('{{path}}')
        n = 0
        for data, meta in r:
            print(data.hex())
            n += 1
        print('count', n)
        """;

    private static List<string> ScapyFrames(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("count ", lines[^1], StringComparison.Ordinal);
        var frames = lines[..^1].ToList();
        Assert.Equal(int.Parse(lines[^1]["count ".Length..], System.Globalization.CultureInfo.InvariantCulture), frames.Count);
        return frames;
    }

    [Fact]
    public void Read_DumpcapStyleTwoPortsTwoSectionsBigEndian_SameFramesAsScapy()
    {
        using var dir = new TempDir();
        var path = dir.File("two-ports.pcapng");
        var scapy = ScapyFrames(SystemPython.Run(TwoSectionScript(path)));

        var packets = PcapngReaderTests.ReadAll(File.ReadAllBytes(path), out var end, out var error, out var reader);

        Assert.True(end == PcapngReadStatus.End, error);
        Assert.Equal(8, scapy.Count);
        Assert.Equal(scapy, packets.Select(p => Convert.ToHexStringLower(p.Data)));
        Assert.Equal(["cam", "up", "cam", "tun0"], reader.Interfaces.Select(i => i.Name));
        Assert.Equal([0, 1, 1, 0, 1, 3, 2, 3], packets.Select(p => p.Interface));
        Assert.Equal(1_700_000_000_000_001L, packets[0].Micros);
        Assert.Equal(1_700_000_000_000_008L, packets[7].Micros);
        Assert.Equal(96, packets[4].Data.Length);
        Assert.True(packets[4].Wire > 96);
    }

    [Fact]
    public void Read_MergecapOfTwoSnapLengths_SameFramesAsScapyAndTshark()
    {
        // mergecap (Wireshark's wiretap, the writer dumpcap uses) keeps one interface per input when the inputs'
        // snapshot lengths differ: the multi-interface case libpcap refuses.
        using var dir = new TempDir();
        var a = dir.File("a.pcap");
        var b = dir.File("b.pcap");
        var merged = dir.File("merged.pcapng");
        SystemPython.Run($$"""
            from scapy.all import Ether, IP, UDP, Raw, wrpcap
            def pkts(n, base, src):
                out = []
                for i in range(n):
                    p = Ether(src=src, dst='02:00:00:00:0a:01')/IP(src='192.0.2.10', dst='192.0.2.53')/UDP(sport=40000 + i, dport=53)/Raw(b'q' * i)
                    p.time = base + i * 0.25
                    out.append(p)
                return out
            wrpcap('{{a}}', pkts(7, 1700000000, '02:00:00:00:0c:01'), snaplen=65535)
            wrpcap('{{b}}', pkts(5, 1700000000.1, '02:00:00:00:0c:02'), snaplen=262144)
            """);
        SystemPython.Tool("/usr/bin/mergecap", "-F", "pcapng", "-w", merged, a, b);
        var scapy = ScapyFrames(SystemPython.Run($"""
            from scapy.utils import RawPcapNgReader
            n = 0
            for data, meta in RawPcapNgReader('{merged}'):
                print(data.hex())
                n += 1
            print('count', n)
            """));
        var tshark = SystemPython.Tool("/usr/bin/tshark", "-n", "-r", merged, "-T", "fields", "-e", "frame.interface_id")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var packets = PcapngReaderTests.ReadAll(File.ReadAllBytes(merged), out var end, out var error, out var reader);

        Assert.True(end == PcapngReadStatus.End, error);
        Assert.Equal(12, scapy.Count);
        Assert.Equal(scapy, packets.Select(p => Convert.ToHexStringLower(p.Data)));
        Assert.Equal(tshark, packets.Select(p => p.Interface.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(2, reader.Interfaces.Count);
        Assert.Equal(new uint[] { 65535, 262144 }, reader.Interfaces.Select(i => i.SnapLength));
    }
}
