namespace Appliance.Transport.Tests;

public sealed class StagedStopTests
{
    [Fact]
    public async Task StopAsync_Started_GateThenStopReceivingThenWaitsForTheClose()
    {
        var stop = new StagedStop();
        var steps = new List<string>();
        var closed = new TaskCompletionSource();
        stop.Start("p", () => steps.Add("start"));

        var stopping = stop.StopAsync(() => steps.Add("gate"), started => steps.Add($"stop receiving started={started}"), () => closed.Task, CancellationToken.None);

        Assert.False(stopping.IsCompleted);
        Assert.True(stop.StopRequested);
        closed.SetResult();
        await stopping;
        Assert.Equal(["start", "gate", "stop receiving started=True"], steps);
    }

    [Fact]
    public async Task StopAsync_NeverStarted_TellsStopReceivingAndForbidsStart()
    {
        var stop = new StagedStop();
        bool? startedSeen = null;

        await stop.StopAsync(() => { }, started => startedSeen = started, () => Task.CompletedTask, CancellationToken.None);

        Assert.False(startedSeen);
        Assert.Throws<InvalidOperationException>(() => stop.Start("p", () => Assert.Fail("must not start after a stop")));
    }

    [Fact]
    public async Task StopAsync_EarlierFault_DoesNotThrow()
    {
        var stop = new StagedStop();
        stop.Start("p", () => { });

        await stop.StopAsync(() => { }, _ => { }, () => Task.FromException(new InvalidOperationException("loop died")), CancellationToken.None);

        Assert.True(stop.StopRequested);
    }

    [Fact]
    public async Task StopAsync_Cancelled_Throws()
    {
        var stop = new StagedStop();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stop.StopAsync(() => { }, _ => { }, () => new TaskCompletionSource().Task, cts.Token));
    }

    [Fact]
    public void Start_Twice_Throws()
    {
        var stop = new StagedStop();
        var starts = 0;
        stop.Start("p", () => starts++);

        var ex = Assert.Throws<InvalidOperationException>(() => stop.Start("p", () => starts++));

        Assert.Equal(1, starts);
        Assert.Contains("already started or stopped", ex.Message, StringComparison.Ordinal);
    }
}
