using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Host.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Appliance.Host.Tests.Hosting;

/// <summary>Learned DNS names survive a restart through the state file; a corrupt file is ignored with a log line.</summary>
public sealed class DnsNameStateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("camfw-dns-state-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (PacketEngine Engine, CompiledPolicy Policy) NewEngine(params string[] cameras)
    {
        var spec = new PolicySpec
        {
            Cameras = [.. cameras.Select((name, i) => new CameraSpec { Name = name, Addresses = [IPAddress.Parse($"10.0.0.{i + 10}")] })],
            Sha256 = new string('0', 64),
        };
        var holder = new PolicyHolder(new CameraSlotRegistry(16));
        var policy = CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots);
        holder.Swap(policy);
        return (new PacketEngine(holder), policy);
    }

    private static readonly IpAddr Cloud = IpAddr.FromIPAddress(IPAddress.Parse("203.0.113.50"));

    [Fact]
    public void SaveThenLoad_RestartedEngine_KnowsTheNamesByCameraName()
    {
        var (before, policyBefore) = NewEngine("north-gate", "south-gate");
        var slot = policyBefore.Cameras[1].Slot;
        before.DnsNames.Learn(slot, "p2p.vendor.example"u8, Cloud, 1_000_000 + 60_000, 1_000_000);
        var path = Path.Combine(_dir, DnsNameStateFile.FileName);
        DnsNameStateFile.Save(path, new Dictionary<string, List<DnsNameRecord>> { ["pair0"] = DnsNameStateFile.Export(before, policyBefore, 1_000_000) });

        // The new process lists the cameras in another order: slots differ, names do not.
        var (after, policyAfter) = NewEngine("south-gate", "north-gate");
        var logger = new FakeLogger();
        var loaded = DnsNameStateFile.Load(path, logger);
        var count = DnsNameStateFile.Import(after, policyAfter, loaded["pair0"], 5_000_000);

        Assert.Equal(1, count);
        Assert.Empty(logger.Collector.GetSnapshot());
        Assert.True(policyAfter.TryGetCamera("south-gate", out var south));
        Assert.True(policyAfter.TryGetCamera("north-gate", out var north));
        Assert.Equal("p2p.vendor.example", after.NameFor(south.Slot, Cloud));
        Assert.Null(after.NameFor(north.Slot, Cloud));
        var kept = Assert.Single(after.DnsNames.Snapshot(5_000_000));
        Assert.Equal(60_000, kept.RemainingMs); // what was left of the lapse time, from the restart on
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"version\": 99, \"pairs\": {}}")]
    [InlineData("{\"version\": 1, \"pairs\": {\"pair0\": [{\"camera\": \"north-gate\", \"name\": null, \"address\": \"203.0.113.50\", \"remainingMs\": 5}]}}")]
    [InlineData("{\"version\": 1, \"pairs\": {\"pair0\": [{\"camera\": \"north-gate\", \"name\": \"a.example\", \"address\": \"not-an-address\", \"remainingMs\": 5}]}}")]
    public void Load_CorruptFile_IgnoredWithALogLine(string text)
    {
        var path = Path.Combine(_dir, DnsNameStateFile.FileName);
        File.WriteAllText(path, text);
        var logger = new FakeLogger();

        var loaded = DnsNameStateFile.Load(path, logger);

        Assert.Empty(loaded);
        var line = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("ignored", line.Message, StringComparison.Ordinal);
        Assert.Contains(path, line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoFile_EmptyWithoutComplaint()
    {
        var logger = new FakeLogger();
        Assert.Empty(DnsNameStateFile.Load(Path.Combine(_dir, "missing.json"), logger));
        Assert.Empty(logger.Collector.GetSnapshot());
    }
}
