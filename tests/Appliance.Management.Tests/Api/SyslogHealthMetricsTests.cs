using System.Net;
using System.Net.Http.Json;
using Appliance.Core;
using Appliance.Management.Api;
using Appliance.Management.Traffic;

namespace Appliance.Management.Tests.Api;

/// <summary>Syslog shipping state in <c>/api/v1/health</c> and <c>/metrics</c> (issue 12, item 5).</summary>
public sealed class SyslogHealthMetricsTests
{
    [Fact]
    public async Task Health_SyslogCannotDeliver_DegradedWithTheReason()
    {
        var traffic = new SyslogTraffic { Status = Status(problem: "syslog collector unreachable for 40 s; 1200 messages waiting") };
        await using var api = await ApiHarness.StartAsync(traffic: traffic);

        using var anonymous = api.NewClient();
        using var response = await anonymous.GetAsync("/api/v1/health");
        var health = await response.Content.ReadFromJsonAsync(ManagementJsonContext.Default.HealthDto);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // degraded still forwards: not a 503
        Assert.Equal("degraded", health!.Status);
        Assert.NotNull(health.Syslog);
        Assert.False(health.Syslog.Connected);
        Assert.Equal(1200, health.Syslog.Pending);
        Assert.Equal(1100, health.Syslog.SpoolRecords);
        Assert.Equal(17, health.Syslog.Discarded);
        Assert.StartsWith("syslog collector unreachable", health.Syslog.Problem, StringComparison.Ordinal);

        // The positive control: the same state without a delivery problem is healthy.
        traffic.Status = Status(problem: null);
        var healthy = await api.Client.GetFromJsonAsync("/api/v1/health", ManagementJsonContext.Default.HealthDto);
        Assert.Equal("healthy", healthy!.Status);
    }

    [Fact]
    public async Task Metrics_SyslogShipping_DepthSpoolConnectedAgeAndDiscardsByReason()
    {
        await using var api = await ApiHarness.StartAsync(traffic: new SyslogTraffic { Status = Status(problem: "x") });

        var text = await api.Client.GetStringAsync("/metrics");

        Assert.Contains("camfw_syslog_connected 0\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_syslog_queue_depth 1200\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_syslog_spool_messages 1100\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_syslog_spool_bytes 262144\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_syslog_oldest_undelivered_age_seconds 42\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_syslog_sent_total 9000\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_syslog_discarded_total{reason=\"low-severity\"} 12\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_syslog_discarded_total{reason=\"spool-full\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE camfw_syslog_discarded_total counter\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_NoCollectorConfigured_NoSyslogShippingSeries()
    {
        await using var api = await ApiHarness.StartAsync(traffic: new SyslogTraffic { Status = null });

        var text = await api.Client.GetStringAsync("/metrics");

        Assert.Contains("camfw_syslog_queue_dropped_total 0\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("camfw_syslog_connected", text, StringComparison.Ordinal);
    }

    private static SyslogShippingStatus Status(string? problem) => new(
        Connected: false,
        Pending: 1200,
        SpoolRecords: 1100,
        SpoolBytes: 262_144,
        OldestUndeliveredSeconds: 42.7,
        Sent: 9000,
        Discarded: [new("queue-full", 0), new("low-severity", 12), new("spool-full", 5)],
        SpoolCorruptRegions: 0,
        Problem: problem);

    private sealed class SyslogTraffic : ITrafficSource
    {
        public SyslogShippingStatus? Status { get; set; }

        public long SyslogQueueDropped => 0;

        public SyslogShippingStatus? Syslog => Status;

        public IReadOnlyList<DataPlaneStatus> DataPlanes() => [new("p0", true, null, 0, 0, 1024, 0)];

        public CameraTotals Camera(int slot) => default;

        public IReadOnlyList<KeyValuePair<Reason, long>> Reasons() => [];

        public FlowPage Flows(int offset, int limit) => new(0, []);
    }
}
