using System.Globalization;
using System.Text;
using Appliance.Syslog.Tests.Support;
using Appliance.TestSupport;

namespace Appliance.Syslog.Tests;

/// <summary>The sink against a real rsyslog on loopback, over UDP and TCP.</summary>
public sealed class RsyslogTransportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(SyslogTransport.Udp)]
    [InlineData(SyslogTransport.Tcp)]
    public async Task Log_StructuredEvent_RsyslogParsesRfc5424AndEveryField(SyslogTransport transport)
    {
        using var collector = await RsyslogServer.StartAsync(transport == SyslogTransport.Udp ? CollectorMode.Udp : CollectorMode.Tcp);
        await using (var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.Transport = transport;
        }))
        {
            var before = DateTimeOffset.UtcNow;

            // Every character PARAM-VALUE must escape, plus non-ASCII text in both SD and MSG.
            TestLog.Event(host.Logger, "cam-1 \"lobby\"", "a\\b]c wörld");
            var got = await collector.WaitForAsync(m => m.Count >= 1, Patience);

            var m = Assert.Single(got);
            Assert.Equal((20 * 8) + 6, m.Pri); // local4.info
            Assert.Equal("1", m.Version);
            Assert.Equal("camfw", m.AppName);
            Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), m.ProcId);
            Assert.Equal("test-event", m.MsgId);
            Assert.Equal("camfw-test", m.Hostname);
            var ts = DateTimeOffset.Parse(m.Timestamp, CultureInfo.InvariantCulture);
            Assert.InRange(ts, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
            var sd = m.Sd("camfw@32473");
            Assert.Equal("cam-1 \"lobby\"", sd["camera"]);
            Assert.Equal("a\\b]c wörld", sd["note"]);
            Assert.Equal("7001", sd["event-id"]);
            Assert.Equal("Appliance.Syslog.Tests", sd["category"]);

            // Non-ASCII MSG goes as MSG-UTF8: BOM first (rsyslog keeps it in msg).
            Assert.Equal("\uFEFFCamera cam-1 \"lobby\" says a\\b]c wörld", m.Message);
            Assert.True(await host.WaitDrainedAsync(Patience));
            Assert.Equal(1, host.Stats.Sent);
        }
    }

    [Fact]
    public async Task Log_BelowMinimumLevel_NotSent()
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
        });

        TestLog.Debug(host.Logger, 1);
        TestLog.Sequence(host.Logger, 2);
        var got = await collector.WaitForAsync(m => m.Count >= 1, Patience);

        var m = Assert.Single(got);
        Assert.Equal("test-seq", m.MsgId);
        Assert.Equal(1, host.Stats.Queued);
    }

    [Fact]
    public async Task Udp_MessageOverCap_TruncatedAtUtf8BoundaryAndStillParses()
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Udp);
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.Transport = SyslogTransport.Udp;
            o.MaxMessageBytes = 1024;
        });

        TestLog.Long(host.Logger, new string('€', 3000)); // 9000 bytes of 3-byte characters
        var got = await collector.WaitForAsync(m => m.Count >= 1, Patience);

        var m = Assert.Single(got);
        Assert.Equal("test-long", m.MsgId);
        Assert.True(Encoding.UTF8.GetByteCount(m.Raw) <= 1024, $"raw message is {Encoding.UTF8.GetByteCount(m.Raw)} bytes");
        var text = m.Message.TrimStart('\uFEFF');
        Assert.True(text.Length > 200, "the message text was cut far more than needed");
        Assert.All(text, c => Assert.Equal('€', c)); // no replacement character: the cut fell between characters
        Assert.Equal(1, host.Stats.Truncated);
    }

    [Fact]
    public async Task Tcp_Burst10000WithinBound_NothingLostInOrder()
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.QueueCapacity = 10_000;
        });

        for (var i = 0; i < 10_000; i++)
        {
            TestLog.Sequence(host.Logger, i);
        }

        var got = await collector.WaitForAsync(m => m.Count >= 10_000, TimeSpan.FromSeconds(40));

        Assert.Equal(0, host.Stats.Dropped);
        Assert.Equal(10_000, got.Count);
        var seqs = got.Select(m => int.Parse(m.Sd("camfw@32473")["seq"], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(0, 10_000), seqs);
    }

    [Theory]
    [InlineData(true)]  // a restart: SIGTERM, rsyslog closes its connections
    [InlineData(false)] // a crash: SIGKILL, the kernel resets them
    public async Task Tcp_CollectorRestartMidStream_EverythingQueuedArrivesAtMostOneDuplicate(bool graceful)
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
        });

        // 1. Before the outage.
        for (var i = 0; i < 300; i++)
        {
            TestLog.Sequence(host.Logger, i);
        }

        await collector.WaitForAsync(m => m.Count >= 300, Patience);

        // 2. The collector goes away; logging goes on and the sender notices (connection closed, reconnects refused).
        await collector.StopProcessAsync(graceful);
        for (var i = 300; i < 600; i++)
        {
            TestLog.Sequence(host.Logger, i);
        }

        await Eventually.HoldsAsync(() => host.Stats.ConnectFailures >= 2, Patience);
        Assert.False(host.Stats.Connected);
        Assert.True(host.Stats.Pending >= 299, $"only {host.Stats.Pending} pending during the outage");

        // 3. It comes back on the same port; more logging while the backlog drains.
        await collector.StartProcessAsync();
        for (var i = 600; i < 900; i++)
        {
            TestLog.Sequence(host.Logger, i);
        }

        Assert.True(await host.WaitDrainedAsync(Patience), "the backlog did not drain");
        var got = await collector.WaitForAsync(m => m.Select(Seq).Distinct().Count() >= 900, Patience);

        var seqs = got.Select(Seq).ToList();
        Assert.Equal(Enumerable.Range(0, 900), seqs.Distinct().Order());
        Assert.InRange(seqs.Count - 900, 0, 1); // at most the one documented duplicate
        Assert.Equal(0, host.Stats.Dropped);
        Assert.True(host.Stats.Reconnects >= 1);
        Assert.True(host.Stats.Connected);
    }

    [Fact]
    public async Task Udp_CollectorCrashedAndBack_SenderKeepsGoing()
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Udp);
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.Transport = SyslogTransport.Udp;
        });

        // While the collector is away the datagrams are lost (UDP), and ICMP errors surface on later sends.
        await collector.StopProcessAsync(graceful: false);
        for (var i = 0; i < 20; i++)
        {
            TestLog.Sequence(host.Logger, i);
            await Task.Delay(2);
        }

        Assert.True(await host.WaitDrainedAsync(Patience));
        await collector.StartProcessAsync();
        TestLog.Sequence(host.Logger, 1000);
        var got = await collector.WaitForAsync(m => m.Any(x => Seq(x) == 1000), Patience);

        Assert.Contains(got, m => Seq(m) == 1000);
        Assert.Equal(0, host.Stats.Dropped);
    }

    [Fact]
    public async Task Tcp_CollectorDropsEveryConnectionAtOnce_ReconnectsWithBackoffNotInALoop()
    {
        // A collector that accepts and closes at once (session limit, rejected client certificate...).
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var accepted = 0;
        using var stop = new CancellationTokenSource();
        var acceptor = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                Interlocked.Increment(ref accepted);
            }
        });

        await using (var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }))
        {
            for (var i = 0; i < 1000; i++)
            {
                TestLog.Sequence(host.Logger, i);
            }

            await Task.Delay(1500);

            // Backoff 50 ms doubling to 400 ms: about eight attempts in 1.5 s; a hot loop makes hundreds.
            Assert.InRange(Volatile.Read(ref accepted), 2, 30);
            // The first message on each new connection is held until the connection proves itself, so the
            // collector's drops do not swallow the backlog.
            Assert.True(host.Stats.Pending >= 990, $"{host.Stats.Pending} pending");
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => acceptor);
    }

    [Fact]
    public async Task Log_QueueFullWhileCollectorDown_DropsNewestAndCountsWithoutBlocking()
    {
        // A port nothing listens on: every connect is refused, so everything stays queued.
        var port = FreeTcpPort();
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = port;
            o.QueueCapacity = 10;
        });

        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 25; i++)
        {
            TestLog.Sequence(host.Logger, i);
        }

        sw.Stop();

        // The sender may hold one message taken out of the queue as "in flight", freeing one slot.
        Assert.InRange(host.Stats.Queued, 10, 11);
        Assert.Equal(25, host.Stats.Queued + host.Stats.Dropped);
        Assert.False(host.Stats.Connected);
    }

    private static int Seq(ReceivedMessage m) => int.Parse(m.Sd("camfw@32473")["seq"], CultureInfo.InvariantCulture);

    private static int FreeTcpPort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
