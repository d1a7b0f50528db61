using System.Globalization;
using Appliance.Syslog.Tests.Support;

namespace Appliance.Syslog.Tests;

public sealed class TmpExperiment
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Experiment_ContinuousLoggingAcrossRestart_Report(bool graceful)
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        await using var host = await SyslogTestHost.StartAsync(o => { o.Host = "127.0.0.1"; o.Port = collector.Port; });
        var n = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                TestLog.Sequence(host.Logger, n++);
                await Task.Delay(1);
            }
        });
        await Task.Delay(1000);
        await collector.StopProcessAsync(graceful);
        await Task.Delay(500);
        await collector.StartProcessAsync();
        await Task.Delay(1000);
        await stop.CancelAsync();
        await writer;
        await host.WaitDrainedAsync(TimeSpan.FromSeconds(10));
        var got = await collector.WaitForAsync(m => m.Count >= n, TimeSpan.FromSeconds(5));
        var seqs = got.Select(m => int.Parse(m.Sd("camfw@32473")["seq"], CultureInfo.InvariantCulture)).ToList();
        var missing = Enumerable.Range(0, n).Except(seqs).ToList();
        Assert.Fail($"graceful={graceful} total={n} received={seqs.Count} distinct={seqs.Distinct().Count()} missing={missing.Count} [{string.Join(",", missing.Take(20))}] dropped={host.Stats.Dropped}");
    }
}
