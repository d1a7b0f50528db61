using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
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

            // Once traffic runs (status files appear only after the appliance's API answered) and the phone-home has
            // been refused, allow it the way an admin would: by editing the policy copy.
            await WaitForAsync(() => File.Exists(Path.Combine(work, "status", "cam1.json")), TimeSpan.FromSeconds(60), lab);
            await WaitForAsync(() => Counter(ReadTraffic(work), "cam1", "phone_home_tcp_failed") > 0, TimeSpan.FromSeconds(60), lab);
            var north = Path.Combine(work, "policies", "cameras", "north.yaml");
            var text = await File.ReadAllTextAsync(north);
            const string Anchor = "  north-gate:\n    mac: 02:00:00:00:01:01\n    ip: 192.0.2.11\n    profiles: [hikvision]\n";
            Assert.Contains(Anchor, text, StringComparison.Ordinal);
            await File.WriteAllTextAsync(north, text.Replace(Anchor, Anchor +
                $"    rules:\n      - {{ id: lab-test-cloud, direction: egress, protocol: tcp, ports: 443, peer: {Cloud} }}\n", StringComparison.Ordinal));

            // While it runs, the web console the banner points at shows what the lab's view shows.
            await AssertConsoleAgreesWithTheLabViewAsync(lab.Output);

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

            // ...by the name the camera looked up (issue 15): in the events, the live view and syslog.
            Assert.Contains(events, e => Str(e, "kind") == "phone-home" && Str(e, "dns") == "p2p.vendor.example" && Str(e, "destination") == Cloud);
            Assert.Contains($"p2p.vendor.example ({Cloud})", output, StringComparison.Ordinal);

            // A name rule: north-lobby reaches the cloud by cloud.vendor.example, through its own DNS answer.
            Assert.True(Counter(traffic, "cam2", "cloud_tcp_connected") > 0, "north-lobby's name rule did not admit the cloud");

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
            Assert.Contains(syslog, l => l.Contains("phone-home", StringComparison.OrdinalIgnoreCase) && l.Contains("dns name p2p.vendor.example", StringComparison.Ordinal));
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
    public async Task Lab_ApplianceKilledWithSigkill_SummaryStillWrittenWithWhatWasSeenAndTheDeath()
    {
        var work = Path.Combine(Path.GetTempPath(), "camfw-labtest-" + Guid.NewGuid().ToString("N")[..8]);
        var summaryPath = Path.Combine(work, "out", "summary.json");
        try
        {
            using var lab = StartLab(["--headless", "--duration", "90", "--work-dir", work, "--summary", summaryPath]);

            // Once the lab has read the appliance's counters with traffic flowing, kill the appliance outright.
            await WaitForAsync(() => lab.Output.Contains(" policy v1 healthy", StringComparison.Ordinal) && File.Exists(Path.Combine(work, "status", "nvr.json")), TimeSpan.FromSeconds(60), lab);
            await WaitForAsync(() => Counter(ReadTraffic(work), "nvr", "bytes_from_south-gate") > 10_000, TimeSpan.FromSeconds(30), lab);
            await Task.Delay(TimeSpan.FromSeconds(2)); // at least one more reading of the appliance's counters
            var appliance = ProcessesMentioning("run --config " + Path.Combine(work, "camfw.json"));
            Assert.NotEmpty(appliance);
            Run("kill", ["-KILL", .. appliance.Select(pid => pid.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

            var output = await lab.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(lab.ExitCode == 1, $"camfw lab exited {lab.ExitCode}:\n{output}");

            foreach (var path in new[] { summaryPath, Path.Combine(work, "summary.json") })
            {
                using var summary = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
                var root = summary.RootElement;
                Assert.StartsWith("failed: the appliance stopped", root.GetProperty("exit").GetString(), StringComparison.Ordinal);

                // The death itself...
                var died = root.GetProperty("appliance");
                Assert.Equal("exited", died.GetProperty("state").GetString());
                Assert.Equal(137, died.GetProperty("exitCode").GetInt32());
                Assert.Equal("SIGKILL", died.GetProperty("signal").GetString());
                Assert.True(died.TryGetProperty("countersAt", out _));
                Assert.Equal(JsonValueKind.Null, root.GetProperty("health").ValueKind);

                // ...and what the appliance reported before it: counters, reasons, events.
                var seen = root.GetProperty("cameras").EnumerateArray().Where(c => Cameras.Contains(c.GetProperty("name").GetString())).ToList();
                Assert.Equal(3, seen.Count);
                Assert.All(seen, c => Assert.True(c.GetProperty("framesPassed").GetInt64() > 0, c.ToString()));
                Assert.True(root.GetProperty("reasons").GetProperty("established-flow").GetInt64() > 100);
                Assert.True(root.GetProperty("eventsTotal").GetInt64() > 0);
                Assert.True(Counter(root.GetProperty("traffic"), "nvr", "bytes_from_south-gate") > 10_000);
            }

            Assert.DoesNotContain(Run("ip", ["netns", "list"]).Split('\n'), l => l.StartsWith(Prefix, StringComparison.Ordinal));
            Assert.Empty(ProcessesMentioning(work));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [RootFact]
    public async Task Lab_FloodSpoofingTheNvr_NvrNewConnectionsKeepSucceeding()
    {
        var work = Path.Combine(Path.GetTempPath(), "camfw-labtest-" + Guid.NewGuid().ToString("N")[..8]);
        var summaryPath = Path.Combine(work, "summary-copy.json");
        try
        {
            // The flood starts 5 s after the traffic; its window (burst, then the 25 s its flows may hold the quota)
            // is open while the NVR keeps reconnecting. Stop (SIGTERM, as Ctrl-C) once the whole burst went out and
            // the NVR made enough attempts during it, however slow the machine is.
            using var lab = StartLab(["--headless", "--flood", "--duration", "150", "--work-dir", work, "--summary", summaryPath]);
            await WaitForAsync(
                () => Counter(ReadTraffic(work), "flood", "flood_syns_sent") == 5000
                    && Counter(ReadTraffic(work), "nvr", "newconn_south-gate_flood_ok") + Counter(ReadTraffic(work), "nvr", "newconn_south-gate_flood_failed") >= 10,
                TimeSpan.FromSeconds(120),
                lab,
                () => FileTail(Path.Combine(work, "logs", "traffic-flood.log")) + FileTail(Path.Combine(work, "status", "flood.json")));
            Run("kill", ["-TERM", lab.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            var output = await lab.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(lab.ExitCode == 0, $"camfw lab exited {lab.ExitCode}:\n{output}");

            using var summary = JsonDocument.Parse(await File.ReadAllBytesAsync(summaryPath));
            var root = summary.RootElement;
            var traffic = root.GetProperty("traffic");

            // The attack happened and reached the appliance: 5,000 spoofed SYNs, judged as south-gate's traffic.
            Assert.Equal(5000, Counter(traffic, "flood", "flood_syns_sent"));
            var southGate = root.GetProperty("cameras").EnumerateArray().Single(c => c.GetProperty("name").GetString() == PokedCamera);
            Assert.True(southGate.GetProperty("framesPassed").GetInt64() + southGate.GetProperty("framesDropped").GetInt64() > 5000, southGate.ToString());

            // Control: before the flood the NVR's new connections to south-gate all succeed.
            Assert.True(Counter(traffic, "nvr", "newconn_south-gate_ok") > 0, traffic.GetProperty("nvr").ToString());
            Assert.Equal(0, Counter(traffic, "nvr", "newconn_south-gate_failed"));

            // During the flood the NVR kept trying new connections, and the lab judged them: every one must succeed.
            var during = Counter(traffic, "nvr", "newconn_south-gate_flood_ok");
            var failed = Counter(traffic, "nvr", "newconn_south-gate_flood_failed");
            Assert.True(during + failed >= 6, $"too few NVR attempts during the flood ({during} ok, {failed} failed)");
            var check = root.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString()!.Contains("during a SYN flood", StringComparison.Ordinal));
            Assert.Equal((during + failed, during), (check.GetProperty("attempts").GetInt64(), check.GetProperty("successes").GetInt64()));
            Assert.Equal(failed == 0, check.GetProperty("ok").GetBoolean());

            // With the engine's fix (closed and half-open flows yield to new openers, a per-peer share of the quota),
            // the NVR can still reconnect: none of its new connections was refused during the flood.
            Assert.True(failed == 0, $"{failed} of {during + failed} new NVR connections failed during the flood; reasons: {root.GetProperty("reasons")}");
        }
        finally
        {
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

    /// <summary>The devices' counters as the lab's traffic roles last wrote them (status/HOST.json), shaped like the summary's traffic.</summary>
    private static JsonElement ReadTraffic(string work)
    {
        var merged = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var status = Path.Combine(work, "status");
        foreach (var file in Directory.Exists(status) ? Directory.EnumerateFiles(status, "*.json") : [])
        {
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(file));
                merged[Path.GetFileNameWithoutExtension(file)] = document.RootElement.GetProperty("counters").Clone();
            }
            catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException)
            {
                // Being replaced this instant.
            }
        }

        return JsonSerializer.SerializeToElement(merged);
    }

    /// <summary>
    /// The lab's live view is rendered from <c>GET /api/v1/cameras</c> (tools/Appliance.Lab/LabView.cs); the web console
    /// renders its cameras page from the appliance's own state. Read both through the URL and token the banner printed
    /// (the console takes the bearer token like the API) and compare what both show: the cameras, each one's mode
    /// and identity, and the policy version (read the API before and after the page, so a reload in between is seen).
    /// </summary>
    private static async Task AssertConsoleAgreesWithTheLabViewAsync(string labOutput)
    {
        var url = ConsoleAgreement.ConsoleUrl().Match(labOutput);
        var tokenFile = ConsoleAgreement.TokenFile().Match(labOutput);
        Assert.True(url.Success && tokenFile.Success, "the banner names the web console and the token file:\n" + labOutput);
        using var http = new HttpClient { BaseAddress = new Uri(url.Groups[1].Value) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", (await File.ReadAllTextAsync(tokenFile.Groups[1].Value)).Trim());

        using var before = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/cameras", UriKind.Relative)));
        var page = await http.GetStringAsync(new Uri("/console/cameras", UriKind.Relative));
        using var after = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/cameras", UriKind.Relative)));

        var version = before.RootElement.GetProperty("policyVersion").GetInt64();
        Assert.Equal(version, after.RootElement.GetProperty("policyVersion").GetInt64());
        var caption = ConsoleAgreement.Caption().Match(page);
        Assert.True(caption.Success, "the cameras page has its caption:\n" + page);
        Assert.Equal(version, long.Parse(caption.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        var rows = ConsoleAgreement.CameraRow().Matches(page).ToDictionary(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value), m => (Mode: m.Groups[2].Value, Identity: System.Net.WebUtility.HtmlDecode(m.Groups[3].Value)));
        var cameras = before.RootElement.GetProperty("cameras").EnumerateArray().ToList();
        Assert.Equal(cameras.Select(c => c.GetProperty("name").GetString()!).Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var camera in cameras)
        {
            var row = rows[camera.GetProperty("name").GetString()!];
            Assert.Equal(camera.GetProperty("mode").GetString(), row.Mode);
            if (camera.GetProperty("mac").GetString() is { } mac)
            {
                Assert.Contains(mac, row.Identity, StringComparison.OrdinalIgnoreCase);
            }

            foreach (var address in camera.GetProperty("addresses").EnumerateArray())
            {
                Assert.Contains(address.GetString()!, row.Identity, StringComparison.Ordinal);
            }
        }

        Assert.Contains(cameras, c => c.GetProperty("framesPassed").GetInt64() > 0); // positive control: the lab runs
    }

    private static long Counter(JsonElement traffic, string host, string key)
        => traffic.TryGetProperty(host, out var h) && h.TryGetProperty(key, out var v) ? v.GetInt64() : 0;

    private static string? Str(JsonElement e, string key)
        => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    // Eventually, and a lab that dies first ends the wait at once with its output (not only at the bound).
    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, LabProcessUnderTest? lab, Func<string>? alsoOnFailure = null, [CallerArgumentExpression(nameof(condition))] string what = "")
    {
        await Eventually.TrueAsync(() => condition() || lab is { HasExited: true }, what, timeout, () => (lab?.Output ?? "") + (alsoOnFailure?.Invoke() ?? ""), every: TimeSpan.FromMilliseconds(100));
        if (lab is { HasExited: true } && !condition())
        {
            Assert.Fail($"camfw lab exited early ({lab.ExitCode}):\n{lab.Output}");
        }
    }

    /// <summary>
    /// The end of a file the lab wrote, for a failure message (the work directory is deleted afterwards): a stalled
    /// flood once sent 0 SYNs in 120 s, and its own log, which would say why, went with the directory.
    /// </summary>
    private static string FileTail(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            return $"\n--- {path} (last 4,000 characters):\n{text[Math.Max(0, text.Length - 4000)..]}";
        }
        catch (IOException e)
        {
            return $"\n--- {path}: {e.Message}";
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

        public int Pid => _process.Id;

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

/// <summary>The issue 17 check that the lab's view and the web console agree, on a running lab.</summary>
internal static partial class ConsoleAgreement
{
    [GeneratedRegex(@"Web console:\s+(http://127\.0\.0\.1:\d+)/console/")]
    internal static partial Regex ConsoleUrl();

    [GeneratedRegex(@"API token \(0600\):\s+(\S+)")]
    internal static partial Regex TokenFile();

    [GeneratedRegex(@"<tr data-camera=""([^""]+)""><th scope=""row"">.*?</th><td class=""mode-(\w+)"">\w+</td><td>([^<]*)</td>")]
    internal static partial Regex CameraRow();

    [GeneratedRegex(@"<caption>[^<]* cameras?, policy version (\d+)</caption>")]
    internal static partial Regex Caption();
}

/// <summary>Lab tests share the machine-wide lab lock and namespace names: never in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabCollection
{
    public const string Name = "lab";
}
