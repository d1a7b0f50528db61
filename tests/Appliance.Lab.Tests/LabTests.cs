using System.Diagnostics;
using System.Text.Json;
using Appliance.TestSupport;

namespace Appliance.Lab.Tests;

/// <summary>
/// The lab end to end, as a newcomer runs it: the real <c>camfw lab</c> executable, real namespaces, the real
/// appliance (<c>camfw run</c>), rsyslog and traffic. Runs it headless for a short while, edits the policy copy
/// halfway through, and checks the final summary, the syslog file and that nothing is left behind.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class LabTests
{
    private const string Prefix = "cfwlab-";

    // The example site's hosts the lab plays (tools/Appliance.Lab/LabSite.cs, policies/).
    private const string PhoningCamera = "north-gate";
    private const string PokedCamera = "south-gate";
    private const string PokedCameraAddress = "192.0.2.17";
    private const string Cloud = "203.0.113.50";
    private const string Internet = "198.51.100.66";
    private const string RogueMac = "02:cf:ba:d0:00:01";
    private static readonly string[] Cameras = ["north-gate", "north-lobby", "south-gate"];

    [RootFact]
    public async Task Lab_HeadlessRunWithPolicyEdit_StreamsFlowAttacksDropWithReasonsEditTakesEffectNothingLeft()
    {
        var work = Path.Combine(Path.GetTempPath(), "camfw-labtest-" + Guid.NewGuid().ToString("N")[..8]);
        var summaryPath = Path.Combine(work, "out", "summary.json");
        Directory.CreateDirectory(Path.GetDirectoryName(summaryPath)!);

        // A leftover of a "crashed" earlier lab, which the lab must clear before it starts.
        Run("ip", ["netns", "add", Prefix + "leftover"]);
        try
        {
            using var lab = StartLab(["--headless", "--duration", "24", "--work-dir", work, "--summary", summaryPath]);

            // Once traffic runs (status files appear only after the appliance's API answered), let the phone-home
            // be refused a few times, then allow it the way an admin would: by editing the policy copy.
            await WaitForAsync(() => File.Exists(Path.Combine(work, "status", "cam1.json")), TimeSpan.FromSeconds(60), lab);
            await Task.Delay(TimeSpan.FromSeconds(7));
            var north = Path.Combine(work, "policies", "cameras", "north.yaml");
            var text = await File.ReadAllTextAsync(north);
            const string Anchor = "  north-gate:\n    mac: 02:00:00:00:01:01\n    ip: 192.0.2.11\n    profiles: [hikvision]\n";
            Assert.Contains(Anchor, text, StringComparison.Ordinal);
            await File.WriteAllTextAsync(north, text.Replace(Anchor, Anchor +
                $"    rules:\n      - {{ id: lab-test-cloud, direction: egress, protocol: tcp, ports: 443, peer: {Cloud} }}\n", StringComparison.Ordinal));

            var output = await lab.WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(lab.ExitCode == 0, $"camfw lab exited {lab.ExitCode}:\n{output}");
            Assert.Contains("Removed leftovers of an earlier lab", output, StringComparison.Ordinal);

            using var summary = JsonDocument.Parse(await File.ReadAllBytesAsync(summaryPath));
            var root = summary.RootElement;
            Assert.Equal("duration", root.GetProperty("exit").GetString());
            var traffic = root.GetProperty("traffic");
            var events = root.GetProperty("events").EnumerateArray().ToList();
            var reasons = root.GetProperty("reasons");

            // The stream flows: the NVR received bytes from every camera, through the appliance.
            foreach (var camera in Cameras)
            {
                Assert.True(Counter(traffic, "nvr", "bytes_from_" + camera) > 10_000, $"NVR got too little from {camera}");
            }

            Assert.True(Counter(traffic, "cam1", "dns_answered") > 0, "DNS to the site server must work");
            Assert.True(reasons.GetProperty("established-flow").GetInt64() > 100);

            // Phone-home: refused as no-rule-matched and reported as a phone-home attempt, until the edit...
            Assert.Contains(events, e => Str(e, "kind") == "phone-home" && Str(e, "reason") == "no-rule-matched"
                && Str(e, "camera") == PhoningCamera && Str(e, "destination") == Cloud && Str(e, "direction") == "egress");
            Assert.True(Counter(traffic, "cam1", "phone_home_tcp_failed") > 0);

            // ...after which the same camera's TCP 443 to the cloud gets through, by the new rule (hot reload).
            Assert.True(Counter(traffic, "cam1", "phone_home_tcp_connected") > 0, "the policy edit did not take effect");
            Assert.True(Counter(traffic, "cloud", "tcp443_accepted") > 0);
            Assert.True(root.GetProperty("policyVersion").GetInt64() >= 2);
            Assert.Equal(0, Counter(traffic, "cloud", "udp443_received")); // the new rule is TCP only

            // Inbound from the internet to a camera's web page: refused, never reached the camera.
            Assert.Contains(events, e => Str(e, "reason") == "no-rule-matched" && Str(e, "direction") == "ingress"
                && Str(e, "source") == Internet && Str(e, "destination") == PokedCameraAddress && Str(e, "destinationPort") == "80"
                && Str(e, "camera") == PokedCamera);
            Assert.True(Counter(traffic, "inet", "poke_192_0_2_17_failed") > 0);
            Assert.Equal(0, Counter(traffic, "inet", "poke_192_0_2_17_connected"));
            Assert.Equal(0, Counter(traffic, "cam3", "web_accepted"));

            // The rogue device gets nothing through, and is reported as an unknown device.
            Assert.Contains(events, e => Str(e, "kind") == "unknown-device" && Str(e, "reason") == "unknown-device" && Str(e, "mac") == RogueMac);
            Assert.True(reasons.GetProperty("unknown-device").GetInt64() > 0);
            Assert.True(Counter(traffic, "rogue", "poke_198_51_100_10_failed") > 0);
            Assert.Equal(0, Counter(traffic, "rogue", "poke_198_51_100_10_connected"));
            Assert.Equal(0, Counter(traffic, "rogue", "poke_198_51_100_66_connected"));
            Assert.Equal(0, Counter(traffic, "nvr", "web_accepted"));
            Assert.Equal(0, Counter(traffic, "inet", "tcp80_accepted"));

            // Syslog reached the lab's rsyslog, in RFC 5424, including the phone-home warning and the reload.
            var syslog = await File.ReadAllLinesAsync(Path.Combine(work, "syslog.log"));
            Assert.Contains(syslog, l => l.StartsWith('<') && l.Contains(" camfw ", StringComparison.Ordinal) && l.Contains("phone-home", StringComparison.OrdinalIgnoreCase));
            Assert.True(syslog.Length >= root.GetProperty("syslogLines").GetInt32());
            Assert.Contains(events, e => Str(e, "kind") == "rule-match" || Str(e, "kind") == "flow-denied");

            // Nothing left: no lab namespace, no process the lab started, the lock released.
            Assert.DoesNotContain(Run("ip", ["netns", "list"]).Split('\n'), l => l.StartsWith(Prefix, StringComparison.Ordinal));
            Assert.Empty(ProcessesMentioning(work));
            Assert.False(File.Exists("/run/camfw-lab/lab.pid"));
        }
        finally
        {
            Run("ip", ["netns", "del", Prefix + "leftover"], check: false);
            Directory.Delete(work, recursive: true);
        }
    }

    [RootFact]
    public async Task Lab_WhileAnotherHoldsTheLock_RefusesAndNamesThePid()
    {
        // Hold the machine-wide lock the way a running lab does (an exclusive flock), from another process.
        Directory.CreateDirectory("/run/camfw-lab");
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-x", "/run/camfw-lab/lab.lock", "sleep", "30"]) { UseShellExecute = false })!;
        Run("ip", ["netns", "add", Prefix + "other"]);
        try
        {
            await File.WriteAllTextAsync("/run/camfw-lab/lab.pid", holder.Id + "\n");
            await WaitForAsync(() => Run("sh", ["-c", "flock -n -x /run/camfw-lab/lab.lock true; echo $?"], check: false).Trim() == "1", TimeSpan.FromSeconds(10), null);

            using var lab = StartLab(["--headless", "--duration", "5"]);
            var output = await lab.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(3, lab.ExitCode);
            Assert.Contains($"another lab is running (pid {holder.Id})", output, StringComparison.Ordinal);

            // The refused lab touched nothing: the running lab's namespaces (here a stand-in) are left alone.
            Assert.Contains(Run("ip", ["netns", "list"]).Split('\n'), l => l.StartsWith(Prefix + "other", StringComparison.Ordinal));
        }
        finally
        {
            holder.Kill(entireProcessTree: true); // the sleep inherited the locked descriptor
            await holder.WaitForExitAsync();
            File.Delete("/run/camfw-lab/lab.pid");
            Run("ip", ["netns", "del", Prefix + "other"], check: false);
        }
    }

    private static long Counter(JsonElement traffic, string host, string key)
        => traffic.TryGetProperty(host, out var h) && h.TryGetProperty(key, out var v) ? v.GetInt64() : 0;

    private static string? Str(JsonElement e, string key)
        => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, LabProcessUnderTest? lab)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (lab is { HasExited: true })
            {
                Assert.Fail($"camfw lab exited early ({lab.ExitCode}):\n{lab.Output}");
            }

            Assert.True(deadline.Elapsed < timeout, $"timed out after {timeout.TotalSeconds} s" + (lab is null ? "" : ":\n" + lab.Output));
            await Task.Delay(100);
        }
    }

    private static List<int> ProcessesMentioning(string text)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to read.
            }
        }

        return found;
    }

    private static string Run(string file, string[] args, bool check = true)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (check && p.ExitCode != 0)
        {
            Assert.Fail($"{file} {string.Join(' ', args)} failed: {stderr}");
        }

        return stdout;
    }

    /// <summary>
    /// The lab executable next to the tests (what <c>./camfw lab</c> runs; the lab project is referenced, so its
    /// apphost is copied, and the host's <c>camfw</c> beside it).
    /// </summary>
    private static LabProcessUnderTest StartLab(string[] args)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "camfw-lab");
        var info = File.Exists(apphost)
            ? new ProcessStartInfo(apphost, args)
            : new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "camfw-lab.dll"), .. args]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        return new LabProcessUnderTest(Process.Start(info)!);
    }

    /// <summary>A running <c>camfw lab</c> with its output collected; killed (SIGTERM first) if the test ends early.</summary>
    private sealed class LabProcessUnderTest : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _output = new();

        public LabProcessUnderTest(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public bool HasExited => _process.HasExited;

        public int ExitCode => _process.ExitCode;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        public async Task<string> WaitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"camfw lab did not finish within {timeout.TotalSeconds} s:\n{Output}");
            }

            _process.WaitForExit();
            return Output;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                // SIGTERM lets the lab tear its namespaces down; the kill is the backstop.
                using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                term?.WaitForExit();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(20)))
                {
                    _process.Kill(entireProcessTree: true);
                }
            }

            _process.Dispose();
        }
    }
}

/// <summary>Lab tests share the machine-wide lab lock and namespace names: never in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabCollection
{
    public const string Name = "lab";
}
