using System.Globalization;
using Appliance.Core;
using Appliance.TestSupport;

namespace Appliance.Transport.Tests;

public sealed class BridgeDataPlaneTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static byte[] Frame(byte marker, int length = 64)
    {
        var frame = new byte[length];
        frame[0] = marker;
        for (var i = 1; i < length; i++)
        {
            frame[i] = (byte)i;
        }

        return frame;
    }

    [Fact]
    public async Task Start_PassedCameraFrame_LeavesThroughUplinkUnchanged()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        var log = new DecisionLog();
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(log));
        var frame = Frame(FirstByteDecider.PassMarker, 1514);

        bridge.Start();
        camera.Inject(frame);
        await Eventually.TrueAsync(() => uplink.SentCount == 1, within: Timeout);

        Assert.True(uplink.TryTakeSent(out var sent));
        Assert.Equal(frame, sent);
        Assert.Equal(0, camera.SentCount);
        Assert.Equal([(FirstByteDecider.PassMarker, Side.Camera)], log.Seen);
    }

    [Fact]
    public async Task Start_PassedUplinkFrame_LeavesThroughCameraWithUplinkSide()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        var log = new DecisionLog();
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(log));

        bridge.Start();
        uplink.Inject(Frame(FirstByteDecider.PassMarker));
        await Eventually.TrueAsync(() => camera.SentCount == 1, within: Timeout);

        Assert.Equal(0, uplink.SentCount);
        Assert.Equal([(FirstByteDecider.PassMarker, Side.Uplink)], log.Seen);
        Assert.Equal(1, bridge.UplinkSide.FramesForwarded);
    }

    [Fact]
    public async Task Start_DroppedFrames_GoNowhereAndAreCounted()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        var log = new DecisionLog();
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(log));

        bridge.Start();
        camera.Inject(Frame(0x02));
        uplink.Inject(Frame(0x03));
        camera.Inject(Frame(FirstByteDecider.PassMarker));
        await Eventually.TrueAsync(() => log.Seen.Count == 3 && bridge.CameraSide.FramesReceived == 2 && bridge.UplinkSide.FramesReceived == 1, within: Timeout);

        Assert.Equal(1, uplink.SentCount); // only the passed one
        Assert.Equal(0, camera.SentCount);
        Assert.Equal(1, bridge.CameraSide.FramesDropped);
        Assert.Equal(1, bridge.CameraSide.FramesPassed);
        Assert.Equal(1, bridge.UplinkSide.FramesDropped);
        Assert.Equal(0, bridge.UplinkSide.FramesPassed);
    }

    [Fact]
    public async Task Start_ManyFramesBothWays_EveryPassedFrameForwardedInOrder()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(new DecisionLog()), options: new BridgeOptions { BatchSize = 7 });
        bridge.Start();
        for (var i = 0; i < 500; i++)
        {
            var frame = Frame(FirstByteDecider.PassMarker);
            frame[1] = (byte)i;
            camera.Inject(frame);
            uplink.Inject(frame);
        }

        await Eventually.TrueAsync(() => uplink.SentCount == 500 && camera.SentCount == 500, within: Timeout);
        for (var i = 0; i < 500; i++)
        {
            Assert.True(uplink.TryTakeSent(out var sent));
            Assert.Equal((byte)i, sent[1]);
        }

        Assert.Equal(500, bridge.CameraSide.FramesForwarded);
        Assert.Equal(500, bridge.UplinkSide.FramesForwarded);
    }

    [LinuxFact]
    public async Task Start_PinnedToOneCpu_ThreadRunsThereOnlyAndForwards()
    {
        var last = CpuSet.Allowed()!.Cpus[^1];
        Assert.True(CpuSet.TryParse(last.ToString(CultureInfo.InvariantCulture), out var cpus, out _));
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(new DecisionLog()), options: new BridgeOptions { Name = "pin1", Cpus = cpus });

        bridge.Start();
        camera.Inject(Frame(FirstByteDecider.PassMarker));
        await Eventually.TrueAsync(() => uplink.SentCount == 1, within: Timeout);

        // The kernel's own view of the data-plane thread (its name is camfw-dp-<bridge>).
        Assert.Equal(last.ToString(CultureInfo.InvariantCulture), ThreadCpus("camfw-dp-pin1"));
        Assert.True(bridge.IsHealthy);
    }

    [LinuxFact]
    public async Task Start_PinnedToCpusItMayNotUse_FailsClosedNamingThem()
    {
        var unavailable = Enumerable.Range(0, CpuSet.MaxCpus).Except(CpuSet.Allowed()!.Cpus).Last();
        Assert.True(CpuSet.TryParse(unavailable.ToString(CultureInfo.InvariantCulture), out var cpus, out _));
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(new DecisionLog()), options: new BridgeOptions { Name = "pin2", Cpus = cpus });

        camera.Inject(Frame(FirstByteDecider.PassMarker));
        bridge.Start();

        var ex = await Assert.ThrowsAsync<PacketPortException>(() => bridge.Completion.WaitAsync(Timeout));
        Assert.Contains($"Cannot pin the data plane to CPUs {unavailable}", ex.Message, StringComparison.Ordinal);
        Assert.False(bridge.IsHealthy);
        Assert.Equal(0, uplink.SentCount); // the frame waiting at start was never forwarded from another CPU
        Assert.True(camera.IsDisposed);
        Assert.True(uplink.IsDisposed);
    }

    /// <summary>Cpus_allowed_list of this process's thread named <paramref name="name"/> (at most 15 characters).</summary>
    private static string ThreadCpus(string name)
    {
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == name)
            {
                var line = File.ReadAllLines(Path.Combine(task, "status")).Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
                return line["Cpus_allowed_list:".Length..].Trim();
            }
        }

        throw new InvalidOperationException($"no thread named {name}");
    }

    [Fact]
    public async Task Start_EngineThrows_FailsClosedAndCompletionFaults()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(new DecisionLog()));

        bridge.Start();
        Assert.True(bridge.IsHealthy);
        camera.Inject(Frame(FirstByteDecider.FaultMarker));
        camera.Inject(Frame(FirstByteDecider.PassMarker));
        uplink.Inject(Frame(FirstByteDecider.PassMarker));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => bridge.Completion.WaitAsync(Timeout));
        Assert.Contains("engine fault", ex.Message, StringComparison.Ordinal);
        Assert.False(bridge.IsHealthy);
        Assert.Same(ex, bridge.Fault);

        // Nothing passed after the fault, and the ports are closed so nothing ever will.
        Assert.Equal(0, uplink.SentCount);
        Assert.Equal(0, camera.SentCount);
        Assert.True(camera.IsDisposed);
        Assert.True(uplink.IsDisposed);
    }

    [Fact]
    public async Task Start_PortThrows_FailsClosed()
    {
        var camera = new FaultyPort(new InMemoryPort("cam0"));
        var uplink = new InMemoryPort("up0");
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(new DecisionLog()));

        bridge.Start();
        camera.Fail = true;

        await Assert.ThrowsAsync<PacketPortException>(() => bridge.Completion.WaitAsync(Timeout));
        Assert.False(bridge.IsHealthy);
        Assert.True(uplink.IsDisposed);
    }

    [Fact]
    public async Task StopAsync_Running_CompletesCleanlyAndClosesPorts()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        var log = new DecisionLog();
        var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(log));
        bridge.Start();
        await Eventually.TrueAsync(() => log.MaintainCalls > 0, within: Timeout); // housekeeping runs even with no traffic

        await bridge.StopAsync().WaitAsync(Timeout);

        Assert.True(bridge.Completion.IsCompletedSuccessfully);
        Assert.False(bridge.IsHealthy);
        Assert.True(camera.IsDisposed);
        Assert.True(uplink.IsDisposed);
    }

    [Fact]
    public async Task StopAsync_NeverStarted_ClosesPorts()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(new DecisionLog()));

        await bridge.StopAsync();

        Assert.True(camera.IsDisposed && uplink.IsDisposed);
        Assert.Throws<InvalidOperationException>(bridge.Start);
    }

    [Fact]
    public async Task Receive_TruncatedFrame_DroppedWithoutAskingTheEngine()
    {
        var camera = new TruncatingPort(new InMemoryPort("cam0"));
        var uplink = new InMemoryPort("up0");
        var log = new DecisionLog();
        await using var bridge = BridgeDataPlane.Create(camera, uplink, new FirstByteDecider(log));
        bridge.Start();

        camera.Inner.Inject(Frame(FirstByteDecider.PassMarker));
        await Eventually.TrueAsync(() => bridge.CameraSide.FramesReceived == 1, within: Timeout);

        Assert.Equal(1, bridge.CameraSide.Truncated);
        Assert.Equal(1, bridge.CameraSide.FramesDropped);
        Assert.Empty(log.Seen);
        Assert.Equal(0, uplink.SentCount);
    }

    [Fact]
    public void Create_SamePortTwice_Throws()
    {
        using var port = new InMemoryPort("p");
        Assert.Throws<ArgumentException>(() => BridgeDataPlane.Create(port, port, new FirstByteDecider(new DecisionLog())));
    }
}
