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
        before.DnsNames.Learn(slot, "p2p.vendor.example"u8, Cloud, 1_000_000 + 60_000, 1_000_000, DnsAnswerSource.NotAdmitted);
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

    [Fact]
    public void SaveThenLoad_AdmittingMappingsKeepTheirSource_OthersStillAdmitNothing()
    {
        // Three mappings of one camera: an admitted answer's name and its CNAME target (which points at the question),
        // and a learn-mode camera's own lookup (named in reports, admits nothing). After the restart each is what it was.
        var (before, policy) = NewEngine("north-gate");
        var slot = policy.Cameras[0].Slot;
        var resolver = IpAddr.FromIPAddress(IPAddress.Parse("198.51.100.2"));
        var admitted = new DnsAnswerSource(true, resolver, Appliance.Core.Wire.IpProtocols.Tcp, PolicyVersion: policy.Version);
        var question = before.DnsNames.Learn(slot, "cloud.vendor.example"u8, Cloud, 1_000_000 + 60_000, 1_000_000, admitted);
        before.DnsNames.Learn(slot, "edge.cdn.example"u8, Cloud, 1_000_000 + 60_000, 1_000_000,
            admitted with { Question = question, QuestionGeneration = before.DnsNames.GenerationOf(question) });
        var evil = IpAddr.FromIPAddress(IPAddress.Parse("203.0.113.9"));
        before.DnsNames.Learn(slot, "cdn.evil.example"u8, evil, 1_000_000 + 86_400_000, 1_000_000, DnsAnswerSource.NotAdmitted);
        var path = Path.Combine(_dir, DnsNameStateFile.FileName);

        // Targets first in the file: the import must still find their questions.
        var records = DnsNameStateFile.Export(before, policy, 1_000_000).OrderBy(r => r.Question == r.Name ? 1 : 0).ToList();
        DnsNameStateFile.Save(path, new Dictionary<string, List<DnsNameRecord>> { ["pair0"] = records });
        var (after, policyAfter) = NewEngine("north-gate");
        Assert.Equal(3, DnsNameStateFile.Import(after, policyAfter, DnsNameStateFile.Load(path, new FakeLogger())["pair0"], 5_000_000));

        var kept = after.DnsNames.Snapshot(5_000_000).ToDictionary(n => n.Name);
        Assert.Equal(60_000, kept["cloud.vendor.example"].AdmitsRemainingMs);
        Assert.Equal(resolver, kept["cloud.vendor.example"].Resolver);
        Assert.Equal(Appliance.Core.Wire.IpProtocols.Tcp, kept["cloud.vendor.example"].Protocol);
        Assert.Equal("cloud.vendor.example", kept["cloud.vendor.example"].Question);
        Assert.Equal("cloud.vendor.example", kept["edge.cdn.example"].Question);
        Assert.Equal(60_000, kept["edge.cdn.example"].AdmitsRemainingMs);
        Assert.Null(kept["cdn.evil.example"].AdmitsRemainingMs);
        Assert.Equal(86_400_000, kept["cdn.evil.example"].RemainingMs);
    }

    [Fact]
    public void Load_FileWithoutAdmissionFields_NamesComeBackAdmittingNothing()
    {
        // A file written before mappings kept their source: names for reports, no admission (the next answer re-teaches).
        var path = Path.Combine(_dir, DnsNameStateFile.FileName);
        File.WriteAllText(path, "{\"version\": 1, \"pairs\": {\"pair0\": [{\"camera\": \"north-gate\", \"name\": \"p2p.vendor.example\", \"address\": \"203.0.113.50\", \"remainingMs\": 60000}]}}");
        var (after, policy) = NewEngine("north-gate");
        Assert.Equal(1, DnsNameStateFile.Import(after, policy, DnsNameStateFile.Load(path, new FakeLogger())["pair0"], 5_000_000));

        var kept = Assert.Single(after.DnsNames.Snapshot(5_000_000));
        Assert.Equal("p2p.vendor.example", kept.Name);
        Assert.Null(kept.AdmitsRemainingMs);
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
