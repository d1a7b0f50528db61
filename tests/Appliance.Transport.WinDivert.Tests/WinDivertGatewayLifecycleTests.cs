using Appliance.TestSupport;
using Appliance.Transport.WinDivert.Native;

namespace Appliance.Transport.WinDivert.Tests;

/// <summary>Start, stop, dispose and every fault path, read from the fake's ordered call log.</summary>
public sealed class WinDivertGatewayLifecycleTests
{
    private static readonly string[] GateOff = ["forwarding 7 v4 off", "forwarding 7 v6 off", "forwarding 3 v4 off", "forwarding 3 v6 off"];

    public enum FaultPath
    {
        EngineThrowsOnForward,
        EngineThrowsOnLocal,
        ReceiveFailsOnForward,
        ReceiveFailsOnLocal,
        NoDataWithoutShutdown,
        ForwardingCannotBeTurnedOn,
    }

    [Theory]
    [InlineData(FaultPath.EngineThrowsOnForward, "forward")]
    [InlineData(FaultPath.EngineThrowsOnLocal, "local")]
    [InlineData(FaultPath.ReceiveFailsOnForward, "forward")]
    [InlineData(FaultPath.ReceiveFailsOnLocal, "local")]
    [InlineData(FaultPath.NoDataWithoutShutdown, "forward")]
    [InlineData(FaultPath.ForwardingCannotBeTurnedOn, "forward")]
    public async Task Fault_AnyPath_ForwardingOffFirstThenTheHandleHeldUnreadForTheQueueTimeThenClosed(FaultPath path, string faulted)
    {
        var h = new Harness();
        var faultedHandle = faulted == "forward" ? FakeWinDivert.ForwardHandle : FakeWinDivert.LocalHandle;
        var other = faulted == "forward" ? "local" : "forward";
        var gateway = h.Open();
        var packet = Harness.V4("10.20.0.5", "198.51.100.7");
        switch (path)
        {
            case FaultPath.EngineThrowsOnForward:
                h.Forward.Pass = (_, _) => throw new InvalidOperationException("engine bug");
                h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((packet, Harness.Address(packet, Harness.Uplink))));
                break;
            case FaultPath.EngineThrowsOnLocal:
                h.Local.Pass = (_, _) => throw new InvalidOperationException("engine bug");
                h.Fake.Script(FakeWinDivert.LocalHandle, Harness.Batch((packet, Harness.Address(packet, Harness.Camera, forward: false, outbound: false))));
                break;
            case FaultPath.ReceiveFailsOnForward:
                h.Fake.Script(FakeWinDivert.ForwardHandle, ScriptedReceive.Fail(6));
                break;
            case FaultPath.ReceiveFailsOnLocal:
                h.Fake.Script(FakeWinDivert.LocalHandle, ScriptedReceive.Fail(6));
                break;
            case FaultPath.NoDataWithoutShutdown:
                h.Fake.Script(FakeWinDivert.ForwardHandle, ScriptedReceive.Fail(WinDivertErrors.NoData));
                break;
            case FaultPath.ForwardingCannotBeTurnedOn:
                h.Fake.ForwardingThrowsWhenEnabling = new PacketPortException("SetIpInterfaceEntry failed");
                break;
        }

        gateway.Start();
        await Eventually.TrueAsync(() => gateway.Completion.IsFaulted, "the gateway faulted");

        Assert.False(gateway.IsHealthy);
        Assert.NotNull(gateway.Fault);
        var log = h.Fake.Log.ToList();

        // 1. Forwarding is off: the last word on every interface and family is "off".
        Assert.All(GateOff, e => Assert.True(log.LastIndexOf(e) > log.FindLastIndex(x => x.EndsWith(" on", StringComparison.Ordinal)), $"{e} after the last 'on'"));
        Assert.All(h.Fake.Forwarding.Values, on => Assert.False(on));

        // 2. The faulted handle is neither shut down (new packets would then pass undiverted) nor closed yet (the
        //    driver would re-inject what it queued).
        Assert.DoesNotContain($"shutdown {faulted} Receive", log);
        Assert.False(h.Fake.IsClosed(faultedHandle));
        h.Time.Advance(h.Hold - TimeSpan.FromMilliseconds(1));
        Assert.False(h.Fake.IsClosed(faultedHandle), "held for the whole queue time");

        // 3. After the queue time it closes, and the close comes after forwarding went off.
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => h.Fake.IsClosed(faultedHandle), "the faulted handle closed after the queue time");
        log = [.. h.Fake.Log];
        Assert.All(GateOff, e => Assert.True(log.LastIndexOf(e) < log.IndexOf($"close {faulted}"), $"{e} before close {faulted}"));

        // 4. The host's stop then drains and closes the healthy handle, still after forwarding went off.
        await gateway.StopAsync();
        log = [.. h.Fake.Log];
        Assert.True(h.Fake.IsClosed(FakeWinDivert.ForwardHandle) && h.Fake.IsClosed(FakeWinDivert.LocalHandle));
        var firstTouch = log.FindIndex(e => e == $"shutdown {other} Receive" || e == $"close {other}");
        Assert.All(GateOff, e => Assert.True(log.IndexOf(e, log.FindLastIndex(x => x.EndsWith(" on", StringComparison.Ordinal)) + 1) is var i && i >= 0 && i < firstTouch, $"{e} before the {other} handle is touched"));
        Assert.Single(log, e => e == "close forward");
        Assert.Single(log, e => e == "close local");
    }

    [Fact]
    public async Task Stop_DuringBlockedReceive_ForwardingOffThenShutdownDrainClose()
    {
        var h = new Harness();
        var gateway = await h.StartedAsync();

        await gateway.StopAsync();

        var log = h.Fake.Log.ToList();
        var lastOn = log.FindLastIndex(e => e.EndsWith(" on", StringComparison.Ordinal));
        var shutdownForward = log.IndexOf("shutdown forward Receive");
        var shutdownLocal = log.IndexOf("shutdown local Receive");
        Assert.True(shutdownForward > lastOn && shutdownLocal > lastOn);
        Assert.All(GateOff, e => Assert.InRange(log.IndexOf(e, lastOn + 1), lastOn + 1, Math.Min(shutdownForward, shutdownLocal) - 1));
        Assert.True(log.IndexOf("recv forward -> no data") < log.IndexOf("close forward"));
        Assert.True(log.IndexOf("recv local -> no data") < log.IndexOf("close local"));
        Assert.True(gateway.Completion.IsCompletedSuccessfully);
        Assert.False(gateway.IsHealthy);
    }

    [Fact]
    public async Task Stop_PacketsStillQueued_AreDecidedBeforeTheHandleCloses()
    {
        var h = new Harness();
        var release = new ManualResetEventSlim();
        h.Forward.Pass = (_, _) => release.Wait(TimeSpan.FromSeconds(30));
        var gateway = await h.StartedAsync();
        var first = Harness.V4("10.20.0.5", "198.51.100.7", marker: 1);
        var queued = Harness.V4("10.20.0.5", "198.51.100.7", marker: 2);
        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((first, Harness.Address(first, Harness.Uplink))));
        await Eventually.TrueAsync(() => h.Forward.Seen.Count == 1, "the loop is deciding the first batch");
        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((queued, Harness.Address(queued, Harness.Uplink))));

        var stop = gateway.StopAsync();
        await Eventually.TrueAsync(() => h.Fake.Log.Contains("shutdown forward Receive"), "receiving shut down");
        release.Set();
        await stop;

        Assert.Equal([first, queued], h.Fake.Sent.Select(s => s.Packets));
        var log = h.Fake.Log.ToList();
        Assert.True(log.LastIndexOf("send forward 1") < log.IndexOf("close forward"));
    }

    [Fact]
    public async Task Stop_BeforeStart_ForwardingOffAndHandlesHeldUnreadForTheQueueTime()
    {
        var h = new Harness();
        var gateway = h.Open();

        var stop = gateway.StopAsync();

        Assert.False(stop.IsCompleted);
        Assert.DoesNotContain(h.Fake.Log, e => e.StartsWith("shutdown", StringComparison.Ordinal) || e.StartsWith("recv", StringComparison.Ordinal));
        h.Time.Advance(h.Hold - TimeSpan.FromMilliseconds(1));
        Assert.False(h.Fake.IsClosed(FakeWinDivert.ForwardHandle) || h.Fake.IsClosed(FakeWinDivert.LocalHandle));
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await stop;
        Assert.True(h.Fake.IsClosed(FakeWinDivert.ForwardHandle) && h.Fake.IsClosed(FakeWinDivert.LocalHandle));
        Assert.DoesNotContain(h.Fake.Log, e => e.EndsWith(" on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stop_Twice_ClosesEachHandleOnce()
    {
        var h = new Harness();
        var gateway = await h.StartedAsync();

        var first = gateway.StopAsync();
        var second = gateway.StopAsync();
        await Task.WhenAll(first, second);
        await gateway.StopAsync();

        Assert.Single(h.Fake.Log, e => e == "close forward");
        Assert.Single(h.Fake.Log, e => e == "close local");
        Assert.Single(h.Fake.Log, e => e == "shutdown forward Receive");
    }

    [Fact]
    public async Task Dispose_BeforeStartAndTwice_HoldsThenClosesOnce()
    {
        var h = new Harness();
        var gateway = h.Open();

        var first = gateway.DisposeAsync().AsTask();
        var second = gateway.DisposeAsync().AsTask();
        h.Time.Advance(h.Hold);
        await Task.WhenAll(first, second);

        Assert.Single(h.Fake.Log, e => e == "close forward");
        Assert.Single(h.Fake.Log, e => e == "close local");
        Assert.Throws<InvalidOperationException>(gateway.Start);
    }

    [Fact]
    public async Task Dispose_DuringBlockedReceive_Completes()
    {
        var h = new Harness();
        var gateway = await h.StartedAsync();

        await gateway.DisposeAsync();

        Assert.True(h.Fake.IsClosed(FakeWinDivert.ForwardHandle) && h.Fake.IsClosed(FakeWinDivert.LocalHandle));
        Assert.All(h.Fake.Forwarding.Values, on => Assert.False(on));
    }

    [Fact]
    public async Task Start_Twice_Throws()
    {
        var h = new Harness();
        await using var gateway = await h.StartedAsync();

        Assert.Throws<InvalidOperationException>(gateway.Start);
    }
}
