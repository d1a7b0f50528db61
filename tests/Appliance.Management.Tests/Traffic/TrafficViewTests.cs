using System.Net;
using System.Net.Http.Json;
using Appliance.Core;
using Appliance.Management.Api;
using Appliance.Management.Traffic;

namespace Appliance.Management.Tests.Traffic;

public sealed class TrafficViewTests
{
    [Fact]
    public void Tracker_CountsDeniedEgressByDestination_IgnoresOthers()
    {
        var tracker = new DeniedDestinationTracker(trackedPerCamera: 4);
        var feed = new ListFeed();
        feed.Add("flow-denied", ("camera", "cam-a"), ("direction", "egress"), ("action", "dropped"), ("dst", "203.0.113.5"), ("dport", "443"), ("proto", "tcp"));
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("action", "dropped"), ("dst", "203.0.113.9"), ("dport", "80"), ("proto", "tcp"));
        feed.Add("flow-repeat", ("kind", "phone-home"), ("count", "41"), ("camera", "cam-a"), ("direction", "egress"), ("action", "dropped"), ("dst", "203.0.113.9"), ("dport", "80"), ("proto", "tcp"));
        feed.Add("flow-denied", ("camera", "cam-a"), ("direction", "ingress"), ("action", "dropped"), ("dst", "192.0.2.11"), ("dport", "23"), ("proto", "tcp"));
        feed.Add("monitored-drop", ("camera", "cam-a"), ("direction", "egress"), ("action", "pass"), ("dst", "203.0.113.1"), ("dport", "53"), ("proto", "udp"));
        tracker.CatchUp(feed);
        tracker.CatchUp(feed); // nothing new: no double counting

        var top = tracker.Top("cam-a", 5);
        Assert.Equal(2, top.Count);
        Assert.Equal(("203.0.113.9", 80, 42L), (top[0].Address, top[0].Port, top[0].Count));
        Assert.Equal(("203.0.113.5", 443, 1L), (top[1].Address, top[1].Port, top[1].Count));
        Assert.Empty(tracker.Top("cam-b", 5));
    }

    [Fact]
    public void Tracker_MonitorModePhoneHome_NotCountedAsDenied()
    {
        // A camera in monitor mode is reported phoning home, but its frames passed: not a refused destination.
        var tracker = new DeniedDestinationTracker();
        var feed = new ListFeed();
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("action", "monitored"), ("dst", "203.0.113.9"), ("dport", "80"), ("proto", "tcp"));
        feed.Add("flow-repeat", ("kind", "phone-home"), ("count", "7"), ("camera", "cam-a"), ("direction", "egress"), ("action", "monitored"), ("dst", "203.0.113.9"), ("dport", "80"), ("proto", "tcp"));
        tracker.CatchUp(feed);
        Assert.Empty(tracker.Top("cam-a", 5));
    }

    [Fact]
    public void Tracker_FullTable_KeepsHeavyHitter()
    {
        var tracker = new DeniedDestinationTracker(trackedPerCamera: 2);
        var feed = new ListFeed();
        feed.Add("flow-repeat", ("kind", "flow-denied"), ("count", "100"), ("camera", "c"), ("direction", "egress"), ("action", "dropped"), ("dst", "198.51.100.1"), ("dport", "1"), ("proto", "tcp"));
        for (var i = 2; i < 50; i++)
        {
            feed.Add("flow-denied", ("camera", "c"), ("direction", "egress"), ("action", "dropped"), ("dst", $"198.51.100.{i}"), ("dport", "1"), ("proto", "tcp"));
        }

        tracker.CatchUp(feed);
        Assert.Equal("198.51.100.1", tracker.Top("c", 1)[0].Address);
    }

    [Fact]
    public void Tracker_EventsCarryTheCamerasName_TopDestinationNamesIt()
    {
        var tracker = new DeniedDestinationTracker();
        var feed = new ListFeed();
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("action", "dropped"), ("dst", "203.0.113.50"), ("dport", "443"), ("proto", "tcp"), ("dns", "p2p.vendor.example"));
        feed.Add("flow-repeat", ("kind", "phone-home"), ("count", "3"), ("camera", "cam-a"), ("direction", "egress"), ("action", "dropped"), ("dst", "203.0.113.50"), ("dport", "443"), ("proto", "tcp"), ("dns", "-"));
        feed.Add("flow-denied", ("camera", "cam-a"), ("direction", "egress"), ("action", "dropped"), ("dst", "198.51.100.7"), ("dport", "80"), ("proto", "tcp"), ("dns", "-"));
        tracker.CatchUp(feed);

        var top = tracker.Top("cam-a", 5);
        Assert.Equal(("203.0.113.50", 4L, "p2p.vendor.example"), (top[0].Address, top[0].Count, top[0].Name)); // "-" does not erase it
        Assert.Null(top[1].Name);
    }

    [Fact]
    public async Task CamerasMetricsFlowsEvents_ShowTrafficSource()
    {
        var traffic = new FakeTraffic();
        var feed = new ListFeed();
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("action", "dropped"), ("dst", "203.0.113.9"), ("dport", "80"), ("proto", "tcp"), ("dns", "cloud.vendor.example"));
        var tracker = new DeniedDestinationTracker();
        tracker.CatchUp(feed);
        await using var api = await ApiHarness.StartAsync(traffic: traffic, events: feed, denied: tracker);

        var cameras = await api.Client.GetFromJsonAsync("/api/v1/cameras", ManagementJsonContext.Default.CamerasDto);
        var cam = Assert.Single(cameras!.Cameras);
        Assert.Equal(("cam-a", 10L, 3L, 1000L, 180L), (cam.Name, cam.FramesPassed, cam.FramesDropped, cam.BytesPassed, cam.BytesDropped));
        Assert.Equal("02:00:00:00:00:01", cam.Mac);
        Assert.Equal(("203.0.113.9", "cloud.vendor.example"), (Assert.Single(cam.TopDeniedDestinations).Address, cam.TopDeniedDestinations[0].Name));

        var metrics = await api.Client.GetAsync("/metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("camfw_camera_frames_total{camera=\"cam-a\",verdict=\"drop\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_frames_by_reason_total{reason=\"no-rule-matched\",verdict=\"drop\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_capture_drops_total{plane=\"p\\\"0\"} 7\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_policy_version 1\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_camera_no_dns_for_peer_total{camera=\"cam-a\"} 4\n", text, StringComparison.Ordinal);
        Assert.Equal(4, cam.NoDnsForPeer);
        Assert.Contains("camfw_syslog_queue_dropped_total 5\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_flow_table_entries{plane=\"p\\\"0\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_flow_quota_evictions_total{plane=\"p\\\"0\"} 12\n", text, StringComparison.Ordinal);

        // The XDP fast path's figures, for the plane that runs one only.
        Assert.Contains("# TYPE camfw_xdp_forwarded_frames_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_xdp_attached{plane=\"xdp1\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_xdp_flows{plane=\"xdp1\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_xdp_flows_installed_total{plane=\"xdp1\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_xdp_install_failures_total{plane=\"xdp1\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_xdp_forwarded_frames_total{plane=\"xdp1\"} 900\n", text, StringComparison.Ordinal);
        Assert.Contains("camfw_xdp_forwarded_bytes_total{plane=\"xdp1\"} 123456\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("camfw_xdp_attached{plane=\"p", text, StringComparison.Ordinal);

        var flows = await api.Client.GetFromJsonAsync("/api/v1/flows?offset=1&limit=1", ManagementJsonContext.Default.FlowsDto);
        Assert.Equal((2, 1), (flows!.Total, flows.Flows.Count));
        Assert.Equal(20001, flows.Flows[0].SourcePort);
        Assert.Equal("nvr.site.example", flows.Flows[0].PeerName);

        var names = await api.Client.GetFromJsonAsync("/api/v1/dns/names?camera=cam-a", ManagementJsonContext.Default.LearnedNamesDto);
        Assert.Equal(["a.vendor.example 203.0.113.8", "b.vendor.example 203.0.113.9"], names!.Names.Select(n => $"{n.Name} {n.Address}"));
        Assert.Equal(30, names.Names[0].RemainingSeconds);
        var none = await api.Client.GetFromJsonAsync("/api/v1/dns/names?camera=cam-z", ManagementJsonContext.Default.LearnedNamesDto);
        Assert.Empty(none!.Names);

        var events = await api.Client.GetFromJsonAsync("/api/v1/events", ManagementJsonContext.Default.EventsDto);
        Assert.Equal("phone-home", Assert.Single(events!.Events).Kind);

        // A dead data plane makes health 503 and metrics camfw_up 0.
        traffic.Healthy = false;
        using var anonymous = api.NewClient();
        using var health = await anonymous.GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("camfw_up 0\n", await api.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    private sealed class FakeTraffic : ITrafficSource
    {
        public bool Healthy { get; set; } = true;

        public long SyslogQueueDropped => 5;

        public IReadOnlyList<DataPlaneStatus> DataPlanes() =>
        [
            new("p\"0", Healthy, Healthy ? null : "engine fault", 7, 2, 1024, 0, QuotaEvictions: 12),
            new("xdp1", true, null, 0, 3, 1024, 0, FastPath: new FastPathStatus(Attached: true, Flows: 3, Installed: 5, InstallFailures: 1, FramesForwarded: 900, BytesForwarded: 123_456)),
        ];

        public CameraTotals Camera(int slot) => slot == 0 ? new(10, 3, 1000, 180, DateTimeOffset.UnixEpoch, 4) : default;

        public IReadOnlyList<KeyValuePair<Reason, long>> Reasons() => [new(Reason.RuleMatch, 10), new(Reason.NoRuleMatched, 3)];

        public FlowPage Flows(int offset, int limit)
        {
            FlowView[] all = [new("p0", "cam-a", "tcp", "198.51.100.10", 20000, "192.0.2.11", 554, "ingress", "established", 1, null), new("p0", "cam-a", "tcp", "198.51.100.10", 20001, "192.0.2.11", 554, "ingress", "established", 1, null, "nvr.site.example")];
            return new(all.Length, [.. all.Skip(offset).Take(limit)]);
        }

        public IReadOnlyList<LearnedNameView> LearnedNames()
            => [new("cam-b", "c.vendor.example", "203.0.113.7", 10), new("cam-a", "b.vendor.example", "203.0.113.9", -5), new("cam-a", "a.vendor.example", "203.0.113.8", 30)];
    }

    private sealed class ListFeed : IEventFeed
    {
        private readonly List<ReportedEvent> _events = [];

        public long Total => _events.Count;

        public void Add(string kind, params (string Key, string Value)[] fields)
            => _events.Add(new ReportedEvent(_events.Count + 1, DateTimeOffset.UnixEpoch.AddSeconds(_events.Count), kind, "Warning", kind, fields.ToDictionary(f => f.Key, f => f.Value)));

        public IReadOnlyList<ReportedEvent> Recent(int max, long after = 0)
            => [.. Enumerable.Reverse(_events).Where(e => e.Sequence > after).Take(max)];
    }
}
