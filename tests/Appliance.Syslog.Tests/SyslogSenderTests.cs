namespace Appliance.Syslog.Tests;

public sealed class SyslogSenderTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0, 250)]      // the first retry waits the initial delay
    [InlineData(1, 250)]
    [InlineData(2, 500)]      // then doubles
    [InlineData(3, 1000)]
    [InlineData(8, 30000)]    // 32 s would exceed the cap
    [InlineData(1000, 30000)] // no overflow after days of outage
    public void Backoff_ConsecutiveFailures_DoublesUpToCap(int failures, double expectedMs)
        => Assert.Equal(expectedMs, SyslogSender.Backoff(failures, Initial, Max, 0.5).TotalMilliseconds, 3);

    [Theory]
    [InlineData(3, 0.0, 800)]     // jitter floor: 0.8 x
    [InlineData(3, 0.999, 1199.6)] // jitter ceiling: just under 1.2 x
    [InlineData(9, 0.999, 30000)] // jitter never lifts it above the cap
    public void Backoff_Jitter_WithinTwentyPercentAndCapped(int failures, double random, double expectedMs)
        => Assert.Equal(expectedMs, SyslogSender.Backoff(failures, Initial, Max, random).TotalMilliseconds, 1);
}
