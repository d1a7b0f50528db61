using Appliance.Policy;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Host;

namespace Appliance.Learn.Tests;

/// <summary>
/// The learn-mode summary in the state directory: a round trip keeps everything the proposal is built from; a bad
/// file is refused whole with a reason, never an exception, and never half taken.
/// </summary>
public sealed class LearnSummaryFileTests
{
    private static LearnSnapshot Learned()
    {
        var spec = LearnHarness.LoadOk([.. LearnSite.PolicyFiles.Select(f => new PolicySource(f.Name, f.Text))]);
        return LearnHarness.LearnLive(LearnSite.Capture(later: false).All, LearnHarness.SiteLearning([(LearnSite.Hik1, LearnSite.Hik1Ip), (LearnSite.Hik2, LearnSite.Hik2Ip), (LearnSite.Dahua, LearnSite.DahuaIp)]) with { Networks = spec.Networks });
    }

    [Fact]
    public void SaveLoad_RoundTrip_SameProposal()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, LearnSummaryFile.FileName);
        var learned = Learned();

        LearnSummaryFile.Save(path, learned);
        var loaded = LearnSummaryFile.Load(path, out var error);

        Assert.Null(error);
        Assert.NotNull(loaded);
        Assert.False(File.Exists(path + ".tmp"));
        var restored = new LiveLearner();
        restored.Restore(loaded);
        var context = LearnHarness.Context();
        Assert.Equal(ProposalBuilder.Build(learned, context).Files, ProposalBuilder.Build(restored.Snapshot(), context).Files);
        Assert.Equal(learned.Services.Count, loaded.Services.Count);
        Assert.True(learned.Services.Count > 5);
    }

    [Fact]
    public void Load_NoFile_NullWithoutError()
    {
        using var dir = new TempDirectory();

        Assert.Null(LearnSummaryFile.Load(Path.Combine(dir.Path, LearnSummaryFile.FileName), out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("{ not json", "")]
    [InlineData("", "")]
    [InlineData("{\"version\":2,\"devices\":[],\"services\":[]}", "not a version 1 learn summary")]
    [InlineData("{\"version\":1}", "not a version 1 learn summary")]
    [InlineData("{\"version\":1,\"devices\":[{\"key\":\"zz:47:cc:00:00:11\",\"byMac\":true,\"addresses\":[]}],\"services\":[]}", "device 'zz:47:cc:00:00:11' is incomplete or malformed")]
    [InlineData("{\"version\":1,\"devices\":[{\"key\":\"44:47:cc:00:00:11\",\"byMac\":true,\"addresses\":[{\"address\":\"192.0.2.300\",\"frames\":1}]}],\"services\":[]}", "device '44:47:cc:00:00:11' has a malformed address")]
    [InlineData("{\"version\":1,\"devices\":[],\"services\":[{\"device\":\"44:47:cc:00:00:11\",\"direction\":\"egress\",\"protocol\":6,\"port\":554,\"peer\":\"198.51.100.10\"}]}", "service of '44:47:cc:00:00:11' to '198.51.100.10' is incomplete or malformed")]
    [InlineData("{\"version\":1,\"devices\":[{\"key\":\"44:47:cc:00:00:11\",\"byMac\":true,\"addresses\":[]}],\"services\":[{\"device\":\"44:47:cc:00:00:11\",\"direction\":\"sideways\",\"protocol\":6,\"port\":554,\"peer\":\"198.51.100.10\"}]}", "service of '44:47:cc:00:00:11' to '198.51.100.10' is incomplete or malformed")]
    [InlineData("{\"version\":1,\"devices\":[{\"key\":\"44:47:cc:00:00:11\",\"byMac\":true,\"addresses\":[]}],\"services\":[{\"device\":\"44:47:cc:00:00:11\",\"direction\":\"egress\",\"protocol\":6,\"port\":70000,\"peer\":\"198.51.100.10\"}]}", "service of '44:47:cc:00:00:11' to '198.51.100.10' is incomplete or malformed")]
    [InlineData("{\"version\":1,\"devices\":[null],\"services\":[]}", "device '' is incomplete or malformed")]
    public void Load_CorruptFile_RefusedWholeWithReason(string text, string reason)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, LearnSummaryFile.FileName);
        File.WriteAllText(path, text);

        var loaded = LearnSummaryFile.Load(path, out var error);

        Assert.Null(loaded);
        Assert.NotNull(error);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TruncatedRealFile_RefusedWithReason()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, LearnSummaryFile.FileName);
        LearnSummaryFile.Save(path, Learned());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        Assert.Null(LearnSummaryFile.Load(path, out var error));
        Assert.NotNull(error);
    }
}
