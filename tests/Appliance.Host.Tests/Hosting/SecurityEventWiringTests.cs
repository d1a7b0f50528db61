using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.Host.Hosting;
using Appliance.Management.Api;
using Appliance.Management.Client;
using Appliance.Management.Policies;
using Appliance.Management.Traffic;
using Appliance.Policy;
using Appliance.Syslog.Events;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Tests.Hosting;

/// <summary>
/// The seams between the syslog security events and the management side, with the real parts on both sides:
/// drop events from a real engine through the real reporter into the denied-destination counts, and policy
/// changes into the security-event log the SIEM and <c>GET /api/v1/events</c> read.
/// </summary>
public sealed class SecurityEventWiringTests : IDisposable
{
    private static readonly MacAddress NorthGateMac = Frames.Mac("02:00:00:00:01:01");
    private readonly TempDirectory _root = new("camfw-wiring");

    [Fact]
    public void Tracker_RealReporterOutput_CountsPhoneHomeDestination()
    {
        // The example site the lab runs: north-gate (192.0.2.11) may reach its NVR, DNS and NTP, nothing else.
        var holder = new PolicyHolder();
        var load = PolicyLoader.LoadDirectory(RepoPaths.ExamplePolicies);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        holder.Swap(CompiledPolicy.Compile(load.Spec!, holder.NextVersion(), holder.Slots));
        var engine = new PacketEngine(holder);
        var options = Options.Create(new SecurityEventOptions());
        var log = new SecurityEventLog(NullLogger<SecurityEventLog>.Instance, options);
        using var reporter = new DropEventReporter(log, holder, options);
        reporter.Attach(engine.Events);

        // north-gate phoning home: a SYN and two retransmissions to 203.0.113.50:443, dropped.
        var syn = Frames.Tcp(NorthGateMac, Frames.RouterMac, "192.0.2.11", "203.0.113.50", 40000, 443, TcpFlags.Syn).ToArray();
        for (var i = 0; i < 3; i++)
        {
            var verdict = engine.ProcessFrame(syn, Side.Camera, 1_000 + i);
            Assert.Equal((VerdictAction.Drop, Reason.NoRuleMatched), (verdict.Action, verdict.Reason));
        }

        // Someone probing north-gate's telnet from outside: denied too, but not the camera's own attempt.
        var probe = Frames.Tcp(Frames.RouterMac, NorthGateMac, "203.0.113.7", "192.0.2.11", 50000, 23, TcpFlags.Syn).ToArray();
        Assert.Equal(VerdictAction.Drop, engine.ProcessFrame(probe, Side.Uplink, 2_000).Action);

        Assert.Equal(4, reporter.DrainOnce());
        reporter.FlushRepeats();
        Assert.Equal(
            [SecurityEventIds.FlowRepeat, SecurityEventIds.FlowDenied, SecurityEventIds.PhoneHome],
            log.Recent().Select(e => e.Kind));

        var tracker = new DeniedDestinationTracker();
        var feed = new SecurityEventFeed(log);
        tracker.CatchUp(feed);
        tracker.CatchUp(feed); // nothing new: nothing counted twice

        var top = Assert.Single(tracker.Top("north-gate", 5));
        Assert.Equal(("203.0.113.50", 443, "tcp", 3L), (top.Address, top.Port, top.Protocol, top.Count));
    }

    [Fact]
    public async Task Run_PhoneHomeThroughEngine_ShowsInCamerasApiTopDenied()
    {
        var (host, planes) = await StartHostAsync();
        using (host)
        {
            try
            {
                var engine = Assert.Single(planes.Planes).Engine;
                var syn = Frames.Tcp(Frames.Mac("02:00:00:00:00:01"), Frames.RouterMac, TestPolicies.CameraIp, "203.0.113.50", 40000, 443, TcpFlags.Syn).ToArray();
                Assert.Equal(VerdictAction.Drop, engine.ProcessFrame(syn, Side.Camera, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Action);

                // The reporter polls the ring (200 ms) and the host's catch-up timer (1 s) feeds the tracker: no
                // test code drives either.
                using var client = Client(host);
                CameraDto? camera = null;
                await Eventually.TrueAsync(
                    async () =>
                    {
                        camera = Assert.Single((await client.CamerasAsync(CancellationToken.None)).Body!.Cameras);
                        return camera is { TopDeniedDestinations.Count: > 0 };
                    },
                    "the denied destination reaches /api/v1/cameras",
                    every: TimeSpan.FromMilliseconds(100));

                Assert.NotNull(camera);
                var top = Assert.Single(camera.TopDeniedDestinations);
                Assert.Equal(("203.0.113.50", 443, "tcp", 1L), (top.Address, top.Port, top.Protocol, top.Count));
            }
            finally
            {
                await host.StopAsync();
            }
        }
    }

    [Fact]
    public async Task Run_PolicyApplyRejectRollback_ListedAsSecurityEvents()
    {
        var (host, _) = await StartHostAsync();
        using (host)
        {
            try
            {
                var policies = host.Services.GetRequiredService<PolicyService>();
                var api = new ChangeOrigin(ChangeOrigin.ApiKind, "127.0.0.1");
                Assert.Equal(ApplyOutcome.Applied, (await policies.ApplyAsync(Sources(TestPolicies.Files(count: 2)), api)).Outcome);
                Assert.Equal(ApplyOutcome.Rejected, (await policies.ApplyAsync(Sources(new() { ["networks.yaml"] = TestPolicies.Networks, ["cameras.yaml"] = TestPolicies.InvalidCameras }), api)).Outcome);
                Assert.Equal(ApplyOutcome.Applied, (await policies.RollbackAsync(1, api)).Outcome);

                using var client = Client(host);
                var events = (await client.EventsAsync(100, null, CancellationToken.None)).Body!.Events;
                var kinds = events.Where(e => e.Kind.StartsWith("policy-", StringComparison.Ordinal)).Select(e => e.Kind).Reverse();
                Assert.Equal([SecurityEventIds.PolicyApplied, SecurityEventIds.PolicyApplied, SecurityEventIds.PolicyRejected, SecurityEventIds.PolicyRolledBack], kinds);

                var applied = events.First(e => e.Kind == SecurityEventIds.PolicyApplied);
                Assert.Equal(("2", "2", "api from 127.0.0.1"), (applied.Fields["version"], applied.Fields["cameras"], applied.Fields["source"]));
                Assert.Equal(policies.History.TryLoad(2, out var entry, out _) ? entry!.Sha256 : null, applied.Fields["sha256"]);
                var rejected = events.Single(e => e.Kind == SecurityEventIds.PolicyRejected);
                Assert.Equal("1", rejected.Fields["errors"]);
                Assert.StartsWith("cameras.yaml:10:", rejected.Fields["reason"], StringComparison.Ordinal);
                var rolledBack = events.Single(e => e.Kind == SecurityEventIds.PolicyRolledBack);
                Assert.Equal(("2", "3"), (rolledBack.Fields["fromVersion"], rolledBack.Fields["toVersion"]));
                Assert.Contains("to version 1", rolledBack.Fields["reason"], StringComparison.Ordinal);

                // The audit log keeps its own record of every attempt.
                Assert.Equal(["applied", "applied", "rejected", "applied"], policies.Audit.ReadAll().Select(a => a.Outcome));
            }
            finally
            {
                await host.StopAsync();
            }
        }
    }

    public void Dispose() => _root.Dispose();

    private static List<PolicySource> Sources(Dictionary<string, string> files) => [.. files.Select(f => new PolicySource(f.Key, f.Value))];

    private ManagementClient Client(IHost host)
    {
        var url = host.Services.GetRequiredService<ManagementService>().Addresses[0];
        var tokenFile = _root.Combine("token");
        return new ManagementClient(new ManagementClientOptions { BaseAddress = url, Token = File.ReadAllText(tokenFile).Trim(), TokenSource = tokenFile });
    }

    private async Task<(IHost Host, FakeDataPlaneFactory Planes)> StartHostAsync()
    {
        var planes = new FakeDataPlaneFactory();
        return (await TestApplianceHost.StartAsync(_root, planes), planes);
    }
}
