using Appliance.Core.Policy;
using Appliance.Management.Policies;
using Appliance.Policy;
using Appliance.TestSupport.Host;

namespace Appliance.Management.Tests.Policies;

public sealed class CameraRemovalGuardTests
{
    [Theory]
    [InlineData(4, 4, 0.5, null)] // nothing removed
    [InlineData(4, 6, 0.5, null)] // cameras added
    [InlineData(4, 2, 0.5, null)] // half: not more than the share
    [InlineData(4, 1, 0.5, "removes 3 of 4 cameras")] // three quarters
    [InlineData(4, 0, 0.5, "removes every camera (4:")] // all
    [InlineData(4, 0, 1.0, "removes every camera")] // all, whatever the share
    [InlineData(4, 1, 0.8, null)] // a site that allows more
    [InlineData(4, 3, 0.0, "removes 1 of 4 cameras")] // a site that allows none
    [InlineData(1, 0, 0.5, "removes every camera (1: cam-a)")] // a one-camera site
    public void Check_Table(int before, int after, double share, string? refusal)
    {
        var result = CameraRemovalGuard.Check(Spec(before), Spec(after), share);
        if (refusal is null)
        {
            Assert.Null(result);
        }
        else
        {
            Assert.NotNull(result);
            Assert.Contains(refusal, result, StringComparison.Ordinal);
            Assert.Contains("--allow-camera-removal --confirm-within", result, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Check_FirstLoad_NothingToProtect() => Assert.Null(CameraRemovalGuard.Check(null, Spec(0), 0.5));

    [Fact]
    public void Check_LastEnforcingCameraToMonitor_Refused()
    {
        Assert.Contains("leaves no camera in enforce mode (2 enforce now)", CameraRemovalGuard.Check(Spec(2), Spec(2, monitor: true), 0.5), StringComparison.Ordinal);

        // Already all monitor (commissioning): editing stays possible.
        Assert.Null(CameraRemovalGuard.Check(Spec(2, monitor: true), Spec(3, monitor: true), 0.5));
    }

    private static PolicySpec Spec(int cameras, bool monitor = false)
    {
        var files = new List<PolicySource> { new("networks.yaml", TestPolicies.Networks) };
        if (cameras > 0)
        {
            var text = TestPolicies.Cameras(count: cameras);
            files.Add(new("cameras.yaml", monitor ? text.Replace("    rules:", "    mode: monitor\n    rules:", StringComparison.Ordinal) : text));
        }

        var load = PolicyLoader.Load(files);
        Assert.False(load.HasErrors, string.Join("; ", load.Diagnostics));
        return load.Spec!;
    }
}

public sealed class PolicyDirectoryWatcherRelevanceTests
{
    [Theory]
    [InlineData("site.yaml", true)] // a policy file
    [InlineData("cameras/north gate.yaml", true)] // with a space: read, so watched
    [InlineData("Cameras.YAML", true)] // reported by the reader, so a change must reach it
    [InlineData("cameras", true)] // a directory renamed or removed
    [InlineData(".site.yaml.swp", false)] // vim swap
    [InlineData("site.yaml~", false)] // backup
    [InlineData("4913", false)] // vim probe
    [InlineData(".#site.yaml", false)] // emacs lock
    [InlineData("#site.yaml#", false)] // emacs autosave
    [InlineData(".camfw-0123.tmp", false)] // our own temporary file
    [InlineData(".git/objects/ab", false)] // inside a hidden folder
    [InlineData("readme.md", false)] // not a policy file
    public void IsRelevantChange_Table(string name, bool expected) => Assert.Equal(expected, PolicyDirectoryWatcher.IsRelevantChange(name));
}
