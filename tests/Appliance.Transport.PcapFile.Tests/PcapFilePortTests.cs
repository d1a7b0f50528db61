using System.Diagnostics;
using Appliance.TestSupport.Frames;

namespace Appliance.Transport.PcapFile.Tests;

public sealed class PcapFilePortTests
{
    private static readonly byte[][] Sample =
    [
        Frames.Udp(Frames.CameraMac, Frames.NvrMac, "192.0.2.10", "192.0.2.53", 40000, 53).Payload(1, 2, 3).ToArray(),
        Frames.Tcp(Frames.NvrMac, Frames.CameraMac, "192.0.2.20", "192.0.2.10", 50000, 554, Core.Wire.TcpFlags.Syn).ToArray(),
        Frames.ArpRequest(Frames.CameraMac, "192.0.2.10", "192.0.2.1").ToArray(),
    ];

    [Fact]
    public void Write_ThenRead_SameFramesAndTimestamps()
    {
        using var dir = new TempDir();
        var path = dir.File("round.pcap");
        using (var writer = PcapFileWriter.Create(path))
        {
            for (var i = 0; i < Sample.Length; i++)
            {
                writer.Write(Sample[i], 1_700_000_000_000_000L + (i * 1_500_001L));
            }

            Assert.Equal(3, writer.FramesWritten);
        }

        using var reader = PcapFilePort.OpenRead(path);
        var frames = Collect.All(reader);

        Assert.Equal(PortLinkType.Ethernet, reader.LinkType);
        Assert.True(reader.IsCompleted);
        Assert.Equal(Sample.Length, frames.Count);
        for (var i = 0; i < Sample.Length; i++)
        {
            Assert.Equal(Sample[i], frames[i].Frame);
            Assert.Equal(1_700_000_000_000_000L + (i * 1_500_001L), frames[i].Meta.TimestampMicros);
            Assert.Equal(Sample[i].Length, frames[i].Meta.WireLength);
        }
    }

    [Fact]
    public void Write_RawIpLinkType_ReadsBackAsRawIp()
    {
        using var dir = new TempDir();
        var path = dir.File("raw.pcap");
        var packet = Frames.Ip("192.0.2.10", "198.51.100.1").Udp(1, 2).ToArray();
        using (var writer = PcapFileWriter.Create(path, PortLinkType.RawIp))
        {
            writer.Write(packet, 0);
        }

        using var reader = PcapFilePort.OpenRead(path);
        var frames = Collect.All(reader);

        Assert.Equal(PortLinkType.RawIp, reader.LinkType);
        Assert.Equal(packet, Assert.Single(frames).Frame);
    }

    [Fact]
    public void Write_WireLongerThanCaptured_ReadsBackTruncated()
    {
        using var dir = new TempDir();
        var path = dir.File("cut.pcap");
        using (var writer = PcapFileWriter.Create(path))
        {
            writer.Write(Sample[0].AsSpan(0, 20), 0, wireLength: Sample[0].Length);
        }

        using var reader = PcapFilePort.OpenRead(path);
        var (frame, meta) = Assert.Single(Collect.All(reader));

        Assert.Equal(20, frame.Length);
        Assert.Equal(Sample[0].Length, meta.WireLength);
        Assert.Equal(1, reader.GetStatistics().Truncated);
    }

    [Fact]
    public void OpenRead_Pcapng_ReadsEveryFrame()
    {
        using var dir = new TempDir();
        var path = dir.File("scapy.pcapng");
        var script = $"""
            from scapy.all import Ether, IP, UDP, Raw, wrpcapng
            pkts = []
            for i in range(5):
                p = Ether(src='02:00:00:00:0c:01', dst='02:00:00:00:0a:01')/IP(src='192.0.2.10', dst='192.0.2.53')/UDP(sport=40000+i, dport=53)/Raw(b'q' * (i + 1))
                p.time = 1700000000 + i
                pkts.append(p)
            wrpcapng('{path}', pkts)
            """;
        RunPython(script);

        using var reader = PcapFilePort.OpenRead(path);
        var frames = Collect.All(reader);

        Assert.Equal(5, frames.Count);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(14 + 20 + 8 + i + 1, frames[i].Frame.Length);
            Assert.Equal((1_700_000_000L + i) * 1_000_000L, frames[i].Meta.TimestampMicros);
            Assert.Equal((byte)'q', frames[i].Frame[^1]);
        }
    }

    [Fact]
    public void OpenRead_MissingFile_ThrowsNamingIt()
    {
        var ex = Assert.Throws<PacketPortException>(() => PcapFilePort.OpenRead("/nonexistent/camfw-missing.pcap"));
        Assert.Contains("camfw-missing.pcap", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenRead_NotACapture_ThrowsWithLibpcapReason()
    {
        using var dir = new TempDir();
        var path = dir.File("text.pcap");
        File.WriteAllText(path, "this is not a capture file at all");

        var ex = Assert.Throws<PacketPortException>(() => PcapFilePort.OpenRead(path));
        Assert.Contains("text.pcap", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrySend_ReadOnlyPort_RefusedAndCounted()
    {
        using var dir = new TempDir();
        var path = dir.File("in.pcap");
        using (var writer = PcapFileWriter.Create(path))
        {
            writer.Write(Sample[0], 0);
        }

        using var port = PcapFilePort.OpenRead(path);

        Assert.False(port.TrySend(Sample[1]));
        Assert.Equal(1, port.GetStatistics().SendErrors);
    }

    [Fact]
    public void TapPort_RecordsReceivedAndSentFrames_AndPassesThemOn()
    {
        using var dir = new TempDir();
        using var inner = new InMemoryPort("mem");
        using (var tap = new PcapTapPort(inner, PcapFileWriter.Create(dir.File("rx.pcap")), PcapFileWriter.Create(dir.File("tx.pcap"))))
        {
            inner.Inject(Sample[0], 42);
            inner.Inject(Sample[1], 43);
            var received = Collect.All(tap);
            Assert.Equal(2, received.Count);
            Assert.Equal(Sample[1], received[1].Frame);
            Assert.True(tap.TrySend(Sample[2]));
        }

        using var rx = PcapFilePort.OpenRead(dir.File("rx.pcap"));
        using var tx = PcapFilePort.OpenRead(dir.File("tx.pcap"));
        var rxFrames = Collect.All(rx);
        Assert.Equal([Sample[0], Sample[1]], rxFrames.Select(f => f.Frame));
        Assert.Equal(42, rxFrames[0].Meta.TimestampMicros);
        Assert.Equal(Sample[2], Assert.Single(Collect.All(tx)).Frame);
    }

    [Fact]
    public void TapPort_HandlerKeepsItsStateInAField_TheCallerSeesIt()
    {
        // The tap hands the frames on through a handler of its own; what the caller's handler (a struct) changes in
        // itself while handling them must come back to the caller's copy, as when it is passed straight to a port.
        using var dir = new TempDir();
        using var inner = new InMemoryPort("mem");
        using var tap = new PcapTapPort(inner, PcapFileWriter.Create(dir.File("rx.pcap")));
        inner.Inject(Sample[0], 1);
        inner.Inject(Sample[1], 2);
        inner.Inject(Sample[2], 3);
        var counter = default(CountBytes);

        Assert.Equal(2, tap.Receive(ref counter, 2));
        Assert.Equal(1, tap.Receive(ref counter, 2));

        Assert.Equal(3, counter.Frames);
        Assert.Equal(Sample.Sum(f => f.Length), counter.Bytes);
    }

    [Fact]
    public void TapPort_OverAnotherTapPort_BothRecordEveryFrame()
    {
        using var dir = new TempDir();
        using var inner = new InMemoryPort("mem");
        using (var outer = new PcapTapPort(new PcapTapPort(inner, PcapFileWriter.Create(dir.File("inner.pcap"))), PcapFileWriter.Create(dir.File("outer.pcap"))))
        {
            inner.Inject(Sample[0], 7);
            inner.Inject(Sample[1], 8);
            Assert.Equal([Sample[0], Sample[1]], Collect.All(outer).Select(f => f.Frame));
        }

        foreach (var name in new[] { "inner.pcap", "outer.pcap" })
        {
            using var file = PcapFilePort.OpenRead(dir.File(name));
            Assert.Equal([Sample[0], Sample[1]], Collect.All(file).Select(f => f.Frame));
        }
    }

    internal static void RunPython(string script)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(script);
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "python3 timed out");
        Assert.True(p.ExitCode == 0, $"python3 failed: {err}");
    }

    /// <summary>Keeps its counts in itself (no reference to shared state): only a copy handed back is seen.</summary>
    private struct CountBytes : IFrameHandler
    {
        public int Frames;
        public long Bytes;

        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata)
        {
            Frames++;
            Bytes += frame.Length;
        }
    }
}
