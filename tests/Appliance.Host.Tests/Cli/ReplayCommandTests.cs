using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Host;
using Appliance.Transport.PcapFile;

namespace Appliance.Host.Tests.Cli;

/// <summary><c>camfw replay</c> through the same root command as <c>camfw</c>: help, hints, failing captures.</summary>
public sealed class ReplayCommandTests : IDisposable
{
    private const string Policy = """
        networks:
          nvr: 192.0.2.20
        cameras:
          gate:
            mac: 02:00:00:00:0c:01
            ip: 192.0.2.10
            rules:
              - id: rtsp-from-nvr
                direction: ingress
                protocol: tcp
                ports: 554
                peer: nvr
        """;

    private readonly TempDirectory _root = new("camfw-replay-cli");

    public void Dispose() => _root.Dispose();

    private string PolicyDir()
    {
        _root.Write("policy/site.yaml", Policy);
        return _root.Combine("policy");
    }

    private string Capture(string name, int frames)
    {
        var path = _root.Combine(name);
        using var writer = PcapFileWriter.Create(path);
        for (var i = 0; i < frames; i++)
        {
            var rogue = Frames.Tcp(Frames.Mac("02:00:00:00:0b:ad"), Frames.CameraMac, "192.0.2.20", "192.0.2.10", (ushort)(50000 + i), 554, Appliance.Core.Wire.TcpFlags.Syn).ToArray();
            writer.Write(rogue, 1_700_000_000_000_000L + i);
        }

        return path;
    }

    [Fact]
    public async Task Help_SaysHowTheSideIsDecided()
    {
        var (_, output, _) = await CliRunner.RunAsync("replay", "--help");

        Assert.Contains("--camera-side", output, StringComparison.Ordinal);
        Assert.Contains("--camera-interface", output, StringComparison.Ordinal);
        Assert.Contains("counts as from the uplink", output, StringComparison.Ordinal);
        Assert.Contains("clamped", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_CameraSideMac_RogueReportedAsUnknownDevice()
    {
        var policy = PolicyDir();
        var capture = Capture("rogue.pcap", 2);

        var (plain, plainOut, _) = await CliRunner.RunAsync("replay", "--policy", policy, capture);
        var (code, output, error) = await CliRunner.RunAsync("replay", "--policy", policy, capture, "--camera-side", "02:00:00:00:0b:ad");

        Assert.Equal(0, plain);
        Assert.Contains("0 camera (0 listed cameras, 0 --camera-side), 2 uplink", plainOut, StringComparison.Ordinal);
        Assert.True(code == 0, error);
        Assert.Contains("2 camera (0 listed cameras, 2 --camera-side), 0 uplink", output, StringComparison.Ordinal);
        Assert.Matches(@"drop\s+unknown-device\s+2", output);
    }

    [Fact]
    public async Task Replay_BadCameraSide_Exits1NamingIt()
    {
        var (code, _, error) = await CliRunner.RunAsync("replay", "--policy", PolicyDir(), Capture("c.pcap", 1), "--camera-side", "192.0.2.1/24");

        Assert.Equal(1, code);
        Assert.Contains("--camera-side 192.0.2.1/24", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_CaptureCutShort_SummaryPrintedExit1AndVerdictsFileUnchanged()
    {
        var policy = PolicyDir();
        var whole = Capture("whole.pcap", 3);
        var cut = _root.Combine("cut.pcap");
        File.WriteAllBytes(cut, File.ReadAllBytes(whole)[..^5]);
        var verdicts = _root.Write("verdicts.tsv", "keep me\n");

        var (code, output, error) = await CliRunner.RunAsync("replay", "--policy", policy, cut, "--verdicts", verdicts);

        Assert.Equal(1, code);
        Assert.Contains("2 frames, 2 passed, 0 dropped", output, StringComparison.Ordinal);
        Assert.Contains("stopped after judging 2 of 2 frames read", error, StringComparison.Ordinal);
        Assert.Contains("No output file was written", error, StringComparison.Ordinal);
        Assert.Equal("keep me\n", File.ReadAllText(verdicts));
    }
}
