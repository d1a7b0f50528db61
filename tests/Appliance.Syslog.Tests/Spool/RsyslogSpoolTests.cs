using System.Globalization;
using Appliance.Syslog.Tests.Support;
using Appliance.TestSupport;

namespace Appliance.Syslog.Tests.Spool;

/// <summary>
/// The spool against a real rsyslog that is stopped while the appliance floods it with events: an outage of
/// minutes, accelerated (the events of minutes logged as fast as the process can), bigger than the memory queue.
/// </summary>
public sealed class RsyslogSpoolTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "camfw-spool-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    [Fact]
    public async Task Tcp_CollectorDownDuring200kFlood_EverythingDeliveredInOrderExactlyOnce()
    {
        const int before = 1_000;
        const int flood = 200_000;
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.QueueCapacity = 1_000;
            o.SpoolDirectory = _spool;
        });

        // 1. Delivered normally, then the collector stops (SIGTERM, as systemctl stop does) mid-stream.
        for (var i = 0; i < before; i++)
        {
            TestLog.Sequence(host.Logger, i);
        }

        await WaitForLinesAsync(collector, before);
        await collector.StopProcessAsync(graceful: true);

        // 2. The flood while it is away: informational drop events with a phone-home warning every 1000th.
        for (var i = before; i < before + flood; i++)
        {
            if (i % 1000 == 0)
            {
                TestLog.Alert(host.Logger, i);
            }
            else
            {
                TestLog.Sequence(host.Logger, i);
            }
        }

        Assert.Equal(before + flood, host.Stats.Queued);
        Assert.Equal(0, host.Stats.Dropped);
        Assert.True(host.Stats.SpoolRecords >= flood - 1_001, $"{host.Stats.SpoolRecords} spooled");
        Assert.True(Directory.GetFiles(_spool, "*.seg").Length > 1);
        Assert.False(host.Stats.Connected);

        // 3. The collector is back: the backlog goes out, memory first, then the spool.
        await collector.StartProcessAsync();
        Assert.True(await host.WaitDrainedAsync(Patience), $"{host.Stats.Pending} still pending");
        await WaitForLinesAsync(collector, before + flood);
        var got = collector.Read();

        var seqs = got.Select(Seq).ToList();
        Assert.Equal(before + flood, seqs.Count); // no duplicate: the collector's orderly close proved it read all
        Assert.Equal(Enumerable.Range(0, before + flood), seqs);
        Assert.All(got.Where(m => m.MsgId == "test-alert"), m => Assert.Equal((20 * 8) + 4, m.Pri));
        Assert.Equal(0, host.Stats.Dropped);
        Assert.Equal(0, host.Stats.SpoolBytes);
        Assert.Empty(Directory.GetFiles(_spool, "*.seg"));
    }

    [Fact]
    public async Task Tcp_ProcessRestartedDuringOutage_NewSenderDeliversTheSpoolFirstExactlyOnce()
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        await collector.StopProcessAsync(graceful: true);

        // 1. The first process logs through the outage and is stopped: its memory backlog is saved to the spool.
        await using (var first = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.QueueCapacity = 500;
            o.SpoolDirectory = _spool;
        }))
        {
            for (var i = 0; i < 5_000; i++)
            {
                TestLog.Sequence(first.Logger, i);
            }

            Assert.Equal(4_500, first.Stats.SpoolRecords);
        }

        Assert.NotEmpty(Directory.GetFiles(_spool, "*.seg"));

        // 2. A new process with the collector back: the spool goes first, then what the new process logs.
        await collector.StartProcessAsync();
        await using var second = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.QueueCapacity = 500;
            o.SpoolDirectory = _spool;
        });
        Assert.Equal(5_000, second.Stats.Restored);
        for (var i = 5_000; i < 5_100; i++)
        {
            TestLog.Sequence(second.Logger, i);
        }

        Assert.True(await second.WaitDrainedAsync(Patience), $"{second.Stats.Pending} still pending");
        await WaitForLinesAsync(collector, 5_100);

        Assert.Equal(Enumerable.Range(0, 5_100), collector.Read().Select(Seq));
        Assert.Equal(0, second.Stats.Dropped);
    }

    [Fact]
    public async Task Tcp_SpoolBoundExceededDuringOutage_WarningsKeptDiscardsCountedRestDeliveredInOrder()
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        await collector.StopProcessAsync(graceful: true);
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.QueueCapacity = 100;
            o.SpoolDirectory = _spool;
            o.SpoolMaxBytes = 1024 * 1024;
        });

        const int total = 50_000;
        for (var i = 0; i < total; i++)
        {
            if (i % 100 == 0)
            {
                TestLog.Alert(host.Logger, i);
            }
            else
            {
                TestLog.Sequence(host.Logger, i);
            }
        }

        Assert.True(host.Stats.SpoolBytes <= 1024 * 1024);
        Assert.True(host.Stats.DroppedBy(SyslogDropReason.LowSeverity) > 0);
        Assert.Equal(0, host.Stats.DroppedBy(SyslogDropReason.SpoolFull)); // 500 warnings fit in the reserve
        var dropped = host.Stats.Dropped;

        await collector.StartProcessAsync();
        Assert.True(await host.WaitDrainedAsync(Patience));
        await WaitForLinesAsync(collector, (int)(total - dropped));

        var seqs = collector.Read().Select(Seq).ToList();
        Assert.Equal(total - dropped, seqs.Count);
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(Enumerable.Range(0, total / 100).Select(i => i * 100), seqs.Where(s => s % 100 == 0)); // every warning
        Assert.Equal(Enumerable.Range(0, 1000), seqs.Take(1000)); // the start of the outage, whole
    }

    private static int Seq(ReceivedMessage m) => int.Parse(m.Sd("camfw@32473")["seq"], CultureInfo.InvariantCulture);

    /// <summary>Waits until rsyslog has written at least <paramref name="count"/> lines (cheaper than parsing them all each time).</summary>
    private static async Task WaitForLinesAsync(RsyslogServer collector, int count)
    {
        if (await Eventually.HoldsAsync(() => Lines(collector) >= count, Patience, every: TimeSpan.FromMilliseconds(100)))
        {
            await Task.Delay(200); // a positive bound reached; let a duplicate, if any, arrive too
        }
    }

    private static int Lines(RsyslogServer collector)
    {
        if (!File.Exists(collector.OutputFile))
        {
            return 0;
        }

        using var stream = new FileStream(collector.OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lines = 0;
        var buffer = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            lines += buffer.AsSpan(0, n).Count((byte)'\n');
        }

        return lines;
    }
}
