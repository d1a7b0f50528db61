using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.Policy;
using Appliance.TestSupport.Frames;
using static Appliance.TestSupport.Frames.GateSite;

namespace Appliance.Transport.PcapFile.Tests;

public sealed class PcapReplayTests
{
    private const string Dns = SiteDns;

    /// <summary>A short site day, one frame per line of the expected verdict table below.</summary>
    private static byte[][] Capture() =>
    [
        // 0: the NVR opens RTSP to the camera
        Frames.Tcp(Frames.NvrMac, Frames.CameraMac, Nvr, Camera, 50000, 554, TcpFlags.Syn).Seq(100).ToArray(),
        // 1: the camera answers
        Frames.Tcp(Frames.CameraMac, Frames.NvrMac, Camera, Nvr, 554, 50000, TcpFlags.Syn | TcpFlags.Ack).Seq(900).Ack(101).ToArray(),
        // 2: the NVR completes the handshake
        Frames.Tcp(Frames.NvrMac, Frames.CameraMac, Nvr, Camera, 50000, 554, TcpFlags.Ack).Seq(101).Ack(901).ToArray(),
        // 3: stream data from the camera
        Frames.Tcp(Frames.CameraMac, Frames.NvrMac, Camera, Nvr, 554, 50000, TcpFlags.Ack | TcpFlags.Psh).Seq(901).Ack(101).Payload(new byte[1200]).ToArray(),
        // 4: the camera phones home to its vendor cloud
        Frames.Tcp(Frames.CameraMac, Frames.RouterMac, Camera, Cloud, 41000, 443, TcpFlags.Syn).ToArray(),
        // 5: an internet host tries the camera's web page
        Frames.Tcp(Frames.RouterMac, Frames.CameraMac, Internet, Camera, 52000, 80, TcpFlags.Syn).ToArray(),
        // 6: DNS to the site resolver
        Frames.Udp(Frames.CameraMac, Frames.NvrMac, Camera, Dns, 40000, 53).Payload(1, 2, 3, 4).ToArray(),
        // 7: its answer
        Frames.Udp(Frames.NvrMac, Frames.CameraMac, Dns, Camera, 53, 40000).Payload(5, 6, 7, 8).ToArray(),
        // 8: DNS to a public-looking resolver
        Frames.Udp(Frames.CameraMac, Frames.RouterMac, Camera, PublicResolver, 40001, 53).Payload(1, 2, 3, 4).ToArray(),
        // 9: a SYN-ACK nobody asked for
        Frames.Tcp(Frames.RouterMac, Frames.CameraMac, Internet, Camera, 443, 41001, TcpFlags.Syn | TcpFlags.Ack).ToArray(),
        // 10: ten bytes: not even an Ethernet header
        new byte[10],
    ];

    private static (PacketEngine Engine, CameraSideClassifier Classifier) Load(TempDir dir)
    {
        var policyDir = Directory.CreateDirectory(dir.File("policy")).FullName;
        File.WriteAllText(Path.Combine(policyDir, "site.yaml"), PolicyYaml);
        var load = PolicyLoader.LoadDirectory(policyDir);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        var holder = new PolicyHolder();
        holder.Swap(CompiledPolicy.Compile(load.Spec!, holder.NextVersion(), holder.Slots));
        return (new PacketEngine(holder), new CameraSideClassifier(load.Spec!));
    }

    private static string WriteCapture(TempDir dir, byte[][] frames)
    {
        var path = dir.File("site.pcap");
        using var writer = PcapFileWriter.Create(path);
        for (var i = 0; i < frames.Length; i++)
        {
            writer.Write(frames[i], 1_700_000_000_000_000L + (i * 10_000L));
        }

        return path;
    }

    [Fact]
    public void Run_SiteCapture_VerdictFileMatchesLineByLine()
    {
        using var dir = new TempDir();
        var (engine, classifier) = Load(dir);
        var capture = WriteCapture(dir, Capture());
        using var tsv = new StringWriter();

        var result = PcapReplay.Run(capture, engine, classifier, new ReplayOutputs { Verdicts = tsv });

        var lines = tsv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] expected =
        [
            "0\tpass\trule-match\trtsp-from-nvr",
            "1\tpass\testablished-flow\t-",
            "2\tpass\testablished-flow\t-",
            "3\tpass\testablished-flow\t-",
            "4\tdrop\tno-rule-matched\t-",
            "5\tdrop\tno-rule-matched\t-",
            "6\tpass\trule-match\tsite-dns",
            "7\tpass\testablished-flow\t-",
            "8\tdrop\tno-rule-matched\t-",
            "9\tdrop\ttcp-state-bypass\t-",
            "10\tdrop\ttruncated-ethernet\t-",
        ];
        Assert.Equal(expected, lines);
        Assert.Equal(11, result.Frames);
        Assert.Equal(6, result.FramesPassed);
        Assert.Equal(5, result.FramesDropped);
    }

    [Fact]
    public void Run_SiteCapture_SummaryPerCamera()
    {
        using var dir = new TempDir();
        var (engine, classifier) = Load(dir);
        var frames = Capture();
        var capture = WriteCapture(dir, frames);

        var result = PcapReplay.Run(capture, engine, classifier);

        var gate = Assert.Single(result.Cameras, c => c.Name == "gate");
        Assert.Equal(6, gate.FramesPassed);
        Assert.Equal(frames[0].Length + frames[1].Length + frames[2].Length + frames[3].Length + frames[6].Length + frames[7].Length, gate.BytesPassed);
        Assert.Equal(4, gate.FramesDropped);
        Assert.Equal((Core.Reason.NoRuleMatched, 3L), gate.DropReasons[0]);
        Assert.Contains((Core.Reason.TruncatedEthernet, 1L), result.ReasonTotals);
    }

    [Fact]
    public void Run_WritePassedAndDropped_SplitsTheCapture()
    {
        using var dir = new TempDir();
        var (engine, classifier) = Load(dir);
        var frames = Capture();
        var capture = WriteCapture(dir, frames);

        PcapReplay.Run(capture, engine, classifier, new ReplayOutputs { PassedPath = dir.File("passed.pcap"), DroppedPath = dir.File("dropped.pcap") });

        using var passed = PcapFilePort.OpenRead(dir.File("passed.pcap"));
        using var dropped = PcapFilePort.OpenRead(dir.File("dropped.pcap"));
        Assert.Equal(new[] { 0, 1, 2, 3, 6, 7 }.Select(i => frames[i]), Collect.All(passed).Select(f => f.Frame));
        Assert.Equal(new[] { 4, 5, 8, 9, 10 }.Select(i => frames[i]), Collect.All(dropped).Select(f => f.Frame));
    }

    [Fact]
    public void Run_FlowExpiredBetweenFrames_ReplyDropped()
    {
        // The capture's clock drives the engine: a DNS answer three minutes after the query finds no flow.
        using var dir = new TempDir();
        var (engine, classifier) = Load(dir);
        var frames = Capture();
        var path = dir.File("late.pcap");
        using (var writer = PcapFileWriter.Create(path))
        {
            writer.Write(frames[6], 1_700_000_000_000_000L);
            writer.Write(frames[7], 1_700_000_180_000_000L);
        }

        using var tsv = new StringWriter();
        PcapReplay.Run(path, engine, classifier, new ReplayOutputs { Verdicts = tsv });

        var lines = tsv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0\tpass\trule-match\tsite-dns", lines[0]);
        Assert.StartsWith("1\tdrop\t", lines[1], StringComparison.Ordinal);
    }
}
