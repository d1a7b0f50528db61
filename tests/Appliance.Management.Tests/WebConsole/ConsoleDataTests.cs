using Appliance.Core.Policy;
using Appliance.Management.Policies;
using Appliance.Management.Traffic;
using Appliance.Management.WebConsole;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Management.Tests.WebConsole;

/// <summary>The console's own bookkeeping: per-minute samples and the blocked-traffic inbox.</summary>
public sealed class ConsoleDataTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-console-data");

    [Fact]
    public async Task Sampler_PerMinuteTicks_WindowsCountOnlyTheirMinutes()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        using var policies = await PoliciesAsync();
        var traffic = new MutableTraffic();
        using var sampler = new TrafficSampler(policies, traffic, time, TimeSpan.FromMinutes(1));
        sampler.Start(); // sample at 12:00: 0 / 0

        // 100 frames passed and 1 dropped every minute, for 70 minutes; the timer takes each sample.
        for (var minute = 1; minute <= 70; minute++)
        {
            traffic.Passed += 100;
            traffic.Dropped += 1;
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var now = new CameraTotals(traffic.Passed, traffic.Dropped, 0, 0, null);
        var five = sampler.Window(TestPolicies.CameraName, now, TimeSpan.FromMinutes(5));
        var hour = sampler.Window(TestPolicies.CameraName, now, TimeSpan.FromHours(1));
        Assert.Equal((500L, 5L, false), (five!.Value.Passed, five.Value.Dropped, five.Value.Partial));
        Assert.Equal((6000L, 60L, false), (hour!.Value.Passed, hour.Value.Dropped, hour.Value.Partial));
        Assert.Null(sampler.Window("no-such-camera", now, TimeSpan.FromMinutes(5)));

        // Frames per second since the newest sample at least 5 s old: 60 more frames in 30 s is 2 a second.
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2.0, sampler.FramesPerSecond(traffic.Passed + traffic.Dropped + 60)!.Value, 3);
    }

    [Fact]
    public async Task Sampler_YoungHistory_WindowMarkedPartial()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        using var policies = await PoliciesAsync();
        var traffic = new MutableTraffic { Passed = 40 };
        using var sampler = new TrafficSampler(policies, traffic, time, TimeSpan.FromMinutes(1));
        sampler.Start();
        time.Advance(TimeSpan.FromMinutes(2));
        var w = sampler.Window(TestPolicies.CameraName, new CameraTotals(100, 0, 0, 0, null), TimeSpan.FromHours(1))!.Value;
        Assert.Equal((60L, true), (w.Passed, w.Partial));
    }

    [Fact]
    public void Inbox_GroupsByCameraDestinationPortReason_CriticalFirst()
    {
        var feed = new ListFeed();
        feed.Drop("flow-denied", "cam-a", "198.51.100.7", 80);
        feed.Drop("flow-denied", "cam-a", "198.51.100.7", 80);
        feed.Drop("flow-denied", "cam-a", "198.51.100.7", 81);
        feed.Add("flow-repeat", ("kind", "flow-denied"), ("count", "40"), ("camera", "cam-a"), ("dst", "198.51.100.7"), ("dport", "80"), ("reason", "no-rule-matched"), ("action", "dropped"), ("proto", "tcp"));
        feed.At = feed.At.AddMinutes(-10); // older, but critical
        feed.Drop("ip-spoof", "cam-a", "198.51.100.10", 554, reason: "ip-spoof");
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("action", "monitored"), ("dst", "203.0.113.1"), ("dport", "443"), ("reason", "no-rule-matched"));
        var inbox = new BlockedTrafficInbox();
        inbox.CatchUp(feed);
        inbox.CatchUp(feed); // nothing new: nothing counted twice

        var list = inbox.List();
        Assert.Equal(3, list.Count); // the monitored phone-home passed: not blocked
        Assert.Equal(("198.51.100.10", true, "ip-spoof"), (list[0].Destination, list[0].Critical, list[0].Kind));
        var port80 = list.Single(g => g.Port == 80);
        Assert.Equal(42L, port80.Count);
        Assert.Equal(1L, list.Single(g => g.Port == 81).Count);
        Assert.Empty(inbox.List("cam-b"));
    }

    [Fact]
    public void Inbox_Full_EvictsRoutineBeforeCritical()
    {
        var feed = new ListFeed();
        feed.Drop("phone-home", "cam-a", "203.0.113.50", 443);
        for (var i = 0; i < 100; i++)
        {
            feed.At = feed.At.AddSeconds(1);
            feed.Drop("flow-denied", "cam-a", "198.51.100.1", 1000 + i);
        }

        var inbox = new BlockedTrafficInbox(maxGroups: 16);
        inbox.CatchUp(feed);
        Assert.True(inbox.Count <= 16);
        Assert.Equal("203.0.113.50", inbox.List()[0].Destination);
        Assert.Contains(inbox.List(), g => g.Port == 1099); // the newest routine line stays
    }

    [Fact]
    public void Inbox_EventsCarryTheCamerasName_LineShowsItForEgressOnly()
    {
        var feed = new ListFeed();
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("dst", "203.0.113.50"), ("dport", "443"), ("reason", "no-rule-matched"), ("action", "dropped"), ("dns", "p2p.vendor.example"));
        feed.Add("flow-repeat", ("kind", "phone-home"), ("count", "2"), ("camera", "cam-a"), ("direction", "egress"), ("dst", "203.0.113.50"), ("dport", "443"), ("reason", "no-rule-matched"), ("action", "dropped"), ("dns", "-"));

        // Ingress: the name is the source's, not the destination's (the camera).
        feed.Add("flow-denied", ("camera", "cam-a"), ("direction", "ingress"), ("src", "203.0.113.50"), ("dst", "10.0.0.10"), ("dport", "23"), ("reason", "no-rule-matched"), ("action", "dropped"), ("dns", "p2p.vendor.example"));
        var inbox = new BlockedTrafficInbox();
        inbox.CatchUp(feed);

        var list = inbox.List();
        Assert.Equal(("p2p.vendor.example", 3L), (list.Single(g => g.Port == 443).DnsName, list.Single(g => g.Port == 443).Count));
        Assert.Null(list.Single(g => g.Port == 23).DnsName);
    }

    [Fact]
    public void Inbox_UnknownDevice_GroupedBySource()
    {
        var feed = new ListFeed();
        feed.Add("unknown-device", ("camera", "-"), ("src", "192.0.2.99"), ("dst", "198.51.100.10"), ("dport", "554"), ("reason", "unknown-device"), ("action", "dropped"));
        var inbox = new BlockedTrafficInbox();
        inbox.CatchUp(feed);
        var g = Assert.Single(inbox.List());
        Assert.Equal(("unknown device 192.0.2.99", true), (g.Camera, g.Critical));
    }

    public void Dispose() => _root.Dispose();

    private async Task<PolicyService> PoliciesAsync()
    {
        foreach (var (name, text) in TestPolicies.Files())
        {
            _root.Write(Path.Combine("policies", name), text);
        }

        var policies = new PolicyService(new PolicyHolder(), PolicyCompiler.Instance, new PolicyServiceOptions { Directory = _root.Combine("policies"), StateDirectory = _root.Combine("state") }, NullLogger<PolicyService>.Instance);
        Assert.Equal(ApplyOutcome.Applied, (await policies.LoadInitialAsync()).Outcome);
        return policies;
    }
}
