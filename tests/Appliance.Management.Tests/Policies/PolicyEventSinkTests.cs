using Appliance.Management.Policies;
using Appliance.Policy;
using Appliance.TestSupport;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Management.Tests.Policies;

/// <summary>Every path a policy change takes reaches the security-event sink exactly once, with the right kind.</summary>
public sealed class PolicyEventSinkTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-sink");
    private readonly RecordingSink _sink = new();
    private readonly PolicyService _service;

    public PolicyEventSinkTests() => _service = TestPolicyServices.Create(_root, events: _sink);

    [Fact]
    public async Task ApplyRejectRollback_EachReportedOnceWithItsKind()
    {
        Assert.Equal(ApplyOutcome.Applied, (await _service.LoadInitialAsync()).Outcome);
        Assert.Equal(ApplyOutcome.Applied, (await _service.ApplyAsync(Sources(TestPolicies.Files(count: 2)), new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1"))).Outcome);
        Assert.Equal(ApplyOutcome.Rejected, (await _service.ApplyAsync(Sources(new() { ["networks.yaml"] = TestPolicies.Networks, ["cameras.yaml"] = TestPolicies.InvalidCameras }), new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1"))).Outcome);
        Assert.Equal(ApplyOutcome.Applied, (await _service.RollbackAsync(1, new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1"))).Outcome);

        Assert.Equal(
            ["applied v1 startup", "applied v2 api from 127.0.0.1", "rejected 1 api from 127.0.0.1", "rolled-back v2->v3 rollback from 127.0.0.1 (to version 1)"],
            _sink.Calls);

        // The rejection carries every error with its file, line and column.
        var error = Assert.Single(_sink.Errors);
        Assert.Equal(("cameras.yaml", 10, Severity.Error), (error.File, error.Line, error.Severity));
    }

    [Fact]
    public async Task ReloadFromDisk_ValidThenInvalid_AppliedThenRejected()
    {
        await _service.LoadInitialAsync();
        _root.Write(Path.Combine("policies", "cameras.yaml"), TestPolicies.Cameras(count: 2));
        await _service.ReloadFromDiskAsync(ChangeOrigin.FileWatcher);
        _root.Write(Path.Combine("policies", "cameras.yaml"), TestPolicies.InvalidCameras);
        await _service.ReloadFromDiskAsync(ChangeOrigin.FileWatcher);
        await _service.ReloadFromDiskAsync(ChangeOrigin.FileWatcher); // still invalid: reported again, as the log is

        Assert.Equal(
            ["applied v1 startup", "applied v2 file (policy directory changed)", "rejected 1 file (policy directory changed)", "rejected 1 file (policy directory changed)"],
            _sink.Calls);
    }

    [Fact]
    public async Task Watcher_Edit_ReportedAsApplied()
    {
        await _service.LoadInitialAsync();
        using var watcher = new PolicyDirectoryWatcher(_service, NullLogger<PolicyDirectoryWatcher>.Instance);
        watcher.Start();
        await File.WriteAllTextAsync(_root.Combine("policies", "cameras.yaml"), TestPolicies.Cameras(count: 3));
        await Eventually.TrueAsync(() => _sink.Calls.Count == 2);
        Assert.Equal("applied v2 file (policy directory changed)", _sink.Calls[1]);
    }

    [Fact]
    public async Task SafeApply_NotConfirmed_AutoRevertReportedAsRolledBack()
    {
        var initial = (await _service.LoadInitialAsync()).State!;
        var result = await _service.ApplyAsync(Sources(TestPolicies.Files(nvrPort: 8554)), new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1"), confirmWithin: TimeSpan.FromMilliseconds(200));
        Assert.Equal(ApplyOutcome.Applied, result.Outcome);

        await Eventually.TrueAsync(() => _sink.Calls.Count == 3);
        Assert.StartsWith("rolled-back v2->v3 auto-revert (version 2 was not confirmed in time", _sink.Calls[2], StringComparison.Ordinal);
        Assert.Equal(initial.ContentHash, _service.Current!.ContentHash);
    }

    [Fact]
    public async Task Apply_SinkThrows_ChangeStillAppliedAndAudited()
    {
        _sink.Throw = true;
        Assert.Equal(ApplyOutcome.Applied, (await _service.LoadInitialAsync()).Outcome);
        Assert.Equal(1u, _service.Current!.Version);
        Assert.Equal("applied", Assert.Single(_service.Audit.ReadAll()).Outcome);
    }

    public void Dispose()
    {
        _service.Dispose();
        _root.Dispose();
    }

    private static List<PolicySource> Sources(Dictionary<string, string> files) => [.. files.Select(f => new PolicySource(f.Key, f.Value))];
}
