using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.Traffic;
using Appliance.Policy;
using Appliance.TestSupport;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Management.Tests.Policies;

/// <summary>
/// Issue 12 item 2, the watcher's side: a policy directory emptied by a botched <c>rsync --delete</c> is not enforced
/// as "no cameras". The real watcher refuses the reload, the old policy keeps running, and health and the security
/// event (what syslog sends) say why; an admin can still make the change deliberately, as a safe apply.
/// </summary>
public sealed class WatcherCameraRemovalTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-watch-removal");
    private readonly RecordingSink _sink = new();
    private readonly PolicyService _service;
    private readonly PolicyDirectoryWatcher _watcher;

    public WatcherCameraRemovalTests()
    {
        _service = TestPolicyServices.Create(_root, cameras: 4, events: _sink);
        Assert.Equal(ApplyOutcome.Applied, _service.LoadInitialAsync().GetAwaiter().GetResult().Outcome);
        _watcher = new PolicyDirectoryWatcher(_service, NullLogger<PolicyDirectoryWatcher>.Instance);
        _watcher.Start();
    }

    [Fact]
    public async Task Reload_RsyncDeletedTheCameras_RefusedOldPolicyKeptHealthAndEventSayWhy()
    {
        var before = _service.Current!;
        File.Delete(_root.Combine("policies", "cameras.yaml"));

        await Eventually.TrueAsync(() => _service.ActiveFailure is not null);

        Assert.Same(before, _service.Current);
        Assert.Same(before.Policy, _service.Holder.Current);
        Assert.Equal(4, _service.Holder.Current!.Cameras.Count);
        var reason = Assert.Single(_service.ActiveFailure!.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Contains("removes every camera (4: cam-2, cam-3, cam-4, cam-a)", reason.Message, StringComparison.Ordinal);
        Assert.Equal(ChangeOrigin.FileKind, _service.ActiveFailure.Origin.Kind);

        var health = ApiMapper.Health(_service, NullTrafficSource.Instance);
        Assert.Equal("degraded", health.Status);
        Assert.Contains(health.LastPolicyFailure!.Diagnostics, d => d.Message.Contains("removes every camera", StringComparison.Ordinal));
        Assert.Contains(_sink.Errors, e => e.Message.Contains("removes every camera", StringComparison.Ordinal));

        // Deliberately, through the API's path: only with the flag and a safe apply.
        var files = new List<PolicySource> { new("networks.yaml", TestPolicies.Networks) };
        var origin = new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1");
        Assert.Equal(ApplyOutcome.Rejected, (await _service.ApplyAsync(files, origin)).Outcome);
        Assert.Equal(ApplyOutcome.Rejected, (await _service.ApplyAsync(files, origin, allowCameraRemoval: true)).Outcome);
        var deliberate = await _service.ApplyAsync(files, origin, TimeSpan.FromMinutes(5), allowCameraRemoval: true);
        Assert.Equal(ApplyOutcome.Applied, deliberate.Outcome);
        Assert.Empty(_service.Current!.Spec.Cameras);
        Assert.NotNull(_service.Pending);
    }

    [Fact]
    public async Task Reload_MostCamerasGone_RefusedThenRestoredFileClearsTheFailure()
    {
        var cameras = _root.Combine("policies", "cameras.yaml");
        var original = await File.ReadAllTextAsync(cameras);
        await File.WriteAllTextAsync(cameras, TestPolicies.Cameras(count: 1));
        await Eventually.TrueAsync(() => _service.ActiveFailure is not null);
        Assert.Contains("removes 3 of 4 cameras", Assert.Single(_service.ActiveFailure!.Diagnostics, d => d.Severity == Severity.Error).Message, StringComparison.Ordinal);
        Assert.Equal(1u, _service.Current!.Version);

        // The rsync is re-run properly: the same files as in force, so the standing failure clears, no new version.
        await File.WriteAllTextAsync(cameras, original);
        await Eventually.TrueAsync(() => _service.ActiveFailure is null);
        Assert.Equal(1u, _service.Current!.Version);
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _service.Dispose();
        _root.Dispose();
    }
}
