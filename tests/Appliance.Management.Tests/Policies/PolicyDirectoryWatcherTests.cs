using Appliance.Management.Policies;
using Appliance.Policy;
using Appliance.TestSupport;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Management.Tests.Policies;

public sealed class PolicyDirectoryWatcherTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-watch");
    private readonly PolicyService _service;
    private readonly PolicyDirectoryWatcher _watcher;

    public PolicyDirectoryWatcherTests()
    {
        _service = TestPolicyServices.Create(_root, configure: o => o.WatchDebounce = TimeSpan.FromMilliseconds(150));
        Assert.Equal(ApplyOutcome.Applied, _service.LoadInitialAsync().GetAwaiter().GetResult().Outcome);
        _watcher = new PolicyDirectoryWatcher(_service, NullLogger<PolicyDirectoryWatcher>.Instance);
        _watcher.Start();
    }

    private string Cameras => _root.Combine("policies", "cameras.yaml");

    [Fact]
    public async Task Edit_ValidChange_ReloadsWithinASecondOrSo()
    {
        var started = DateTime.UtcNow;
        await File.WriteAllTextAsync(Cameras, TestPolicies.Cameras(count: 2));
        await Eventually.TrueAsync(() => _service.Current!.Version == 2);
        Assert.Equal(2, _service.Current!.Spec.Cameras.Count);
        Assert.Equal(ChangeOrigin.FileKind, _service.Current.Origin.Kind);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), $"reload took {DateTime.UtcNow - started}");
    }

    [Fact]
    public async Task Edit_Invalid_KeepsOldPolicyAndReportsFailure()
    {
        var before = _service.Current!;
        await File.WriteAllTextAsync(Cameras, TestPolicies.InvalidCameras);
        await Eventually.TrueAsync(() => _service.ActiveFailure is not null);
        Assert.Same(before, _service.Current);
        Assert.Same(before.Policy, _service.Holder.Current);
        Assert.Contains(_service.ActiveFailure!.Diagnostics, d => d.File == "cameras.yaml" && d.Line == 10 && d.Severity == Severity.Error);

        // Fixing the file clears the standing failure.
        await File.WriteAllTextAsync(Cameras, TestPolicies.Cameras(count: 3));
        await Eventually.TrueAsync(() => _service.Current!.Spec.Cameras.Count == 3);
        Assert.Null(_service.ActiveFailure);
        Assert.NotNull(_service.LastFailure);
    }

    [Theory]
    [InlineData(".cameras.yaml.swp")] // vim swap file
    [InlineData("cameras.yaml~")] // backup
    [InlineData("4913")] // vim's write probe
    [InlineData(".#cameras.yaml")] // emacs lock
    [InlineData("#cameras.yaml#")] // emacs autosave
    [InlineData("notes.txt")] // not a policy file
    public async Task EditorTempFile_Ignored(string name)
    {
        await File.WriteAllTextAsync(_root.Combine("policies", name), "garbage: [");

        // Positive control: a relevant event after it (the policy file rewritten as it is), which the watcher must
        // act on. Events are handled in order, so once that reload is done the temp file's events have been seen.
        await File.WriteAllTextAsync(Cameras, await File.ReadAllTextAsync(Cameras));
        await Eventually.TrueAsync(() => _watcher.Triggered > 0, "the watcher reloads for the control edit");
        Assert.True(_watcher.Ignored > 0, "the temp file's events reached the watcher and were ignored");
        Assert.Equal(1u, _service.Current!.Version);
        Assert.Null(_service.LastFailure);
    }

    [Fact]
    public async Task ApiApply_OwnWrites_DoNotCreateASecondVersion()
    {
        var files = TestPolicies.Files(count: 4).Select(kv => new PolicySource(kv.Key, kv.Value)).ToList();
        var result = await _service.ApplyAsync(files, new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1"));
        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        // Triggered counts a reload once it is done: the reload of the service's own writes has run by now.
        await Eventually.TrueAsync(() => _watcher.Triggered > 0);
        Assert.Equal(2u, _service.Current!.Version);
        Assert.Equal(2, _service.Reloads);
        Assert.Equal(0, _service.ReloadFailures);
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _service.Dispose();
        _root.Dispose();
    }
}
