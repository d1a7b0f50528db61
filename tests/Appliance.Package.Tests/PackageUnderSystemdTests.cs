using System.Globalization;
using System.Text.RegularExpressions;
using Appliance.TestSupport;

namespace Appliance.Package.Tests;

/// <summary>
/// The Debian package as an integrator meets it: a bookworm userland booted with systemd as PID 1 (never the host's),
/// the .deb installed with apt, <c>systemctl enable --now camfw</c>, the box wired between a camera and the uplink.
/// Each test boots its own container from the cached root (a fresh tmpfs overlay) in namespaces it made, and tears
/// all of it down, also on failure.
/// </summary>
public sealed class PackageUnderSystemdTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    private const string Unit = "camfw.service";

    // CAP_NET_ADMIN (12) and CAP_NET_RAW (13), as /proc/PID/status prints capability sets.
    private const string NetRawAndAdmin = "0000000000003000";

    // ... and CAP_BPF (39).
    private const string NetRawAdminAndBpf = "0000008000003000";

    [RootFact]
    public void Package_InstalledAndStarted_RunsConfinedEnforcesTheExamplePolicyAndReloadsEdits()
    {
        using var site = new Site();
        using var box = BootAndInstall(site, package.First);

        // Ready: Type=notify, so `enable --now` returned after READY=1 and the unit is active with camfw's status line.
        Assert.Equal("active", box.Property(Unit, "ActiveState"));
        Assert.Equal("running", box.Property(Unit, "SubState"));
        Assert.Equal("notify", box.Property(Unit, "Type"));
        Assert.StartsWith("policy v1 (9 cameras), 1 pair(s)", box.Property(Unit, "StatusText"), StringComparison.Ordinal);

        // Confined: the camfw user, only the two network capabilities in every set that counts.
        var pid = box.Property(Unit, "MainPID");
        var status = box.Check("cat", $"/proc/{pid}/status");
        var uid = box.Check("id", "-u", "camfw").Trim();
        Assert.Matches($"(?m)^Uid:\\s+{uid}\\s+{uid}\\s+{uid}\\s+{uid}$", status);
        Assert.NotEqual("0", uid);
        Assert.Equal(NetRawAndAdmin, Field(status, "CapEff"));
        Assert.Equal(NetRawAndAdmin, Field(status, "CapPrm"));
        Assert.Equal(NetRawAndAdmin, Field(status, "CapBnd"));
        // Ambient (so the ip/ethtool helpers camfw runs get them too), hence inheritable: the same two, nothing else.
        Assert.Equal(NetRawAndAdmin, Field(status, "CapAmb"));
        Assert.Equal(NetRawAndAdmin, Field(status, "CapInh"));
        Assert.Equal("1", Field(status, "NoNewPrivs"));

        // The version the package was named after is the one the program reports.
        var debVersion = box.Check("dpkg-query", "-W", "-f=${Version}", "camfw").Trim();
        Assert.StartsWith($"camfw {debVersion[..debVersion.LastIndexOf('-')]}", box.Check("camfw", "version"), StringComparison.Ordinal);

        // Traffic as the example policy says: the NVR's stream and the site DNS cross, the phone-home does not.
        Assert.True(site.NvrPullsStream(out var stream), $"NVR stream through the box: {stream}\n{Journal(box)}");
        Assert.True(site.CameraAsksSiteDns(out var dns), $"site DNS through the box: {dns}");
        Assert.False(site.CameraReachesCloud(out var cloud), $"the camera phoned home: {cloud}");
        // ... and it was the box that stopped it: the denial is in the journal (journald has camfw's logs).
        Assert.True(Eventually.Holds(() => Journal(box).Contains(Site.Cloud, StringComparison.Ordinal), TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(500)), $"no denial of {Site.Cloud} in the journal:\n{Journal(box)}");
        Assert.Contains("camfw ready: policy version 1, 9 cameras", Journal(box), StringComparison.Ordinal);

        // An edit in /etc/camfw/policies reloads by itself, and `camfw status` on the box says so.
        Assert.Contains("policy version 1, 9 cameras", box.Check("camfw", "status"), StringComparison.Ordinal);
        box.Sh("cat > /etc/camfw/policies/cameras/east.yaml", EastCamera);
        string last = "";
        Assert.True(Eventually.Holds(() => (last = box.Run("camfw", "status").Stdout).Contains("policy version 2, 10 cameras", StringComparison.Ordinal), TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(500)), $"camfw status after the edit:\n{last}\n{Journal(box)}");
        Assert.True(site.NvrPullsStream(out stream), $"NVR stream after the reload: {stream}");
        Assert.False(site.CameraReachesCloud(out cloud), $"the camera phoned home after the reload: {cloud}");
    }

    [RootFact]
    public void Package_FrozenProcess_TrafficStopsAndTheWatchdogRestartsIt()
    {
        using var site = new Site();
        using var box = BootAndInstall(site, package.First);
        Assert.True(site.NvrPullsStream(out var stream), $"NVR stream before freezing: {stream}\n{Journal(box)}");
        var frozen = box.Property(Unit, "MainPID");
        Assert.Equal("0", box.Property(Unit, "NRestarts"));

        box.Check("kill", "-STOP", frozen);

        // Fail closed: while the process is frozen nothing crosses (the same pull worked a moment ago).
        Assert.False(site.NvrPullsStream(out stream, timeoutSeconds: 3), $"the stream crossed a frozen box: {stream}");

        // The watchdog (WatchdogSec=10s) notices, systemd kills and restarts it: a new process, ready again.
        Assert.True(Eventually.Holds(() =>
            box.Property(Unit, "MainPID") is var pid && pid != frozen && pid != "0" && box.Property(Unit, "ActiveState") == "active", TimeSpan.FromSeconds(120), every: TimeSpan.FromMilliseconds(500)),
            $"camfw was not restarted:\n{box.Run("systemctl", "status", "--no-pager", Unit).Stdout}\n{Journal(box)}");
        Assert.Equal("1", box.Property(Unit, "NRestarts"));
        Assert.Contains("Watchdog timeout", box.Check("journalctl", "--no-pager", "-u", Unit), StringComparison.Ordinal);
        Assert.True(Eventually.Holds(() => site.NvrPullsStream(out stream), TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(500)), $"NVR stream after the restart: {stream}");
    }

    [RootFact]
    public void Package_UpgradeRemoveAndPurge_KeepTokenAndHistoryThenLeaveNothing()
    {
        using var site = new Site();
        using var box = BootAndInstall(site, package.First, snapshotBefore: true);

        // Something to keep: an edited policy (version 2 in the history), the token made on first start.
        box.Sh("cat > /etc/camfw/policies/cameras/east.yaml", EastCamera);
        Assert.True(Eventually.Holds(() => box.Run("camfw", "status").Stdout.Contains("policy version 2", StringComparison.Ordinal), TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(500)), Journal(box));
        var token = box.Check("cat", "/var/lib/camfw/api-token");
        Assert.Equal("600", box.Check("stat", "-c", "%a", "/var/lib/camfw/api-token").Trim());
        Assert.Equal("camfw", box.Check("stat", "-c", "%U", "/var/lib/camfw/api-token").Trim());
        var history = box.Check("ls", "/var/lib/camfw/history");
        // history/<version>/, the version zero-padded to ten digits.
        Assert.Contains("0000000002", history.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var config = box.Check("cat", "/etc/camfw/camfw.json");
        var before = box.Property(Unit, "MainPID");

        // Upgrade to the rebuilt package: restarted on the new program, everything kept.
        box.Check(TimeSpan.FromMinutes(5), "apt-get", "install", "-y", "-q", $"/mnt/packages/{package.Second}");
        Assert.Equal(package.Second.Split('_')[1], box.Check("dpkg-query", "-W", "-f=${Version}", "camfw").Trim());
        Assert.True(Eventually.Holds(() => box.Property(Unit, "ActiveState") == "active" && box.Property(Unit, "MainPID") is var p && p != before && p != "0", TimeSpan.FromSeconds(60), every: TimeSpan.FromMilliseconds(500)), $"not restarted after the upgrade:\n{Journal(box)}");
        Assert.Equal(token, box.Check("cat", "/var/lib/camfw/api-token"));
        Assert.Equal(config, box.Check("cat", "/etc/camfw/camfw.json"));
        Assert.True(box.Run("test", "-f", "/etc/camfw/policies/cameras/east.yaml").ExitCode == 0, "the edited policy is gone");
        var historyAfter = box.Check("ls", "/var/lib/camfw/history").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Superset(history.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(), historyAfter.ToHashSet());
        Assert.Contains("10 cameras", box.Check("camfw", "status"), StringComparison.Ordinal);
        Assert.True(site.NvrPullsStream(out var stream), $"NVR stream after the upgrade: {stream}");

        // Remove: the program goes, configuration and state stay.
        box.Check(TimeSpan.FromMinutes(5), "apt-get", "remove", "-y", "-q", "camfw");
        Assert.NotEqual(0, box.Run("test", "-e", "/usr/lib/camfw/camfw").ExitCode);
        Assert.True(box.Run("pgrep", "-u", "camfw").ExitCode != 0, $"camfw still runs after remove:\n{box.Run("ps", "-eo", "user,pid,args").Stdout}");
        Assert.Equal(config, box.Check("cat", "/etc/camfw/camfw.json"));
        Assert.Equal(token, box.Check("cat", "/var/lib/camfw/api-token"));

        // Purge: nothing of camfw is left, compared with the system before it was installed.
        var purge = box.Sh("apt-get purge -y -q camfw 2>&1");
        var after = Snapshot(box);
        var left = after.Except(_snapshot!).ToList();
        Assert.True(left.Count == 0, "left behind after purge:\n" + string.Join('\n', left));
        Assert.True(box.Run("getent", "passwd", "camfw").ExitCode != 0, $"the camfw user is left after purge:\n{purge}\n{box.Run("ps", "-eo", "user,pid,args").Stdout}");
        Assert.NotEqual(0, box.Run("getent", "group", "camfw").ExitCode);
        Assert.DoesNotContain("camfw", box.Check("dpkg-statoverride", "--list"), StringComparison.Ordinal);
        Assert.Equal("inactive", box.Run("systemctl", "is-active", Unit).Stdout.Trim());
    }

    [RootFact]
    public void Package_XdpOffloadOn_RefusedAsShippedThenForwardsInTheKernelWithTheDropIn()
    {
        using var site = new Site();
        using var box = BootAndInstall(site, package.First);
        site.TakeRedirectedFrames(XdpPassObject());

        // The fast path asked for under the unit as shipped (no CAP_BPF, no bpf(2)): refused at start, saying what to
        // install; nothing crosses meanwhile.
        // Its data-plane thread pinned as well (Bridge:DataPlaneCpus): sched_setaffinity must pass the unit's filter.
        box.Sh("sed -i 's/\"Bridge\": {/\"Bridge\": {\\n    \"XdpOffload\": \"on\",\\n    \"DataPlaneCpus\": \"0\",/' /etc/camfw/camfw.json");
        Assert.Contains("\"XdpOffload\": \"on\"", box.Check("cat", "/etc/camfw/camfw.json"), StringComparison.Ordinal);
        Assert.NotEqual(0, box.Run("systemctl", "restart", Unit).ExitCode);
        Assert.True(
            Eventually.Holds(() => Journal(box).Contains("install /usr/share/camfw/xdp-offload.conf as a drop-in", StringComparison.Ordinal), TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(500)),
            $"no word of the drop-in in the journal:\n{Journal(box)}");
        Assert.False(site.NvrPullsStream(out var stream, timeoutSeconds: 3), $"the stream crossed a box that is not running: {stream}");

        // With the shipped drop-in: running, holding those three capabilities and no more, the stream crossing.
        box.Check("install", "-D", "-m", "0644", "/usr/share/camfw/xdp-offload.conf", "/etc/systemd/system/camfw.service.d/xdp-offload.conf");
        box.Check("systemctl", "daemon-reload");
        box.Check(TimeSpan.FromSeconds(120), "systemctl", "restart", Unit);
        Assert.Equal("active", box.Property(Unit, "ActiveState"));
        var status = box.Check("cat", $"/proc/{box.Property(Unit, "MainPID")}/status");
        Assert.Equal(NetRawAdminAndBpf, Field(status, "CapEff"));
        Assert.Equal(NetRawAdminAndBpf, Field(status, "CapBnd"));
        Assert.Equal(NetRawAdminAndBpf, Field(status, "CapAmb"));
        Assert.Contains("established flows are forwarded in the kernel (XDP, native mode", Journal(box), StringComparison.Ordinal);
        Assert.Contains("data-plane thread runs on CPUs 0 only", Journal(box), StringComparison.Ordinal);
        Assert.True(site.NvrPullsStream(out stream), $"NVR stream through the XDP path: {stream}\n{Journal(box)}");
        Assert.False(site.CameraReachesCloud(out var cloud), $"the camera phoned home: {cloud}");

        // /metrics says so too, once the sweep (every 0.5 s) has read the kernel's counts back. Fetched with bash's
        // /dev/tcp: the box has no HTTP client.
        var token = box.Check("cat", "/var/lib/camfw/api-token").Trim();
        var metrics = "";
        Assert.True(
            Eventually.Holds(
                () => Regex.IsMatch(metrics = box.Run("bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /metrics HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\nAuthorization: Bearer %s\\r\\n\\r\\n' '{token}' >&3 && cat <&3").Stdout, "camfw_xdp_forwarded_frames_total\\{plane=\"pair0\"\\} [1-9]"),
                TimeSpan.FromSeconds(30),
                every: TimeSpan.FromMilliseconds(500)),
            $"no kernel-forwarded frames in /metrics:\n{metrics}");
        Assert.Contains("camfw_xdp_attached{plane=\"pair0\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Matches("camfw_xdp_flows_installed_total\\{plane=\"pair0\"\\} [1-9]", metrics);

        // ... and most of it crossed in the kernel: what camfw says when it takes the programs off (a 512 KiB stream is
        // some 360 data segments; only the handshake and the close needed the engine).
        box.Check(TimeSpan.FromSeconds(60), "systemctl", "stop", Unit);
        var detached = Regex.Match(Journal(box), @"XDP programs detached \((\d+) flows installed, (\d+) frames forwarded in the kernel\)");
        Assert.True(detached.Success, $"no detach line:\n{Journal(box)}");
        Assert.True(int.Parse(detached.Groups[1].Value, CultureInfo.InvariantCulture) >= 1, detached.Value);
        Assert.True(long.Parse(detached.Groups[2].Value, CultureInfo.InvariantCulture) >= 200, detached.Value);
    }

    /// <summary>The package's own xdp_pass.bpf.o, unpacked from the .deb (the hosts' ends of the wires run it).</summary>
    private string XdpPassObject()
    {
        var dir = Path.Combine(package.Packages, "unpacked");
        if (!File.Exists(Path.Combine(dir, "usr", "lib", "camfw", "xdp_pass.bpf.o")))
        {
            Shell.Check(TimeSpan.FromMinutes(2), "dpkg-deb", ["-x", Path.Combine(package.Packages, package.First), dir]);
        }

        return Path.Combine(dir, "usr", "lib", "camfw", "xdp_pass.bpf.o");
    }

    [RootFact]
    public void Package_Lintian_ReportsNoErrors()
    {
        // Errors are what Debian refuses; warnings are listed with their reasons in benchmarks/README.md (Packaging).
        var (code, stdout, stderr) = Shell.Run(TimeSpan.FromMinutes(10), "lintian", ["--fail-on", "error", Path.Combine(package.Packages, package.First)]);
        Assert.True(code == 0, $"lintian failed ({code}):\n{stdout}\n{stderr}");
        Assert.DoesNotContain("\nE: ", "\n" + stdout, StringComparison.Ordinal);
    }

    private IReadOnlySet<string>? _snapshot;

    private const string EastCamera = """
        cameras:
          east-gate:
            mac: 02:00:00:00:01:30
            ip: 192.0.2.30
            profiles: [hikvision]
        """;

    private BootedContainer BootAndInstall(Site site, string deb, bool snapshotBefore = false)
    {
        var box = BootedContainer.Boot(package.Root, site.BoxNs, package.Packages);
        try
        {
            if (snapshotBefore)
            {
                _snapshot = Snapshot(box);
            }

            box.Check(TimeSpan.FromMinutes(5), "apt-get", "install", "-y", "-q", $"/mnt/packages/{deb}");
            // Installed but not started: its ports are not configured yet.
            Assert.Equal("inactive", box.Run("systemctl", "is-active", Unit).Stdout.Trim());
            box.Sh(site.SedPortsScript);
            box.Check(TimeSpan.FromSeconds(120), "systemctl", "enable", "--now", Unit);
            return box;
        }
        catch
        {
            var journal = Journal(box);
            box.Dispose();
            throw new InvalidOperationException("install and start failed; camfw's journal:\n" + journal);
        }
    }

    private static string Journal(BootedContainer box) => box.Run("journalctl", "--no-pager", "-o", "cat", "-u", Unit).Stdout;

    private static string Field(string status, string name)
        => Regex.Match(status, $"(?m)^{name}:\\s+(\\S+)$") is { Success: true } m ? m.Groups[1].Value : $"({name} missing)";

    /// <summary>
    /// Every path on the container's file system, but those that change on their own or record history (logs, apt's
    /// and dpkg's databases and caches, the journal, /proc, /run...). What purge must leave as it found.
    /// </summary>
    private static HashSet<string> Snapshot(BootedContainer box)
    {
        var listing = box.Sh(
            "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp " +
            "-o -path /var/log -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd " +
            "-o -path /mnt/packages -o -path /etc/ld.so.cache -o -path /var/lib/private -o -path /var/backups \\) -prune -o -print");
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
    }
}
