using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Syslog.Events;
using Appliance.Syslog.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Appliance.Syslog.Tests.Events;

/// <summary>Drop events through the reporter, the logging pipeline and the sink into a real rsyslog.</summary>
public sealed class SecurityEventsSyslogTests
{
    [Fact]
    public async Task Reporter_CameraPhoningHome_RsyslogReceivesWarningWithEveryField()
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tcp);
        var policies = new PolicyHolder();
        await using var host = await SyslogTestHost.StartAsync(
            o =>
            {
                o.Host = "127.0.0.1";
                o.Port = collector.Port;
            },
            services =>
            {
                services.AddSingleton(policies);
                services.AddSecurityEvents();
            });
        policies.Slots.TryGetOrAdd("lobby-cam", out var slot);
        var ring = new DropEventRing(64);
        var reporter = host.Services.GetRequiredService<DropEventReporter>();
        reporter.Attach(ring);

        var e = new DropEvent
        {
            Source = IpAddr.FromIPAddress(IPAddress.Parse("10.20.0.11")),
            Destination = IpAddr.FromIPAddress(IPAddress.Parse("203.0.113.80")),
            SourceMac = new MacAddress(0x0011_2233_4455UL),
            DestinationMac = new MacAddress(0x0200_0000_00FEUL),
            PolicyVersion = 7,
            CameraSlot = slot,
            RuleIndex = Verdict.NoRule,
            SourcePort = 51000,
            DestinationPort = 443,
            Reason = Reason.NoRuleMatched,
            EtherType = 0x0800,
            Protocol = 6,
            Direction = Direction.Egress,
            Side = Side.Camera,
        };
        for (var i = 0; i < 3; i++)
        {
            ring.TryWrite(in e);
        }

        reporter.DrainOnce();
        host.Services.GetRequiredService<SecurityEventLog>().PolicyApplied(8, "9f86d081", 12, 40, "policies/");
        var got = await collector.WaitForAsync(m => m.Count >= 2, TimeSpan.FromSeconds(20));

        Assert.Equal(["phone-home", "policy-applied"], got.Select(m => m.MsgId));
        var m = got[0];
        Assert.Equal((20 * 8) + 4, m.Pri); // local4.warning
        var sd = m.Sd("camfw@32473");
        Assert.Equal("lobby-cam", sd["camera"]);
        Assert.Equal("00:11:22:33:44:55", sd["mac"]);
        Assert.Equal("10.20.0.11", sd["src"]);
        Assert.Equal("51000", sd["sport"]);
        Assert.Equal("203.0.113.80", sd["dst"]);
        Assert.Equal("443", sd["dport"]);
        Assert.Equal("tcp", sd["proto"]);
        Assert.Equal("egress", sd["direction"]);
        Assert.Equal("no-rule-matched", sd["reason"]);
        Assert.Equal("-", sd["rule"]);
        Assert.Equal("7", sd["policy"]);
        Assert.Equal("dropped", sd["action"]);
        Assert.Equal("1001", sd["event-id"]);
        Assert.Equal("8", got[1].Sd("camfw@32473")["version"]);
        Assert.Equal((20 * 8) + 6, got[1].Pri);

        // Two repeats of the flow wait for the periodic summary, not a message each.
        Assert.Equal(2, host.Services.GetRequiredService<SecurityEventLog>().Total);
        Assert.Equal(1, reporter.TrackedFlows);
    }
}
