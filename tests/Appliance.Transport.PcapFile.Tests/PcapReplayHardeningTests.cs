using System.Buffers.Binary;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.Policy;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Tools;
using Appliance.Transport.PcapFile.Tests.Pcapng;
using FsCheck;
using FsCheck.Fluent;
using static Appliance.TestSupport.Frames.GateSite;

namespace Appliance.Transport.PcapFile.Tests;

/// <summary>Replay against damaged clocks, rogue devices on the camera switch, multi-port captures and failing runs.</summary>
public sealed class PcapReplayHardeningTests
{
    private const string Dns = SiteDns;
    private static readonly MacAddress RogueMac = Frames.Mac("02:00:00:00:0b:ad");

    private static byte[] DhcpOffer => Frames.Udp(Frames.RouterMac, Frames.CameraMac, "192.0.2.1", Camera, 67, 68).Payload(new byte[240]).ToArray();

    private static byte[] DnsQuery => Frames.Udp(Frames.CameraMac, Frames.NvrMac, Camera, Dns, 40000, 53).Payload(1, 2, 3, 4).ToArray();

    private static byte[] DnsAnswer => Frames.Udp(Frames.NvrMac, Frames.CameraMac, Dns, Camera, 53, 40000).Payload(5, 6, 7, 8).ToArray();

    /// <summary>A box on the camera switch using the NVR's address to open RTSP on the camera.</summary>
    private static byte[] RogueAsNvr => Frames.Tcp(RogueMac, Frames.CameraMac, Nvr, Camera, 50000, 554, TcpFlags.Syn).ToArray();

    private static (PacketEngine Engine, PolicySpec Spec) Load(TempDir dir)
    {
        var policyDir = Directory.CreateDirectory(dir.File("policy")).FullName;
        File.WriteAllText(Path.Combine(policyDir, "site.yaml"), PolicyYaml);
        var load = PolicyLoader.LoadDirectory(policyDir);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        var holder = new PolicyHolder();
        holder.Swap(CompiledPolicy.Compile(load.Spec!, holder.NextVersion(), holder.Slots));
        return (new PacketEngine(holder), load.Spec!);
    }

    private static string WritePcap(TempDir dir, string name, params (byte[] Frame, long Micros)[] frames)
    {
        var path = dir.File(name);
        using var writer = PcapFileWriter.Create(path);
        foreach (var (frame, micros) in frames)
        {
            writer.Write(frame, micros);
        }

        return path;
    }

    private static string[] Lines(StringWriter tsv) => tsv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    // ---- 1. Capture timestamps ----

    [Fact]
    public void Run_NegativeTimestamp_UnsolicitedDhcpOfferDropped()
    {
        // With the capture's negative time as the engine clock, "asked until 0" was in the future: every camera
        // looked mid-DHCP and an offer nobody asked for passed as dhcp-allowed.
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var capture = WritePcap(dir, "negative.pcap", (DhcpOffer, -5_000_000L));
        using var tsv = new StringWriter();

        var result = PcapReplay.Run(capture, engine, new CameraSideClassifier(spec), new ReplayOutputs { Verdicts = tsv });

        Assert.StartsWith("0\tdrop\t", Assert.Single(Lines(tsv)), StringComparison.Ordinal);
        Assert.Equal(1, result.Clock.Negative);
        Assert.Equal(0, result.Clock.NowMicros);
    }

    [Fact]
    public void Run_PcapngTimestampOverflowingMicroseconds_ClampedAndOfferDropped()
    {
        // if_tsresol 10^0 (seconds) and a time whose microseconds overflow 64 bits: read through libpcap, the
        // product wrapped negative and the offer passed.
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var path = dir.File("overflow.pcapng");
        File.WriteAllBytes(path, new PcapngBuilder().Section().Interface(1, 0, tsresol: 0).Packet(0, 9_223_372_036_855UL, DhcpOffer).ToArray());
        using var tsv = new StringWriter();

        var result = PcapReplay.Run(path, engine, new CameraSideClassifier(spec), new ReplayOutputs { Verdicts = tsv });

        Assert.StartsWith("0\tdrop\t", Assert.Single(Lines(tsv)), StringComparison.Ordinal);
        Assert.Equal(1, result.Clock.OutOfRange);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Run_BackwardsTimestamps_CountedAndClockHeld()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var capture = WritePcap(dir, "backwards.pcap", (DnsQuery, 1_700_000_010_000_000L), (DnsAnswer, 1_700_000_000_000_000L), (DnsQuery, 1_700_000_020_000_000L));

        var result = PcapReplay.Run(capture, engine, new CameraSideClassifier(spec));

        Assert.Equal(1, result.Clock.Backwards);
        Assert.Equal(1_700_000_020_000_000L, result.Clock.NowMicros);
        Assert.Equal(3, result.Frames);
    }

    [Fact]
    public void Advance_AnyTimestamps_ClockMonotonicNonNegativeAndEveryFrameCounted()
        => Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(
            Arb.From(Gen.ArrayOf(Gen.OneOf(
                Gen.Elements(long.MinValue, -1L, 0L, 1L, ReplayClock.MaxMicros, ReplayClock.MaxMicros + 1, long.MaxValue),
                Gen.Choose(-1000, 1000).Select(x => 1_700_000_000_000_000L + (x * 1_000_000L)),
                ArbMap.Default.GeneratorFor<long>()))),
            timestamps =>
            {
                var clock = default(ReplayClock);
                var previous = 0L;
                var accepted = 0;
                foreach (var ts in timestamps)
                {
                    var now = clock.Advance(ts);
                    if (now < previous || now < 0 || now > ReplayClock.MaxMicros)
                    {
                        return false;
                    }

                    accepted += now == ts && ts >= previous ? 1 : 0;
                    previous = now;
                }

                return accepted + clock.Clamped == timestamps.Length;
            }));

    // ---- 2. Sides ----

    [Fact]
    public void Run_RogueOnCameraSwitchNotNamed_JudgedAsUplinkHost()
    {
        // What a capture alone cannot tell: without --camera-side the box passes for the NVR. Kept as the
        // documented limit, and as the control for the test below.
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var capture = WritePcap(dir, "rogue.pcap", (RogueAsNvr, 1_700_000_000_000_000L));
        using var tsv = new StringWriter();

        var result = PcapReplay.Run(capture, engine, new CameraSideClassifier(spec), new ReplayOutputs { Verdicts = tsv });

        Assert.Equal("0\tpass\trule-match\trtsp-from-nvr", Assert.Single(Lines(tsv)));
        Assert.Equal(1, result.Sides.UplinkByDefault);
    }

    [Theory]
    [InlineData("mac")]
    [InlineData("cidr")]
    public void Run_RogueOnCameraSwitchNamedCameraSide_UnknownDevice(string how)
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var capture = WritePcap(dir, "rogue.pcap", (RogueAsNvr, 1_700_000_000_000_000L), (DnsQuery, 1_700_000_000_100_000L));
        var classifier = how == "mac"
            ? new CameraSideClassifier(spec, [RogueMac], [])
            : new CameraSideClassifier(spec, [], [System.Net.IPNetwork.Parse("192.0.2.16/28")]);
        using var tsv = new StringWriter();

        var result = PcapReplay.Run(capture, engine, classifier, new ReplayOutputs { Verdicts = tsv });

        Assert.Equal(["0\tdrop\tunknown-device\t-", "1\tpass\trule-match\tsite-dns"], Lines(tsv));
        Assert.Equal(1, result.Sides.CameraByNamed);
        Assert.Equal(1, result.Sides.CameraByCameraAddress);
        Assert.Contains(result.Cameras, c => c.Name == "(no camera)" && c.FramesDropped == 1);
    }

    /// <summary>The two bridge ports recorded as dumpcap does: each forwarded frame once inbound, once outbound.</summary>
    private static byte[] TwoPortCapture()
    {
        const ulong t = 1_700_000_000_000_000UL;
        return new PcapngBuilder()
            .Section().Interface(1, 0, "cam").Interface(1, 0, "up")
            .Packet(0, t, DnsQuery, flags: 1)
            .Packet(1, t + 10, DnsQuery, flags: 2)
            .Packet(1, t + 20, DnsAnswer, flags: 1)
            .Packet(0, t + 30, DnsAnswer, flags: 2)
            .Packet(0, t + 40, RogueAsNvr, flags: 1)
            .ToArray();
    }

    [Fact]
    public void Run_TwoPortCaptureWithCameraInterface_RogueUnknownAndOutboundCopiesNotJudged()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var path = dir.File("two-ports.pcapng");
        File.WriteAllBytes(path, TwoPortCapture());
        using var tsv = new StringWriter();

        var result = PcapReplay.Run(path, engine, new CameraSideClassifier(spec), new ReplayOutputs { Verdicts = tsv }, new ReplaySides { CameraInterfaces = ["cam"] });

        Assert.Equal(
            [
                "0\tpass\trule-match\tsite-dns",
                "1\tskip\toutbound-copy\t-",
                "2\tpass\testablished-flow\t-",
                "3\tskip\toutbound-copy\t-",
                "4\tdrop\tunknown-device\t-",
            ],
            Lines(tsv));
        Assert.Null(result.Error);
        Assert.Equal(5, result.FramesRead);
        Assert.Equal(3, result.Frames);
        Assert.Equal(2, result.FramesOutboundCopies);
        Assert.Equal(2, result.Sides.CameraByInterface);
        Assert.Equal(1, result.Sides.UplinkByInterface);
    }

    [Fact]
    public void Run_CameraInterfaceNotInCapture_ErrorListsTheInterfaces()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var path = dir.File("two-ports.pcapng");
        File.WriteAllBytes(path, TwoPortCapture());

        var result = PcapReplay.Run(path, engine, new CameraSideClassifier(spec), sides: new ReplaySides { CameraInterfaces = ["eth9"] });

        Assert.Contains("--camera-interface eth9 names no interface", result.Error, StringComparison.Ordinal);
        Assert.Contains("0 cam, 1 up", result.Error, StringComparison.Ordinal);
        Assert.Equal(3, result.Frames);
    }

    // ---- 3. Multi-interface pcapng, failures part-way, outputs ----

    [Fact]
    public void Run_UnsupportedSecondInterface_OthersJudgedAndErrorNamesTheLinkType()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var path = dir.File("sll.pcapng");
        File.WriteAllBytes(path, new PcapngBuilder().Section().Interface(1, 0, "eth1").Interface(113, 0, "any")
            .Packet(0, 1, DnsQuery).Packet(1, 2, new byte[40]).Packet(0, 3, DnsAnswer).ToArray());

        var result = PcapReplay.Run(path, engine, new CameraSideClassifier(spec));

        Assert.Equal(2, result.Frames);
        Assert.Equal(2, result.FramesPassed);
        Assert.Equal(1, result.FramesUnsupportedLinkType);
        Assert.Contains("interface 1 (any, LINUX_SLL (113))", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EthernetAndRawIpInterfaces_BothJudged()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var path = dir.File("mixed.pcapng");
        var rawQuery = Frames.Ip(Camera, Dns).Udp(40001, 53).Payload(9).ToArray();
        File.WriteAllBytes(path, new PcapngBuilder().Section().Interface(1, 0).Interface(101, 0)
            .Packet(0, 1, DnsQuery).Packet(1, 2, rawQuery).Section(bigEndian: true).Interface(229, 0).Interface(228, 0)
            .Packet(1, 3, rawQuery).ToArray());
        using var tsv = new StringWriter();

        var result = PcapReplay.Run(path, engine, new CameraSideClassifier(spec), new ReplayOutputs { Verdicts = tsv });

        Assert.Null(result.Error);
        Assert.Equal(["0\tpass\trule-match\tsite-dns", "1\tpass\trule-match\tsite-dns", "2\tpass\testablished-flow\t-"], Lines(tsv));
    }

    [Fact]
    public void Run_CaptureCutShort_SummaryKeptAndExistingOutputsUntouched()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var whole = WritePcap(dir, "whole.pcap", (DnsQuery, 1_700_000_000_000_000L), (DnsAnswer, 1_700_000_000_010_000L), (DnsQuery, 1_700_000_000_020_000L));
        var bytes = File.ReadAllBytes(whole);
        var cut = dir.File("cut.pcap");
        File.WriteAllBytes(cut, bytes[..^10]);
        var verdicts = dir.File("verdicts.tsv");
        File.WriteAllText(verdicts, "yesterday's verdicts\n");
        var passed = dir.File("passed.pcap");

        var result = PcapReplay.Run(cut, engine, new CameraSideClassifier(spec), new ReplayOutputs { VerdictsPath = verdicts, PassedPath = passed });

        Assert.NotNull(result.Error);
        Assert.Equal(2, result.Frames);
        Assert.Equal(2, result.FramesPassed);
        Assert.False(result.OutputsWritten);
        Assert.Equal("yesterday's verdicts\n", File.ReadAllText(verdicts));
        Assert.False(File.Exists(passed));
        Assert.Equal(["cut.pcap", "policy", "verdicts.tsv", "whole.pcap"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Run_PcapngCutShort_SummaryKeptWithError()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var path = dir.File("cut.pcapng");
        var file = TwoPortCapture();
        File.WriteAllBytes(path, file[..^7]);

        var result = PcapReplay.Run(path, engine, new CameraSideClassifier(spec));

        Assert.Equal(4, result.FramesRead);
        Assert.Contains("ends inside a block", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WholeCapture_OutputsReplaceExistingFilesAtomically()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var capture = WritePcap(dir, "site.pcap", (DnsQuery, 1_700_000_000_000_000L), (RogueAsNvr, 1_700_000_000_001_000L));
        var verdicts = dir.File("verdicts.tsv");
        File.WriteAllText(verdicts, "old\n");

        var result = PcapReplay.Run(capture, engine, new CameraSideClassifier(spec), new ReplayOutputs { VerdictsPath = verdicts, PassedPath = dir.File("p.pcap"), DroppedPath = dir.File("d.pcap") });

        Assert.True(result.OutputsWritten);
        Assert.Equal("0\tpass\trule-match\tsite-dns\n1\tpass\trule-match\trtsp-from-nvr\n", File.ReadAllText(verdicts));
        using var p = PcapFilePort.OpenRead(dir.File("p.pcap"));
        Assert.Equal(2, Collect.All(p).Count);
        using var d = PcapFilePort.OpenRead(dir.File("d.pcap"));
        Assert.Empty(Collect.All(d));
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_OutputIsTheCapture_RefusedAndCaptureKept()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var capture = WritePcap(dir, "site.pcap", (DnsQuery, 1_700_000_000_000_000L));
        var before = File.ReadAllBytes(capture);

        var ex = Assert.Throws<PacketPortException>(() => PcapReplay.Run(capture, engine, new CameraSideClassifier(spec), new ReplayOutputs { PassedPath = capture }));

        Assert.Contains("--write-passed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(capture));
    }

    [Fact]
    public void OpenRead_PcapOfLinuxCookedCapture_MessageNamesTheLinkType()
    {
        using var dir = new TempDir();
        var path = dir.File("sll.pcap");
        var header = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 113);
        File.WriteAllBytes(path, header);

        var ex = Assert.Throws<PacketPortException>(() => PcapFilePort.OpenRead(path));

        Assert.Contains("LINUX_SLL (113)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DumpcapStyleScapyFile_FramesReadEqualScapyCount()
    {
        using var dir = new TempDir();
        var (engine, spec) = Load(dir);
        var path = dir.File("scapy.pcapng");
        var count = SystemPython.Run($$"""
            from scapy.all import Ether, IP, UDP, Raw, wrpcapng, rdpcap
            pkts = []
            for i in range(9):
                p = Ether(src='02:00:00:00:0c:01', dst='02:00:00:00:0a:01')/IP(src='192.0.2.10', dst='192.0.2.53')/UDP(sport=40000+i, dport=53)/Raw(b'q' * (i + 1))
                p.time = 1700000000 + i
                pkts.append(p)
            wrpcapng('{{path}}', pkts)
            print(len(rdpcap('{{path}}')))
            """).Trim();

        var result = PcapReplay.Run(path, engine, new CameraSideClassifier(spec));

        Assert.Null(result.Error);
        Assert.Equal(long.Parse(count, System.Globalization.CultureInfo.InvariantCulture), result.FramesRead);
        Assert.Equal(9, result.FramesPassed);
    }
}
