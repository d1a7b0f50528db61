using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Appliance.Management.Traffic;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Management.Tests.WebConsole;

/// <summary>What each console page shows (issue 17, "What it shows"), read from the HTML a logged-in browser gets.</summary>
public sealed partial class ConsoleHttpTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Overview_Running_ShowsPolicyPlanesRateAndSyslog()
    {
        var time = new FakeTimeProvider(T0);
        var traffic = new MutableTraffic
        {
            Passed = 10,
            Dropped = 2,
            CaptureDrops = 1234,
            SyslogQueueDropped = 4,
            Syslog = new SyslogShippingStatus(false, 12_345, 3, 1536, 42, 99, [new("queue-full", 7), new("spool-full", 0)], 0, "the collector is unreachable"),
        };
        await using var api = await ApiHarness.StartAsync(traffic: traffic, time: time);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();

        // 60 frames decided in the 30 s since the console's first sample: 2 a second.
        time.Advance(TimeSpan.FromSeconds(30));
        traffic.Passed += 60;
        var html = await client.GetStringAsync("/console/");

        var state = api.Policies.Current!;
        Assert.Contains("<dd id=\"policy-version\">1</dd>", html, StringComparison.Ordinal);
        Assert.Contains($"<code class=\"hash\">{state.Sha256}</code>", html, StringComparison.Ordinal);
        Assert.Matches($"<dt>Applied</dt><dd><time datetime=\"[^\"]+\" title=\"[^\"]+\">[^<]+</time> by {Regex.Escape(state.Origin.ToString())}</dd>", html);
        Assert.Contains("<dd id=\"fps\">2.0</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<th scope=\"row\">pair0</th><td><span class=\"badge ok\">healthy</span></td><td class=\"num warn\">1,234</td>", html, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"syslog-queue\">12,345 waiting (3 spooled, 1.5 KiB)</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"syslog-lost\">7 queue-full</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<span id=\"syslog-queue-dropped\">4</span>", html, StringComparison.Ordinal);
        Assert.Contains("the collector is unreachable", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cameras_Row_ShowsLastSeenWindowsFlowsAndBadges()
    {
        var time = new FakeTimeProvider(T0);
        var traffic = new MutableTraffic { Passed = 10, Dropped = 2 };
        var feed = new ListFeed { At = T0.AddMinutes(5) };
        feed.Drop("phone-home", "cam-a", "203.0.113.50", 443);
        feed.Drop("ip-spoof", "cam-a", "198.51.100.10", 554, reason: "ip-spoof");
        await using var api = await ApiHarness.StartAsync(traffic: traffic, events: feed, time: time);

        // Six minutes of 100 frames passed and 1 dropped a minute; the console samples once a minute (first at T0).
        for (var minute = 0; minute < 6; minute++)
        {
            traffic.Passed += 100;
            traffic.Dropped += 1;
            time.Advance(TimeSpan.FromMinutes(1));
        }

        traffic.LastSeen = time.GetUtcNow().AddSeconds(-30);
        traffic.FlowList.Add(Flow("cam-a", 40000));
        traffic.FlowList.Add(Flow("cam-a", 40001));
        traffic.FlowList.Add(Flow(null, 40002));
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();

        var cells = RowCells(await client.GetStringAsync("/console/cameras"), "cam-a");
        Assert.Equal(10, cells.Count);
        Assert.Equal(("cam-a", "enforce"), (cells[0], cells[1]));
        Assert.Contains(TestPolicies.CameraIp, cells[2], StringComparison.Ordinal);
        Assert.Equal("30 s ago", cells[3]);

        // 5 min: now minus the sample of T0+1 min; 1 h: the history is 6 min old, so since the first sample, marked *.
        Assert.Equal(["500", "5", "600*", "6*"], cells.GetRange(4, 4));
        Assert.Equal("2", cells[8]); // its flows, not the unknown device's
        Assert.Contains("spoof attempt", cells[9], StringComparison.Ordinal);
        Assert.Contains("new destination", cells[9], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Camera_Page_EffectiveRulesAndOnlyItsOwnRecentEvents()
    {
        var feed = new ListFeed();
        feed.Drop("phone-home", "cam-a", "203.0.113.50", 443);
        feed.Drop("flow-denied", "cam-b", "198.51.100.99", 8080);
        await using var api = await StartAsync(events: feed);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var html = await client.GetStringAsync("/console/cameras/cam-a");

        var rules = Pre(html, "effective-rules");
        Assert.Contains($"policy sha256 {api.Policies.Current!.Sha256}", rules, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^camera cam-a", rules);
        Assert.Matches(@"(?m)^\s+stream-from-nvr\s+ingress\s+tcp\s+554\s+from 198\.51\.100\.10", rules);

        var events = Regex.Match(html, "<table id=\"camera-events\">(.*?)</table>", RegexOptions.Singleline);
        Assert.True(events.Success, "the camera page has its recent events:\n" + html);
        Assert.Contains("203.0.113.50", events.Groups[1].Value, StringComparison.Ordinal);
        Assert.DoesNotContain("198.51.100.99", events.Groups[1].Value, StringComparison.Ordinal); // another camera's
    }

    [Fact]
    public async Task Camera_NameRule_ListsWhatItAdmitsNowLikePolicyShowLive()
    {
        var traffic = new MutableTraffic();
        traffic.Names.Add(new LearnedNameView("cam-a", "p2p.vendor.example", "203.0.113.50", 300, 300));
        traffic.Names.Add(new LearnedNameView("cam-a", "evil.vendor.example", "203.0.113.9", 300, null)); // matches, admits nothing
        traffic.Names.Add(new LearnedNameView("cam-b", "cdn.vendor.example", "203.0.113.7", 300, 300)); // another camera's
        await using var api = await ApiHarness.StartAsync(traffic: traffic);
        var files = TestPolicies.Files();
        files["cameras.yaml"] += "      - id: cloud\n        direction: egress\n        protocol: tcp\n        ports: 443\n        peer: \"*.vendor.example\"\n";
        using (var content = PolicyBody(files))
        using (var put = await api.Client.PutAsync("/api/v1/policy", content))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var rules = Pre(await client.GetStringAsync("/console/cameras/cam-a"), "effective-rules");

        // The running appliance's page: what the name rule admits now, as `camfw policy show --live` prints it.
        Assert.Contains("name rules admit now", rules, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+cloud$", rules);
        Assert.Matches(@"(?m)^\s+p2p\.vendor\.example 203\.0\.113\.50 \(300 s left\)$", rules);
        Assert.DoesNotContain("evil.vendor.example", rules, StringComparison.Ordinal);
        Assert.DoesNotContain("cdn.vendor.example", rules, StringComparison.Ordinal);
        Assert.DoesNotContain("none learned", rules, StringComparison.Ordinal);
        Assert.DoesNotContain("offline", rules, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cameras_EachMode_RowSpellsItAsTheApiDoes()
    {
        await using var api = await StartAsync();
        var files = TestPolicies.Files(count: 3);
        files["cameras.yaml"] = files["cameras.yaml"]
            .Replace("    ip: 192.0.2.11\n", "    ip: 192.0.2.11\n    mode: learn\n", StringComparison.Ordinal)
            .Replace("    ip: 192.0.2.12\n", "    ip: 192.0.2.12\n    mode: monitor\n", StringComparison.Ordinal);
        using (var content = PolicyBody(files))
        using (var put = await api.Client.PutAsync("/api/v1/policy", content))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var page = await client.GetStringAsync("/console/cameras");
        using var cameras = JsonDocument.Parse(await api.Client.GetStringAsync("/api/v1/cameras"));

        // The lab reads the mode from the row's class and compares it with the API's (tests/Appliance.Lab.Tests).
        var rows = CameraMode().Matches(page).ToDictionary(m => m.Groups[1].Value, m => (Class: m.Groups[2].Value, Text: m.Groups[3].Value));
        var modes = cameras.RootElement.GetProperty("cameras").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("mode").GetString()!);
        Assert.Equal(["enforce", "learn", "monitor"], modes.Values.Order(StringComparer.Ordinal)); // every mode is shown
        foreach (var (name, mode) in modes)
        {
            Assert.Equal((mode, mode), rows[name]);
        }
    }

    [Fact]
    public async Task Blocked_RepeatedFlow_OneLineWithCountFirstAndLastSeen()
    {
        var time = new FakeTimeProvider(T0.AddMinutes(4));
        var feed = new ListFeed { At = T0 };
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("proto", "tcp"), ("dst", "203.0.113.50"), ("dport", "443"), ("reason", "no-rule-matched"), ("action", "dropped"), ("rule", "-"), ("dns", "p2p.vendor.example"));
        feed.At = T0.AddMinutes(3);
        feed.Add("flow-repeat", ("kind", "phone-home"), ("count", "1233"), ("camera", "cam-a"), ("direction", "egress"), ("proto", "tcp"), ("dst", "203.0.113.50"), ("dport", "443"), ("reason", "no-rule-matched"), ("action", "dropped"), ("rule", "-"), ("dns", "-"));
        await using var api = await StartAsync(events: feed, time: time);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();

        var html = await client.GetStringAsync("/console/blocked");
        var rows = Regex.Matches(html, "<tr class=\"critical\">(.*?)</tr>", RegexOptions.Singleline);
        var cells = Cell().Matches(Assert.Single(rows).Groups[1].Value).Select(m => WebUtility.HtmlDecode(Tag().Replace(m.Groups[1].Value, "")).Trim()).ToList();

        // Severity, camera, destination, DNS name, port, reason, count, first seen, last seen.
        Assert.Equal(["phone-home", "cam-a", "203.0.113.50", "p2p.vendor.example", "443/tcp", "no-rule-matched", "1,234", "4 min ago", "1 min ago"], cells);
    }

    [Fact]
    public async Task Events_Row_CameraReasonAndRuleAreFilterButtons()
    {
        var feed = new ListFeed();
        feed.Drop("flow-denied", "cam-a", "198.51.100.7", 80, reason: "rule-denied", rule: "no-telnet");
        await using var api = await StartAsync(events: feed);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();

        var html = await client.GetStringAsync("/console/events");
        Assert.Contains("data-stream=\"/console/events/stream\"", html, StringComparison.Ordinal);
        foreach (var (field, value) in new[] { ("camera", "cam-a"), ("reason", "rule-denied"), ("rule", "no-telnet") })
        {
            Assert.Contains($"<button type=\"button\" class=\"chip\" data-filter=\"{field}\" data-value=\"{value}\">{value}</button>", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Policy_History_EachVersionDiffedAgainstTheOneBefore()
    {
        await using var api = await StartAsync();
        using (var content = PolicyBody(TestPolicies.Files(nvrPort: 8554)))
        using (var put = await api.Client.PutAsync("/api/v1/policy", content))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var html = WebUtility.HtmlDecode(await client.GetStringAsync("/console/policy"));

        // Newest first: version 2, in force, with what changed since version 1; version 1 can be rolled back to.
        var history = Regex.Match(html, "<table id=\"history\">.*?<tbody>(.*?)</tbody>", RegexOptions.Singleline).Groups[1].Value;
        var rows = Regex.Matches(history, "<tr[^>]*>(.*?)</tr>", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains(">2 <span class=\"badge ok\">in force</span></th>", rows[0], StringComparison.Ordinal);
        Assert.Contains("<summary>+1 −1 lines vs 1</summary>", rows[0], StringComparison.Ordinal);
        Assert.Contains("<span class=\"file\">--- cameras.yaml\n</span>", rows[0], StringComparison.Ordinal);
        Assert.Matches(@"<span class=""del"">-\s*\d*\s+ports: 554\n</span>", rows[0]);
        Assert.Matches(@"<span class=""ins"">\+\s*\d+\s+ports: 8554\n</span>", rows[0]);
        Assert.DoesNotContain("networks.yaml", rows[0], StringComparison.Ordinal); // unchanged files are not listed
        Assert.Contains("first stored version", rows[1], StringComparison.Ordinal);
        Assert.Contains("data-version=\"1\">Roll back to 1</button>", rows[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_HostileNameFromTheNetwork_EncodedNeverMarkup()
    {
        // A DNS name is whatever the camera's resolver answered: an attacker on the camera side chooses it.
        const string Hostile = "\"><img src=x onerror=alert(1)>.vendor.example";
        var time = new FakeTimeProvider(T0.AddMinutes(1));
        var feed = new ListFeed { At = T0 };
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("proto", "tcp"), ("dst", "203.0.113.50"), ("dport", "443"), ("reason", "no-rule-matched"), ("action", "dropped"), ("rule", "-"), ("dns", Hostile));
        await using var api = await StartAsync(events: feed, time: time);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();

        foreach (var path in new[] { "/console/blocked", "/console/events", "/console/cameras/cam-a", "/console/cameras" })
        {
            var html = await client.GetStringAsync(path);
            Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("&lt;img", html, StringComparison.Ordinal); // the name is shown, as text
        }
    }

    private static FlowView Flow(string? camera, int port)
        => new("pair0", camera, "tcp", TestPolicies.CameraIp, port, "198.51.100.10", 554, "egress", "established", 1, T0);

    /// <summary>The text of each cell of a camera's row on the cameras page, markup removed.</summary>
    private static List<string> RowCells(string html, string camera)
    {
        var row = Regex.Match(html, $"<tr data-camera=\"{Regex.Escape(camera)}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(row.Success, $"no row for {camera}:\n{html}");
        return [.. Cell().Matches(row.Groups[1].Value).Select(m => WebUtility.HtmlDecode(Tag().Replace(m.Groups[1].Value, "")).Trim())];
    }

    /// <summary>The decoded text of the <c>pre</c> with <paramref name="id"/>.</summary>
    private static string Pre(string html, string id)
    {
        var pre = Regex.Match(html, $"<pre[^>]* id=\"{Regex.Escape(id)}\">(.*?)</pre>", RegexOptions.Singleline);
        Assert.True(pre.Success, $"no #{id}:\n{html}");
        return WebUtility.HtmlDecode(pre.Groups[1].Value);
    }

    [GeneratedRegex("<t[dh][^>]*>(.*?)</t[dh]>", RegexOptions.Singleline)]
    private static partial Regex Cell();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"<tr data-camera=""([^""]+)""><th scope=""row"">.*?</th><td class=""mode-(\w+)"">(\w+)</td>")]
    private static partial Regex CameraMode();
}
