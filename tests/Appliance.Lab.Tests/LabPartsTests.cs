namespace Appliance.Lab.Tests;

/// <summary>The lab's pure parts: judging expectations, the one-lab-per-machine lock, the site and its policy.</summary>
public sealed class LabPartsTests
{
    private static readonly LabSite Site = LabSite.Example;

    private static Dictionary<string, TrafficStatus> Traffic(params (string Host, string Key, long Value)[] counters)
    {
        var result = new Dictionary<string, TrafficStatus>();
        foreach (var group in counters.GroupBy(c => c.Host))
        {
            result[group.Key] = new TrafficStatus(group.Key, group.ToDictionary(c => c.Key, c => c.Value));
        }

        return result;
    }

    private static LabCheck Find(IReadOnlyList<LabCheck> checks, string fragment) => Assert.Single(checks, c => c.Name.Contains(fragment, StringComparison.Ordinal));

    [Fact]
    public void Evaluate_NothingReportedYet_EveryCheckUndecided()
    {
        var checks = LabCheck.Evaluate(Site, Traffic());

        Assert.NotEmpty(checks);
        Assert.All(checks, c => Assert.Null(c.Ok));
    }

    [Fact]
    public void Evaluate_StreamBytesArrived_StreamCheckPasses()
    {
        var checks = LabCheck.Evaluate(Site, Traffic(("nvr", "bytes_from_north-gate", 5000), ("nvr", "failed_north-lobby", 3)));

        Assert.True(Find(checks, "stream of north-gate").Ok);
        Assert.Equal(5000, Find(checks, "stream of north-gate").Successes);
        Assert.False(Find(checks, "stream of north-lobby").Ok); // tried three times, not a byte
        Assert.Null(Find(checks, "stream of south-gate").Ok);
    }

    [Fact]
    public void Evaluate_PhoneHomeOnlyFailed_BlockedCheckPasses()
    {
        var checks = LabCheck.Evaluate(Site, Traffic(("cam1", "phone_home_tcp_failed", 4), ("cam1", "phone_home_udp_unanswered", 4)));

        var phoneHome = Find(checks, "phones home");
        Assert.True(phoneHome.Ok);
        Assert.Equal(8, phoneHome.Attempts);
        Assert.Equal(0, phoneHome.Successes);
    }

    [Fact]
    public void Evaluate_CloudAcceptedAConnectionTheCameraMissed_BlockedCheckFails()
    {
        // The listener's own count catches a leak even when the camera's side did not notice it.
        var checks = LabCheck.Evaluate(Site, Traffic(("cam1", "phone_home_tcp_failed", 4), ("cloud", "tcp443_accepted_from_192_0_2_11", 1)));

        Assert.False(Find(checks, "phones home").Ok);
    }

    [Fact]
    public void Evaluate_RogueReachedTheNvr_RogueCheckFails()
    {
        var checks = LabCheck.Evaluate(Site, Traffic(("rogue", "poke_198_51_100_10_failed", 2), ("nvr", "web_accepted", 1)));

        Assert.False(Find(checks, "reaches nvr").Ok);
        Assert.Null(Find(checks, "reaches internet-host").Ok);
    }

    [Fact]
    public void Evaluate_InternetHostOnlyFailed_InboundCheckPasses()
    {
        var checks = LabCheck.Evaluate(Site, Traffic(("inet", "poke_192_0_2_17_failed", 3)));

        Assert.True(Find(checks, "opens south-gate's web page").Ok);
    }

    [Fact]
    public void Evaluate_NoFloodRunning_NoFloodChecks()
    {
        var checks = LabCheck.Evaluate(Site, Traffic(("nvr", "bytes_from_south-gate", 100)));

        Assert.DoesNotContain(checks, c => c.Name.Contains("flood", StringComparison.Ordinal) || c.Name.Contains("new connections", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_OneNvrReconnectFailedDuringFlood_FloodCheckFailsControlPasses()
    {
        var checks = LabCheck.Evaluate(Site, Traffic(
            ("flood", "flood_syns_sent", 5000),
            ("nvr", "newconn_south-gate_ok", 4),
            ("nvr", "newconn_south-gate_flood_ok", 11),
            ("nvr", "newconn_south-gate_flood_failed", 1)));

        var control = Find(checks, "new connections to south-gate (TCP 554), no flood on");
        var flooded = Find(checks, "during a SYN flood spoofing the NVR (5,000 SYNs sent)");
        Assert.True(control.Ok);
        Assert.Equal((12L, 11L), (flooded.Attempts, flooded.Successes));
        Assert.False(flooded.Ok); // a stream that worked is not enough: every reconnect must
    }

    [Fact]
    public void WithRecent_StrictCheckFailedLately_NotGettingThroughNow()
    {
        var earlier = new[] { new LabCheck("x", true, 10, 10, "attempts") { Strict = true } };
        var now = new[] { new LabCheck("x", true, 13, 12, "attempts") { Strict = true } };

        var recent = Assert.Single(LabCheck.WithRecent(now, earlier));

        Assert.Equal((3L, 2L), (recent.RecentAttempts, recent.RecentSuccesses));
        Assert.False(recent.GettingThroughNow);
        Assert.False(recent.OkNow);
    }

    [Fact]
    public void TryAcquire_SecondLabWhileFirstHoldsIt_RefusedWithFirstPid()
    {
        var dir = Path.Combine(Path.GetTempPath(), "camfw-lablock-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using (var first = LabLock.TryAcquire(dir, out _))
            {
                Assert.NotNull(first);

                var second = LabLock.TryAcquire(dir, out var holder);

                Assert.Null(second);
                Assert.Equal(Environment.ProcessId, holder);
            }

            // Released: the next lab gets it, even though a pid file of a gone lab could have been left.
            File.WriteAllText(Path.Combine(dir, "lab.pid"), "999999\n");
            using var third = LabLock.TryAcquire(dir, out _);
            Assert.NotNull(third);
            Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(dir, "lab.pid")).Trim());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Example_InterfaceAndNamespaceNames_FitKernelLimitsAndCarryThePrefix()
    {
        foreach (var host in Site.Hosts)
        {
            Assert.StartsWith(LabNetwork.Prefix, host.Namespace, StringComparison.Ordinal);
            Assert.InRange(host.Id.Length, 1, 15); // the switch-side veth is named after the host
        }

        Assert.InRange(LabNetwork.CameraPort.Length, 1, 15);
        Assert.InRange(LabNetwork.UplinkPort.Length, 1, 15);
        Assert.Equal(Site.Hosts.Count, Site.Hosts.Select(h => h.Mac).Distinct().Count());
        Assert.Equal(Site.Hosts.Count, Site.Hosts.Select(h => h.Address).Distinct().Count());
    }

    [Fact]
    public void Mismatches_RepositoryExamplePolicy_DescribesEveryLabHost()
    {
        var loaded = Appliance.Policy.PolicyLoader.LoadDirectory(Path.Combine(Repository(), "policies"));
        Assert.False(loaded.HasErrors, string.Join('\n', loaded.Diagnostics));

        var problems = LabSiteCheck.Mismatches(Site, loaded.Spec!);

        Assert.Empty(problems);
    }

    [Fact]
    public void Mismatches_CloudAllowedAndCameraMissing_NamesBoth()
    {
        var loaded = Appliance.Policy.PolicyLoader.LoadDirectory(Path.Combine(Repository(), "policies"));
        var spec = loaded.Spec!;
        var gate = spec.Cameras.Single(c => c.Name == "north-gate");
        var cloudRule = new Appliance.Core.Policy.RuleSpec
        {
            Id = "vendor-cloud",
            Direction = Appliance.Core.Direction.Egress,
            Protocol = Appliance.Core.Policy.RuleProtocol.Tcp,
            Ports = [new Appliance.Core.Policy.PortRange(443, 443)],
            Peers = [System.Net.IPNetwork.Parse("203.0.113.50/32")],
        };
        var edited = spec with
        {
            Cameras = [.. spec.Cameras.Where(c => c.Name != "south-gate" && c.Name != "north-gate"), gate with { Rules = [.. gate.Rules, cloudRule] }],
        };

        var problems = LabSiteCheck.Mismatches(Site, edited);

        Assert.Contains(problems, p => p.Contains("south-gate is not in the policy", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("rule vendor-cloud allows the phone-home", StringComparison.Ordinal));
        Assert.Equal(2, problems.Count);
    }

    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "lab", "traffic.py")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository not found above " + AppContext.BaseDirectory);
    }
}
