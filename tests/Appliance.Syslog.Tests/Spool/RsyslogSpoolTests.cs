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
    private static int _barriers;
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

        await WaitPastBarrierAsync(host, collector);
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

        Assert.Equal(before + 1 + flood, host.Stats.Queued); // and the barrier after the first 1,000
        Assert.Equal(0, host.Stats.Dropped);
        Assert.True(host.Stats.SpoolRecords >= flood - 1_001, $"{host.Stats.SpoolRecords} spooled");
        Assert.True(Directory.GetFiles(_spool, "*.seg").Length > 1);
        Assert.False(host.Stats.Connected);

        // 3. The collector is back: the backlog goes out, memory first, then the spool.
        await collector.StartProcessAsync();
        Assert.True(await host.WaitDrainedAsync(Patience), $"{host.Stats.Pending} still pending");
        await WaitPastBarrierAsync(host, collector);
        var got = Received(collector);

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
        await WaitPastBarrierAsync(second, collector);

        Assert.Equal(Enumerable.Range(0, 5_100), Received(collector).Select(Seq));
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
        await WaitPastBarrierAsync(host, collector);

        var seqs = Received(collector).Select(Seq).ToList();
        Assert.Equal(total - dropped, seqs.Count);
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(Enumerable.Range(0, total / 100).Select(i => i * 100), seqs.Where(s => s % 100 == 0)); // every warning
        Assert.Equal(Enumerable.Range(0, 1000), seqs.Take(1000)); // the start of the outage, whole
    }

    private static int Seq(ReceivedMessage m) => int.Parse(m.Sd("camfw@32473")["seq"], CultureInfo.InvariantCulture);

    /// <summary>
    /// Logs a barrier event after everything the test logged and waits until rsyslog has written it as its last line.
    /// The sender delivers in order over one TCP stream (memory queue, then spool, then what comes after), so once the
    /// barrier is there, everything before it, duplicates included, has arrived too: no fixed wait for one that might.
    /// </summary>
    private static async Task WaitPastBarrierAsync(SyslogTestHost host, RsyslogServer collector)
    {
        var marker = Interlocked.Increment(ref _barriers);
        TestLog.Barrier(host.Logger, marker);
        var text = $"Barrier {marker}\"";
        await Eventually.TrueAsync(() => LastLine(collector).Contains(text, StringComparison.Ordinal), $"barrier {marker} as rsyslog's last line",
            Patience, () => "last line: " + LastLine(collector), every: TimeSpan.FromMilliseconds(100));
    }

    /// <summary>The test's own messages, without the barriers.</summary>
    private static List<ReceivedMessage> Received(RsyslogServer collector)
        => collector.Read().Where(m => m.MsgId != "test-barrier").ToList();

    /// <summary>The output's last complete line (read from its tail: the file holds 200,000 lines).</summary>
    private static string LastLine(RsyslogServer collector)
    {
        if (!File.Exists(collector.OutputFile))
        {
            return "";
        }

        using var stream = new FileStream(collector.OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var tail = new byte[Math.Min(stream.Length, 16 * 1024)];
        stream.Seek(-tail.Length, SeekOrigin.End);
        stream.ReadExactly(tail);
        var text = System.Text.Encoding.UTF8.GetString(tail).TrimEnd('\n');
        var start = text.LastIndexOf('\n') + 1;
        return text.EndsWith('}') ? text[start..] : "";
    }
}
