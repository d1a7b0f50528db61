using Appliance.Policy;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Host;
using Appliance.Transport.PcapFile;

namespace Appliance.Host.Tests.Cli;

/// <summary>
/// <c>camfw learn</c> end to end on capture files: learn from one capture of the lab-like site, check the proposal
/// with the policy reader, then <c>camfw replay</c> a later capture under it: every legitimate frame passes, the
/// phone-home, the probes and what no camera did while learning are dropped.
/// </summary>
public sealed class LearnCommandTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-learn-cli");

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Learn_SiteCaptureThenReplayLaterCapture_LegitPassesPhoneHomeAndProbesDrop()
    {
        var policy = CurrentPolicy();
        var first = Write("monday.pcap", LearnSite.Capture(later: false).All);
        var later = LearnSite.Capture(later: true).All;
        var second = Write("tuesday.pcap", later);
        var proposal = _root.Combine("proposal");

        var (code, output, error) = await CliRunner.RunAsync("learn", first, "--camera-side", "192.0.2.0/24", "--policy", policy, "--out", proposal);

        Assert.True(code == 0, error + output);
        Assert.Contains("needs a decision:   2", output, StringComparison.Ordinal);
        var check = PolicyLoader.LoadDirectory(proposal);
        Assert.False(check.HasErrors, string.Join("\n", check.Diagnostics));
        Assert.Equal(3, check.Spec!.Cameras.Count);
        Assert.True(File.Exists(Path.Combine(proposal, "REVIEW.md")));
        Assert.Contains("~ camera north-gate", File.ReadAllText(Path.Combine(proposal, "diff.txt")), StringComparison.Ordinal);
        Assert.Contains("cloud.vendor.example", File.ReadAllText(Path.Combine(proposal, "cameras", "north-gate.yaml")), StringComparison.Ordinal);

        var (policyCode, policyOutput, policyError) = await CliRunner.RunAsync("policy", "check", proposal);
        Assert.True(policyCode == 0, policyOutput + policyError);

        var verdicts = _root.Combine("verdicts.tsv");
        var (replay, replayOutput, replayError) = await CliRunner.RunAsync("replay", "--policy", proposal, second, "--camera-side", "192.0.2.0/24", "--verdicts", verdicts);
        Assert.True(replay == 0, replayOutput + replayError);
        var lines = File.ReadAllLines(verdicts);
        Assert.Equal(later.Count, lines.Length);
        var wrong = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var fields = lines[i].Split('\t');
            var passed = fields[1] == "pass" && !fields[2].StartsWith("monitor", StringComparison.Ordinal);
            if (passed != (later[i].Label == "legit"))
            {
                wrong.Add($"{later[i].Label}: {lines[i]}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Contains(later, f => f.Label == "phone-home");
        Assert.Contains(later, f => f.Label == "probe");
    }

    [Fact]
    public async Task Learn_NoCameraSide_Exits1AndWritesNothing()
    {
        var capture = Write("c.pcap", LearnSite.Capture(later: false).All);
        var proposal = _root.Combine("proposal");

        var (code, _, error) = await CliRunner.RunAsync("learn", capture, "--out", proposal);

        Assert.Equal(1, code);
        Assert.Contains("--camera-side", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(proposal));
    }

    [Fact]
    public async Task Learn_OutputNotEmpty_Exits1AndLeavesItAlone()
    {
        var capture = Write("c.pcap", LearnSite.Capture(later: false).All);
        _root.Write("proposal/mine.yaml", "networks: {}\n");

        var (code, _, error) = await CliRunner.RunAsync("learn", capture, "--camera-side", "192.0.2.0/24", "--out", _root.Combine("proposal"));

        Assert.Equal(1, code);
        Assert.Contains("not empty", error, StringComparison.Ordinal);
        Assert.Equal("networks: {}\n", File.ReadAllText(_root.Combine("proposal", "mine.yaml")));
    }

    private string CurrentPolicy()
    {
        foreach (var (name, text) in LearnSite.PolicyFiles)
        {
            _root.Write("policy/" + name, text);
        }

        return _root.Combine("policy");
    }

    private string Write(string name, IReadOnlyList<CapturedFrame> frames)
    {
        var path = _root.Combine(name);
        using var writer = PcapFileWriter.Create(path);
        foreach (var frame in frames)
        {
            writer.Write(frame.Frame, frame.TimestampMicros);
        }

        return path;
    }
}
