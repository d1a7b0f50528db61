using Appliance.Host.Hosting;
using Appliance.TestSupport.Host;

namespace Appliance.Host.Tests.Hosting;

public sealed class SystemdNotifierTests
{
    [Fact]
    public async Task Notify_PathSocket_DeliversDatagram()
    {
        using var dir = new TempDirectory();
        using var socket = new NotifySocket(dir.Combine("notify.sock"));
        using var notifier = new SystemdNotifier(socket.Name);
        Assert.True(notifier.IsEnabled);
        Assert.True(notifier.Notify("READY=1\nSTATUS=up", out var error), error);
        Assert.Equal("READY=1\nSTATUS=up", await socket.WaitForAsync("READY=1", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Notify_AbstractSocket_DeliversDatagram()
    {
        var name = $"@camfw-test-{Guid.NewGuid():N}";
        using var socket = new NotifySocket(name);
        using var notifier = new SystemdNotifier(name);
        Assert.True(notifier.Notify("WATCHDOG=1", out var error), error);
        Assert.Equal("WATCHDOG=1", await socket.WaitForAsync("WATCHDOG=1", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Notify_NoSocket_IsNoOp()
    {
        using var notifier = new SystemdNotifier(null);
        Assert.False(notifier.IsEnabled);
        Assert.False(notifier.Notify("READY=1", out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("20000000", null, 10_000)] // 20 s watchdog: ping every 10 s
    [InlineData("20000000", "4242", 10_000)] // meant for this process
    [InlineData("20000000", "1", null)] // meant for another process
    [InlineData("0", null, null)] // disabled
    [InlineData("junk", null, null)] // unparseable
    [InlineData(null, null, null)] // unset
    public void WatchdogInterval_IsHalfOfWatchdogUsec(string? usec, string? pid, int? expectedMs)
        => Assert.Equal(expectedMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, SystemdNotifier.WatchdogInterval(usec, pid, 4242));
}
