using System.Text;
using Appliance.Syslog.Spool;
using Appliance.Syslog.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Syslog.Tests.Spool;

/// <summary>The memory queue with its on-disk spool, driven directly (no collector): order, restart, damage, bound.</summary>
public sealed class SyslogQueueSpoolTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "camfw-spool-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void TryEnqueue_MemoryFull_OverflowsToSpoolAndComesOutInOrder()
    {
        using var queue = Queue(capacity: 10);

        for (var i = 0; i < 1000; i++)
        {
            Assert.True(queue.TryEnqueue(Message(i)));
        }

        Assert.Equal(1000, queue.Stats.Pending);
        Assert.Equal(990, queue.Stats.SpoolRecords);
        Assert.True(queue.Stats.SpoolBytes > 990 * SyslogSpool.HeaderSize);

        // While the spool holds messages, new ones go behind them even though memory has room again.
        Assert.Equal(Enumerable.Range(0, 20), DrainSeqs(queue, 20));
        Assert.True(queue.TryEnqueue(Message(1000)));
        Assert.Equal(Enumerable.Range(20, 981), DrainSeqs(queue));
        Assert.Equal(0, queue.Stats.Pending);
        Assert.Equal(0, queue.Stats.SpoolBytes);
        Assert.Equal(0, queue.SpoolSegments); // delivered segments are deleted
        Assert.Empty(Directory.GetFiles(_dir, "*.seg"));
        Assert.Equal(0, queue.Stats.Dropped);
    }

    [Fact]
    public void Open_SpoolLeftByEarlierRun_DeliversItFirstInOrderWithoutRepeats()
    {
        using (var first = Queue(capacity: 10))
        {
            for (var i = 0; i < 500; i++)
            {
                first.TryEnqueue(Message(i));
            }

            Assert.Equal(Enumerable.Range(0, 50), DrainSeqs(first, 50)); // delivered before the "crash"
        }

        // A new process: no SaveForNextStart (killed), so the memory part (none left here) is gone; the spool is not.
        using var second = Queue(capacity: 10);
        Assert.Equal(450, second.Stats.Restored);
        Assert.Equal(450, second.Stats.Pending);
        second.TryEnqueue(Message(500));
        Assert.Equal(Enumerable.Range(50, 451), DrainSeqs(second));
    }

    [Fact]
    public void SaveForNextStart_MemoryBacklog_GoesInFrontOfTheSpool()
    {
        using (var first = Queue(capacity: 100))
        {
            for (var i = 0; i < 300; i++)
            {
                first.TryEnqueue(Message(i));
            }

            Assert.Equal(Enumerable.Range(0, 30), DrainSeqs(first, 30));
            var (kept, lost) = first.SaveForNextStart();
            Assert.Equal(270, kept);
            Assert.Equal(0, lost);
        }

        using var second = Queue(capacity: 100);
        Assert.Equal(270, second.Stats.Restored);
        Assert.Equal(Enumerable.Range(30, 270), DrainSeqs(second));
    }

    [Fact]
    public void Open_TruncatedTailRecord_SkippedAndCountedTheRestDelivered()
    {
        WriteSpool(200);
        var last = Directory.GetFiles(_dir, "*.seg").Order(StringComparer.Ordinal).Last();
        using (var f = new FileStream(last, FileMode.Open))
        {
            f.SetLength(f.Length - 7); // a power loss in the middle of the last record
        }

        using var queue = Queue(capacity: 10);

        Assert.Equal(1, queue.Stats.SpoolCorruptRegions);
        Assert.True(queue.Stats.SpoolCorruptBytes > 0);
        Assert.Equal(Enumerable.Range(10, 189), DrainSeqs(queue)); // 0-9 were in memory, 199 was torn
    }

    [Fact]
    public void Open_CorruptRecordInTheMiddle_SkipsJustThatRecord()
    {
        WriteSpool(200);
        var first = Directory.GetFiles(_dir, "*.seg").Order(StringComparer.Ordinal).First();
        var bytes = File.ReadAllBytes(first);
        var at = IndexOf(bytes, "seq 50 ");
        bytes[at + 4] ^= 0x40; // a flipped bit in record 50's text: its checksum fails
        File.WriteAllBytes(first, bytes);

        using var queue = Queue(capacity: 10);

        Assert.Equal(1, queue.Stats.SpoolCorruptRegions);
        Assert.Equal(Enumerable.Range(10, 190).Where(i => i != 50), DrainSeqs(queue));
    }

    [Theory]
    [InlineData(0)]     // an empty file
    [InlineData(19)]    // shorter than one header
    [InlineData(4096)]  // random bytes
    public void Open_GarbageSegment_CountedNeverThrows(int length)
    {
        Directory.CreateDirectory(_dir);
        var garbage = new byte[length];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(Path.Combine(_dir, "00000001099511627777.seg"), garbage);
        File.WriteAllBytes(Path.Combine(_dir, SyslogSpool.CheckpointName), garbage.Take(24).ToArray());

        using var queue = Queue(capacity: 10);

        Assert.Equal(0, queue.Stats.Restored);
        Assert.Equal(length > 0 ? 1 : 0, queue.Stats.SpoolCorruptRegions);
        Assert.True(queue.TryEnqueue(Message(1)));
        Assert.Equal([1], DrainSeqs(queue));
    }

    [Fact]
    public void TryEnqueue_SpoolBoundReached_DropsLowSeverityFirstThenKeepsStartAndNewest()
    {
        // 64 KiB bound: informational stops at 48 KiB (25% kept for warnings), segments of 16 KiB.
        using var queue = Queue(capacity: 1, maxBytes: 64 * 1024);
        var accepted = new List<int>();
        for (var i = 0; i < 3000; i++)
        {
            // A flood of informational drop events with a warning (a phone-home) every tenth message.
            if (queue.TryEnqueue(Message(i, i % 10 == 0 ? SyslogSeverity.Warning : SyslogSeverity.Informational)))
            {
                accepted.Add(i);
            }
        }

        var stats = queue.Stats;
        Assert.True(stats.SpoolBytes <= 64 * 1024, $"{stats.SpoolBytes} bytes spooled");
        Assert.True(stats.DroppedBy(SyslogDropReason.LowSeverity) > 0);
        Assert.True(stats.DroppedBy(SyslogDropReason.SpoolFull) > 0);
        Assert.Equal(0, stats.DroppedBy(SyslogDropReason.QueueFull));

        var delivered = DrainSeqs(queue);
        Assert.Equal(3000, delivered.Count + stats.Dropped); // every message either delivered or counted
        Assert.Equal(delivered.Order(), delivered);          // in order
        Assert.Equal(Enumerable.Range(0, 50), delivered.Take(50)); // the start of the outage is kept, all of it
        Assert.Contains(2990, delivered);                    // and the newest warning
        Assert.All(delivered.Where(i => i > 2500), i => Assert.Equal(0, i % 10)); // late on, only warnings found room
        Assert.True(delivered.Count(i => i % 10 == 0) > delivered.Count / 2);
    }

    [Fact]
    public void Maintain_SpoolBoundExceeded_LogsDiscardCountsOnceThenEveryInterval()
    {
        using var queue = Queue(capacity: 1, maxBytes: 64 * 1024);
        var logger = new CapturingLogger<SyslogSender>();
        using var sender = new SyslogSender(queue, Options(capacity: 1, maxBytes: 64 * 1024), logger, _time);
        for (var i = 0; i < 3000; i++)
        {
            queue.TryEnqueue(Message(i, i % 10 == 0 ? SyslogSeverity.Warning : SyslogSeverity.Informational));
        }

        sender.Maintain();
        var spooling = Assert.Single(logger.Entries, e => e.EventId.Name == "syslog-spooling");
        Assert.Equal(LogLevel.Warning, spooling.Level);
        var first = Assert.Single(logger.Entries, e => e.EventId.Name == "syslog-discarded");
        Assert.Equal(queue.Stats.Dropped.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Values["Count"]);
        Assert.Equal(queue.Stats.DroppedBy(SyslogDropReason.LowSeverity).ToString(System.Globalization.CultureInfo.InvariantCulture), first.Values["LowSeverity"]);
        Assert.NotEqual("0", first.Values["Evicted"]);
        Assert.Contains("from the middle of the backlog", first.Message, StringComparison.Ordinal);

        // More discards within the interval: no new line yet; after it, one line with just the new ones.
        for (var i = 3000; i < 3100; i++)
        {
            queue.TryEnqueue(Message(i));
        }

        sender.Maintain();
        Assert.Single(logger.Entries, e => e.EventId.Name == "syslog-discarded");
        _time.Advance(SyslogSender.DiscardReportInterval);
        sender.Maintain();
        var discards = logger.Entries.Where(e => e.EventId.Name == "syslog-discarded").ToList();
        Assert.Equal(2, discards.Count);
        Assert.Equal("100", discards[1].Values["Count"]);
        Assert.Equal("100", discards[1].Values["LowSeverity"]);
    }

    [Fact]
    public void Stats_OldestUndeliveredAge_FollowsTheHeadOfTheQueue()
    {
        using var queue = Queue(capacity: 2);
        Assert.Equal(TimeSpan.Zero, queue.Stats.OldestUndeliveredAge(_time.GetUtcNow()));

        queue.TryEnqueue(Message(0));
        _time.Advance(TimeSpan.FromSeconds(30));
        queue.TryEnqueue(Message(1));
        _time.Advance(TimeSpan.FromSeconds(30));
        queue.TryEnqueue(Message(2)); // spooled
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(TimeSpan.FromSeconds(90), queue.Stats.OldestUndeliveredAge(_time.GetUtcNow()));
        DrainSeqs(queue, 2);
        Assert.Equal(TimeSpan.FromSeconds(30), queue.Stats.OldestUndeliveredAge(_time.GetUtcNow())); // message 2, from the spool
        DrainSeqs(queue);
        Assert.Null(queue.Stats.OldestUndeliveredAt);
    }

    [Fact]
    public void DeliveryProblem_CollectorAwayLongerThanGrace_ReportedNotBefore()
    {
        var stats = new SyslogStats();
        var grace = TimeSpan.FromSeconds(15);
        stats.OnConnected(isReconnect: false);
        Assert.Null(stats.DeliveryProblem(_time.GetUtcNow(), grace));

        stats.OnDisconnected(_time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(10));
        stats.OnDisconnected(_time.GetUtcNow()); // later failures do not restart the clock
        Assert.Null(stats.DeliveryProblem(_time.GetUtcNow(), grace));
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Contains("unreachable for 16 s", stats.DeliveryProblem(_time.GetUtcNow(), grace), StringComparison.Ordinal);

        stats.OnConnected(isReconnect: true);
        Assert.Null(stats.DeliveryProblem(_time.GetUtcNow(), grace));
    }

    [Fact]
    public void DeliveryProblem_ConnectedButBacklogOlderThanGrace_Reported()
    {
        using var queue = Queue(capacity: 10);
        queue.Stats.OnConnected(isReconnect: false);
        queue.TryEnqueue(Message(0));
        _time.Advance(TimeSpan.FromSeconds(20));

        Assert.Contains("20 s behind", queue.Stats.DeliveryProblem(_time.GetUtcNow(), TimeSpan.FromSeconds(15)), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_UnwritableDirectory_MemoryOnlyWithTheErrorInStats()
    {
        var file = Path.Combine(Path.GetTempPath(), "camfw-not-a-dir-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(file, "x");
        try
        {
            using var queue = new SyslogQueue(Microsoft.Extensions.Options.Options.Create(new SyslogOptions { Host = "127.0.0.1", QueueCapacity = 2, SpoolDirectory = Path.Combine(file, "spool") }), _time);

            Assert.NotNull(queue.Stats.SpoolError);
            Assert.Null(queue.SpoolDirectory);
            Assert.True(queue.TryEnqueue(Message(0)));
            Assert.True(queue.TryEnqueue(Message(1)));
            Assert.False(queue.TryEnqueue(Message(2)));
            Assert.Equal(1, queue.Stats.DroppedBy(SyslogDropReason.QueueFull));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("<164>1 x", 4)]
    [InlineData("<0>1 x", 0)]
    [InlineData("<191>1 x", 7)]
    [InlineData("<>1 x", 6)]
    [InlineData("<1234567>", 6)]
    [InlineData("no pri", 6)]
    [InlineData("", 6)]
    public void SeverityOf_Pri_LowThreeBits(string message, int expected)
        => Assert.Equal(expected, SyslogSpool.SeverityOf(Encoding.ASCII.GetBytes(message)));

    private static byte[] Message(int seq, SyslogSeverity severity = SyslogSeverity.Informational)
        => Encoding.ASCII.GetBytes($"<{(20 * 8) + (int)severity}>1 2026-11-28T09:00:00Z camfw-test camfw 1 test-seq - seq {seq} padding to look like a real drop event, address 192.0.2.10 port 554");

    private static int SeqOf(byte[] message)
    {
        var text = Encoding.ASCII.GetString(message);
        var at = text.IndexOf(" seq ", StringComparison.Ordinal) + 5;
        return int.Parse(text[at..text.IndexOf(' ', at)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<int> DrainSeqs(SyslogQueue queue, int max = int.MaxValue)
    {
        var seqs = new List<int>();
        while (seqs.Count < max && queue.TryPeek(out var m))
        {
            seqs.Add(SeqOf(m));
            queue.Commit();
        }

        return seqs;
    }

    private static int IndexOf(byte[] haystack, string needle)
    {
        var n = Encoding.ASCII.GetBytes(needle);
        return haystack.AsSpan().IndexOf(n);
    }

    private IOptions<SyslogOptions> Options(int capacity, long maxBytes = 1024 * 1024)
        => Microsoft.Extensions.Options.Options.Create(new SyslogOptions { Host = "127.0.0.1", QueueCapacity = capacity, SpoolDirectory = _dir, SpoolMaxBytes = maxBytes });

    private SyslogQueue Queue(int capacity, long maxBytes = 1024 * 1024) => new(Options(capacity, maxBytes), _time);

    /// <summary>A spool of <paramref name="count"/> messages (10 in memory, lost; the rest on disk), left as a killed process leaves it.</summary>
    private void WriteSpool(int count)
    {
        using var queue = Queue(capacity: 10);
        for (var i = 0; i < count; i++)
        {
            queue.TryEnqueue(Message(i));
        }
    }
}
