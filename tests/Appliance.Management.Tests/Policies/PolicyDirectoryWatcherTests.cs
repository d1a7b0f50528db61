using Appliance.Core.Policy;
using Appliance.Management.Policies;
using Appliance.Management.Tests.Api;
using Appliance.Policy;
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
        foreach (var (name, text) in TestPolicies.Files())
        {
            _root.Write(Path.Combine("policies", name), text);
        }

        _service = new PolicyService(new PolicyHolder(), PolicyCompiler.Instance, new PolicyServiceOptions { Directory = _root.Combine("policies"), StateDirectory = _root.Combine("state"), WatchDebounce = TimeSpan.FromMilliseconds(150) }, NullLogger<PolicyService>.Instance);
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
        await PolicyApiTests.WaitUntilAsync(() => _service.Current!.Version == 2, TimeSpan.FromSeconds(5));
        Assert.Equal(2, _service.Current!.Spec.Cameras.Count);
        Assert.Equal(ChangeOrigin.FileKind, _service.Current.Origin.Kind);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), $"reload took {DateTime.UtcNow - started}");
    }

    [Fact]
    public async Task Edit_Invalid_KeepsOldPolicyAndReportsFailure()
    {
        var before = _service.Current!;
        await File.WriteAllTextAsync(Cameras, TestPolicies.InvalidCameras);
        await PolicyApiTests.WaitUntilAsync(() => _service.ActiveFailure is not null, TimeSpan.FromSeconds(5));
        Assert.Same(before, _service.Current);
        Assert.Same(before.Policy, _service.Holder.Current);
        Assert.Contains(_service.ActiveFailure!.Diagnostics, d => d.File == "cameras.yaml" && d.Line == 10 && d.Severity == Severity.Error);

        // Fixing the file clears the standing failure.
        await File.WriteAllTextAsync(Cameras, TestPolicies.Cameras(count: 3));
        await PolicyApiTests.WaitUntilAsync(() => _service.Current!.Spec.Cameras.Count == 3, TimeSpan.FromSeconds(5));
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
        await Task.Delay(600);
        Assert.Equal(0, _watcher.Triggered);
        Assert.Equal(1u, _service.Current!.Version);
        Assert.Null(_service.LastFailure);
    }

    [Fact]
    public async Task ApiApply_OwnWrites_DoNotCreateASecondVersion()
    {
        var files = TestPolicies.Files(count: 4).Select(kv => new PolicySource(kv.Key, kv.Value)).ToList();
        var result = await _service.ApplyAsync(files, new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1"));
        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        await PolicyApiTests.WaitUntilAsync(() => _watcher.Triggered > 0, TimeSpan.FromSeconds(5));
        await Task.Delay(400);
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
