using System.Globalization;
using Appliance.Core;
using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.Traffic;
using Appliance.Policy;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace Appliance.Management.WebConsole;

/// <summary>
/// The console's pages, rendered on the server from the same services the API reads. Markup only through literal
/// strings, data only through <see cref="Html.Text"/>; no inline script or style (the CSP forbids both): the page's
/// behaviour is the one embedded <c>console.js</c>, wired by <c>data-</c> attributes.
/// </summary>
internal static class ConsolePages
{
    /// <summary>Flows counted per camera at most (a big flow table is paged through only this far).</summary>
    internal const int MaxFlowsCounted = 20_000;

    /// <summary>Most lines of a history diff shown.</summary>
    internal const int MaxDiffLines = 400;

    private static readonly (string Key, string Href, string Label)[] Nav =
    [
        ("overview", "/console/", "Overview"),
        ("cameras", "/console/cameras", "Cameras"),
        ("blocked", "/console/blocked", "Blocked"),
        ("events", "/console/events", "Live events"),
        ("policy", "/console/policy", "Policy"),
        ("proposal", "/console/proposal", "Proposal"),
    ];

    public static string Login(string? error)
    {
        var h = new Html();
        h.Raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Raw("<title>camfw · log in</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head>")
            .Raw("<body class=\"login\"><main id=\"main\"><h1>camfw console</h1>")
            .Raw("<form method=\"post\" action=\"/console/login\" class=\"login-form\">")
            .Raw("<label for=\"token\">Management API token</label>")
            .Raw("<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus spellcheck=\"false\">")
            .Raw("<p class=\"hint\">The token is in <code>/etc/camfw/api-token</code> on the appliance.</p>");
        if (error is not null)
        {
            h.Raw("<p class=\"error\" role=\"alert\" id=\"login-error\">").Text(error).Raw("</p>");
        }

        h.Raw("<button type=\"submit\">Log in</button>")
            .Raw("</form></main></body></html>");
        return h.ToString();
    }

    public static string Overview(PageContext page, PolicyService policies, ITrafficSource traffic)
    {
        var now = page.Now;
        var health = ApiMapper.Health(policies, traffic);
        var h = new Html();
        h.Raw("<h1>Overview</h1>");
        h.Raw("<p class=\"status status-").Text(health.Status).Raw("\" id=\"health-status\">Appliance is <strong>").Text(health.Status).Raw("</strong></p>");

        // Policy in force.
        h.Raw("<section aria-labelledby=\"policy-h\"><h2 id=\"policy-h\">Policy in force</h2><dl class=\"facts\">");
        if (policies.Current is { } state)
        {
            h.Raw("<dt>Version</dt><dd id=\"policy-version\">").Text(state.Version.ToString(CultureInfo.InvariantCulture)).Raw("</dd>");
            h.Raw("<dt>sha256</dt><dd><code class=\"hash\">").Text(state.Sha256).Raw("</code></dd>");
            h.Raw("<dt>Applied</dt><dd>").Time(state.LoadedAt, now).Raw(" by ").Text(state.Origin.ToString()).Raw("</dd>");
            h.Raw("<dt>Cameras</dt><dd>").Text(Html.Count(state.Spec.Cameras.Count)).Raw("</dd>");
        }
        else
        {
            h.Raw("<dt>Version</dt><dd id=\"policy-version\">none loaded: every frame is dropped</dd>");
        }

        if (policies.Pending is { } pending)
        {
            h.Raw("<dt>Awaiting confirmation</dt><dd><a href=\"/console/policy\">version ").Text(pending.AppliedVersion.ToString(CultureInfo.InvariantCulture))
                .Raw("</a> reverts to ").Text(pending.RevertTo.Version.ToString(CultureInfo.InvariantCulture)).Raw(" ").Time(pending.Deadline, now).Raw("</dd>");
        }

        h.Raw("<dt>Reloads</dt><dd>").Text(Html.Count(policies.Reloads)).Raw(" (").Text(Html.Count(policies.ReloadFailures)).Raw(" rejected)</dd></dl>");
        if (policies.ActiveFailure is { } failure)
        {
            h.Raw("<div class=\"callout warn\"><p>The last change (").Time(failure.At, now).Raw(", ").Text(failure.Origin.ToString()).Raw(") was rejected; the policy above stays in force.</p>");
            Diagnostics(h, failure.Diagnostics.ToDto());
            h.Raw("</div>");
        }

        h.Raw("</section>");

        // Traffic.
        long passed = 0, dropped = 0;
        foreach (var (reason, frames) in traffic.Reasons())
        {
            if (ReasonNames.IsPassReason(reason))
            {
                passed += frames;
            }
            else
            {
                dropped += frames;
            }
        }

        var fps = page.State.Sampler.FramesPerSecond(passed + dropped);
        h.Raw("<section aria-labelledby=\"traffic-h\"><h2 id=\"traffic-h\">Traffic</h2><dl class=\"facts\">")
            .Raw("<dt>Frames per second</dt><dd id=\"fps\">").Text(fps is { } r ? Html.Rate(r) : "measuring…").Raw("</dd>")
            .Raw("<dt>Frames passed</dt><dd>").Text(Html.Count(passed)).Raw("</dd>")
            .Raw("<dt>Frames dropped</dt><dd>").Text(Html.Count(dropped)).Raw("</dd></dl></section>");

        // Data planes.
        h.Raw("<section aria-labelledby=\"planes-h\"><h2 id=\"planes-h\">Data planes</h2>");
        if (health.DataPlanes.Count == 0)
        {
            h.Raw("<p class=\"muted\">No data plane is running.</p>");
        }
        else
        {
            h.Raw("<div class=\"table-wrap\"><table class=\"sortable\" id=\"planes\"><caption class=\"sr-only\">Data planes</caption><thead><tr>")
                .Raw("<th scope=\"col\">Pair</th><th scope=\"col\">Health</th><th scope=\"col\" class=\"num\">Capture drops</th><th scope=\"col\" class=\"num\">Flows</th><th scope=\"col\" class=\"num\">Table use</th></tr></thead><tbody>");
            foreach (var p in health.DataPlanes)
            {
                h.Raw("<tr><th scope=\"row\">").Text(p.Name).Raw("</th><td>")
                    .Raw(p.Healthy ? "<span class=\"badge ok\">healthy</span>" : "<span class=\"badge bad\">failed</span> ").Text(p.Error).Raw("</td>")
                    .El("td", Html.Count(p.CaptureDrops), p.CaptureDrops > 0 ? "num warn" : "num")
                    .El("td", Html.Count(p.FlowCount), "num")
                    .El("td", p.FlowCapacity > 0 ? (100.0 * p.FlowCount / p.FlowCapacity).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "–", "num")
                    .Raw("</tr>");
            }

            h.Raw("</tbody></table></div>");
        }

        h.Raw("</section>");

        // Syslog.
        h.Raw("<section aria-labelledby=\"syslog-h\"><h2 id=\"syslog-h\">Syslog</h2>");
        if (traffic.Syslog is { } syslog)
        {
            h.Raw("<dl class=\"facts\"><dt>Collector</dt><dd>").Raw(syslog.Connected ? "<span class=\"badge ok\">connected</span>" : "<span class=\"badge bad\">not connected</span>").Raw("</dd>")
                .Raw("<dt>Queue</dt><dd id=\"syslog-queue\">").Text(Html.Count(syslog.Pending)).Raw(" waiting (").Text(Html.Count(syslog.SpoolRecords)).Raw(" spooled, ").Text(Html.Bytes(syslog.SpoolBytes)).Raw(")</dd>")
                .Raw("<dt>Oldest undelivered</dt><dd>").Text(syslog.OldestUndeliveredSeconds > 0 ? Html.Duration(TimeSpan.FromSeconds(syslog.OldestUndeliveredSeconds)) : "–").Raw("</dd>")
                .Raw("<dt>Delivered</dt><dd>").Text(Html.Count(syslog.Sent)).Raw("</dd>")
                .Raw("<dt>Lost</dt><dd id=\"syslog-lost\">");
            var lost = syslog.Discarded.Where(d => d.Value > 0).ToList();
            if (lost.Count == 0)
            {
                h.Raw("none");
            }
            else
            {
                h.Text(string.Join(", ", lost.Select(d => $"{Html.Count(d.Value)} {d.Key}")));
            }

            h.Raw("</dd></dl>");
            if (syslog.Problem is { } problem)
            {
                h.Raw("<p class=\"callout warn\">").Text(problem).Raw("</p>");
            }
        }
        else
        {
            h.Raw("<p class=\"muted\">No collector configured.</p>");
        }

        h.Raw("<p>Messages lost to a full queue: <span id=\"syslog-queue-dropped\">").Text(Html.Count(traffic.SyslogQueueDropped)).Raw("</span></p></section>");
        return Layout(page, "Overview", "overview", h, refresh: true);
    }

    public static string Cameras(PageContext page, PolicyService policies, ITrafficSource traffic)
    {
        var state = policies.Current;
        var now = page.Now;
        var flows = FlowsPerCamera(traffic, out var flowsCapped);
        var h = new Html();
        h.Raw("<h1>Cameras</h1>");
        if (state is null)
        {
            h.Raw("<p class=\"muted\">No policy is loaded.</p>");
            return Layout(page, "Cameras", "cameras", h, refresh: true);
        }

        var inbox = page.State.Inbox.List();
        h.Raw("<div class=\"table-wrap\"><table class=\"sortable\" id=\"cameras\"><caption>").Text(Html.Count(state.Spec.Cameras.Count)).Raw(state.Spec.Cameras.Count == 1 ? " camera, policy version " : " cameras, policy version ").Text(state.Version.ToString(CultureInfo.InvariantCulture)).Raw("</caption><thead><tr>")
            .Raw("<th scope=\"col\">Camera</th><th scope=\"col\">Mode</th><th scope=\"col\">Identity</th><th scope=\"col\">Last seen</th>")
            .Raw("<th scope=\"col\" class=\"num\">Passed 5 min</th><th scope=\"col\" class=\"num\">Dropped 5 min</th><th scope=\"col\" class=\"num\">Passed 1 h</th><th scope=\"col\" class=\"num\">Dropped 1 h</th>")
            .Raw("<th scope=\"col\" class=\"num\">Flows</th><th scope=\"col\">Alerts</th></tr></thead><tbody>");
        foreach (var camera in state.Spec.Cameras)
        {
            var totals = policies.Holder.Slots.TryGet(camera.Name, out var slot) ? traffic.Camera(slot) : default;
            var five = page.State.Sampler.Window(camera.Name, totals, TimeSpan.FromMinutes(5));
            var hour = page.State.Sampler.Window(camera.Name, totals, TimeSpan.FromHours(1));
            h.Raw("<tr data-camera=\"").Text(camera.Name).Raw("\"><th scope=\"row\">").Link("/console/cameras/" + Uri.EscapeDataString(camera.Name), camera.Name).Raw("</th>")
                .El("td", PolicyFormatter.ModeWord(camera.Mode), "mode-" + PolicyFormatter.ModeWord(camera.Mode)) // the lab compares this cell with the API
                .El("td", PolicyFormatter.FormatIdentity(camera))
                .Raw("<td data-sort=\"").Text(totals.LastSeen?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "0").Raw("\">").Time(totals.LastSeen, now).Raw("</td>");
            Window(h, five, passed: true);
            Window(h, five, passed: false);
            Window(h, hour, passed: true);
            Window(h, hour, passed: false);
            h.El("td", (flows.TryGetValue(camera.Name, out var n) ? Html.Count(n) : "0") + (flowsCapped ? "+" : ""), "num");
            h.Raw("<td>");
            Badges(h, inbox.Where(g => g.Camera == camera.Name), now);
            h.Raw("</td></tr>");
        }

        h.Raw("</tbody></table></div>");
        h.Raw("<p class=\"muted small\">Passed and dropped count frames in the window from per-minute samples; a value marked * covers a shorter window (the appliance started recently).</p>");
        return Layout(page, "Cameras", "cameras", h, refresh: true);
    }

    public static string? Camera(PageContext page, string name, PolicyService policies, ITrafficSource traffic, IEventFeed events)
    {
        if (policies.Current is not { } state || state.Spec.Cameras.FirstOrDefault(c => c.Name == name) is not { } camera)
        {
            return null;
        }

        var now = page.Now;
        var totals = policies.Holder.Slots.TryGet(camera.Name, out var slot) ? traffic.Camera(slot) : default;
        var h = new Html();
        h.Raw("<p><a href=\"/console/cameras\">← Cameras</a></p><h1>").Text(camera.Name).Raw("</h1><dl class=\"facts\">")
            .Raw("<dt>Mode</dt><dd>").Text(camera.Mode switch { Core.Policy.CameraMode.Monitor => "monitor (pass and report)", Core.Policy.CameraMode.Learn => "learn (pass, report, and feed the proposal)", _ => "enforce" }).Raw("</dd>")
            .Raw("<dt>Identity</dt><dd>").Text(PolicyFormatter.FormatIdentity(camera)).Raw("</dd>")
            .Raw("<dt>Last seen</dt><dd>").Time(totals.LastSeen, now).Raw("</dd>")
            .Raw("<dt>Frames</dt><dd>").Text(Html.Count(totals.FramesPassed)).Raw(" passed (").Text(Html.Bytes(totals.BytesPassed)).Raw("), ")
            .Text(Html.Count(totals.FramesDropped)).Raw(" dropped (").Text(Html.Bytes(totals.BytesDropped)).Raw(")</dd></dl>");

        h.Raw("<section aria-labelledby=\"rules-h\"><h2 id=\"rules-h\">Effective rules</h2><p class=\"muted small\">As <code>camfw policy show --live --camera ")
            .Text(camera.Name).Raw("</code> prints them, read back from the compiled tables of version ").Text(state.Version.ToString(CultureInfo.InvariantCulture)).Raw(".</p><pre class=\"rules\" id=\"effective-rules\">");
        using (var writer = new StringWriter(CultureInfo.InvariantCulture))
        {
            // This is the running appliance: each name rule lists what it admits now, as `policy show --live` does,
            // never the offline "none learned" while the camera's learned names are letting traffic through.
            PolicyFormatter.WriteShow(writer, state.Policy, camera.Name, new Dictionary<string, IReadOnlyList<LearnedNameLine>>(StringComparer.Ordinal) { [camera.Name] = AdmittedNames(traffic, camera.Name) });
            h.Text(writer.ToString());
        }

        h.Raw("</pre></section>");

        var blocked = page.State.Inbox.List(camera.Name);
        h.Raw("<section aria-labelledby=\"blocked-h\"><h2 id=\"blocked-h\">Blocked traffic</h2>");
        BlockedTable(h, blocked, now, showCamera: false);
        h.Raw("</section>");

        var recent = events.Recent(1000).Where(e => e.Fields.TryGetValue("camera", out var c) && c == camera.Name).Take(50).ToList();
        h.Raw("<section aria-labelledby=\"events-h\"><h2 id=\"events-h\">Recent events</h2>");
        EventsTable(h, recent, now, "camera-events");
        h.Raw("</section>");
        return Layout(page, camera.Name, "cameras", h, refresh: true);
    }

    public static string Blocked(PageContext page)
    {
        var h = new Html();
        var groups = page.State.Inbox.List();
        h.Raw("<h1>Blocked traffic</h1><p class=\"muted\">Grouped by camera, destination, port and reason; phone-home, spoofing and unknown devices first.</p>");
        BlockedTable(h, groups, page.Now, showCamera: true);
        return Layout(page, "Blocked traffic", "blocked", h, refresh: true);
    }

    public static string Events(PageContext page, IEventFeed events)
    {
        var recent = events.Recent(100);
        var h = new Html();
        h.Raw("<h1>Live events</h1><div class=\"toolbar\" id=\"tail-controls\">")
            .Raw("<button type=\"button\" id=\"pause\" aria-pressed=\"false\">Pause</button> ")
            .Raw("<span id=\"tail-state\" role=\"status\" aria-live=\"polite\">connecting…</span> ")
            .Raw("<span id=\"filters\" aria-label=\"Active filters\"></span></div>")
            .Raw("<p class=\"muted small\">Click a camera, reason or rule to show only its events; click the filter to remove it.</p>");
        EventsTable(h, recent, page.Now, "events", live: true, after: recent.Count > 0 ? recent[0].Sequence : 0);
        return Layout(page, "Live events", "events", h, refresh: false);
    }

    public static string Policy(PageContext page, PolicyService policies)
    {
        var now = page.Now;
        var h = new Html();
        h.Raw("<h1>Policy</h1>");
        var state = policies.Current;
        h.Raw("<dl class=\"facts\"><dt>In force</dt><dd>version <strong id=\"current-version\">").Text(state?.Version.ToString(CultureInfo.InvariantCulture) ?? "none").Raw("</strong>");
        if (state is not null)
        {
            h.Raw(", applied ").Time(state.LoadedAt, now).Raw(" by ").Text(state.Origin.ToString()).Raw("</dd><dt>sha256</dt><dd><code class=\"hash\">").Text(state.Sha256).Raw("</code>");
        }

        h.Raw("</dd></dl>");

        if (policies.Pending is { } pending)
        {
            h.Raw("<div class=\"callout warn\" id=\"pending\" data-deadline=\"").Text(pending.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)).Raw("\">")
                .Raw("<p>Version ").Text(pending.AppliedVersion.ToString(CultureInfo.InvariantCulture)).Raw(" is on trial: unless confirmed, version ")
                .Text(pending.RevertTo.Version.ToString(CultureInfo.InvariantCulture)).Raw(" comes back in <strong id=\"countdown\">")
                .Text(Html.Duration(pending.Deadline - now)).Raw("</strong>.</p>")
                .Raw("<button type=\"button\" id=\"confirm\" class=\"primary\">Confirm version ").Text(pending.AppliedVersion.ToString(CultureInfo.InvariantCulture)).Raw("</button></div>");
        }

        var maxConfirm = (int)Math.Min(3600, policies.Options.MaxConfirmWithin.TotalSeconds);
        h.Raw("<section aria-labelledby=\"upload-h\"><h2 id=\"upload-h\">Validate and apply</h2>")
            .Raw("<form id=\"policy-form\" class=\"upload\"><p><label for=\"policy-dir\">Policy directory</label> ")
            .Raw("<input type=\"file\" id=\"policy-dir\" webkitdirectory multiple></p>")
            .Raw("<p><label for=\"policy-files\">or policy files</label> <input type=\"file\" id=\"policy-files\" multiple accept=\".yaml,.yml\"></p>")
            .Raw("<p id=\"chosen\" class=\"muted small\" aria-live=\"polite\"></p>")
            .Raw("<p><label for=\"confirm-within\">Safe apply: revert unless confirmed within</label> <select id=\"confirm-within\">");
        foreach (var seconds in new[] { 60, 120, 300, 600 }.Where(s => s <= maxConfirm))
        {
            h.Raw("<option").Attr("value", seconds.ToString(CultureInfo.InvariantCulture)).Raw(seconds == 120 ? " selected>" : ">").Text(Html.Duration(TimeSpan.FromSeconds(seconds))).Raw("</option>");
        }

        h.Raw("</select></p><p class=\"buttons\"><button type=\"button\" id=\"validate\">Validate</button> ")
            .Raw("<button type=\"button\" id=\"safe-apply\" class=\"primary\">Safe apply</button> ")
            .Raw("<button type=\"button\" id=\"apply\">Apply now</button></p></form>")
            .Raw("<div id=\"result\" role=\"status\" aria-live=\"polite\"></div></section>");

        // History, newest first, each with its diff against the version before it.
        var history = policies.History.List();
        h.Raw("<section aria-labelledby=\"history-h\"><h2 id=\"history-h\">History</h2><div class=\"table-wrap\"><table id=\"history\"><caption class=\"sr-only\">Policy history, newest first</caption><thead><tr>")
            .Raw("<th scope=\"col\" class=\"num\">Version</th><th scope=\"col\">Applied</th><th scope=\"col\">How</th><th scope=\"col\">sha256</th><th scope=\"col\">Changes</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>");
        for (var i = 0; i < history.Count; i++)
        {
            var e = history[i];
            var previous = i + 1 < history.Count ? history[i + 1] : null;
            var current = state?.Version == e.Version;
            h.Raw(current ? "<tr class=\"current\">" : "<tr>").Raw("<th scope=\"row\" class=\"num\">").Text(e.Version.ToString(CultureInfo.InvariantCulture)).Raw(current ? " <span class=\"badge ok\">in force</span>" : "").Raw("</th><td>")
                .Time(e.AppliedAt, now).Raw("</td>").El("td", e.Origin.ToString()).Raw("<td><code class=\"hash\">").Text(e.Sha256.Length > 12 ? e.Sha256[..12] + "…" : e.Sha256).Raw("</code></td><td>");
            HistoryDiff(h, policies.History, previous, e);
            h.Raw("</td><td>");
            if (!current)
            {
                h.Raw("<button type=\"button\" class=\"rollback\"").Attr("data-version", e.Version.ToString(CultureInfo.InvariantCulture)).Raw(">Roll back to ").Text(e.Version.ToString(CultureInfo.InvariantCulture)).Raw("</button>");
            }

            h.Raw("</td></tr>");
        }

        h.Raw("</tbody></table></div></section>");
        return Layout(page, "Policy", "policy", h, refresh: false);
    }

    /// <summary>
    /// Learn mode's proposal (<c>GET /api/v1/proposal</c>), read-only: what needs the admin's decision first, then the
    /// learned rules with their comments (first and last seen, volume), then what was left out and the diff. Applying
    /// it stays the admin's explicit safe apply (the Policy page or <c>camfw apply --confirm-within</c>); nothing here
    /// changes the policy.
    /// </summary>
    public static string Proposal(PageContext page, ITrafficSource traffic)
    {
        var h = new Html();
        h.Raw("<h1>Learned policy proposal</h1>");
        if (traffic.Proposal() is not { } p)
        {
            h.Raw("<p id=\"no-proposal\">Nothing is in learn mode, so there is nothing to propose. Set <code>mode: learn</code> on the site, a profile or a camera to start learning.</p>");
            return Layout(page, "Proposal", "proposal", h, refresh: false);
        }

        h.Raw("<p class=\"callout\">Read only: nothing here is applied by itself. Review it, save the files as a policy directory, then use <a href=\"/console/policy\">Safe apply</a> or <code>camfw apply DIR --confirm-within 120</code>.</p>");
        h.Raw("<dl class=\"facts\" id=\"proposal-counts\"><dt>Cameras</dt><dd>").Text(Html.Count(p.Cameras))
            .Raw("</dd><dt>Learned (allowed)</dt><dd id=\"allowed-count\">").Text(Html.Count(p.Allowed))
            .Raw("</dd><dt>Needs a decision</dt><dd id=\"decision-count\">").Text(Html.Count(p.NeedsDecision))
            .Raw("</dd><dt>Not learned</dt><dd>").Text(Html.Count(p.NotLearned)).Raw("</dd>");
        if (p.NotesLost > 0 || p.Evicted > 0)
        {
            h.Raw("<dt>Incomplete</dt><dd class=\"warn\">").Text($"{Html.Count(p.NotesLost)} flow note(s) lost, {Html.Count(p.Evicted)} entries evicted: the proposal may miss something").Raw("</dd>");
        }

        h.Raw("</dl>");
        if (p.Problems.Count > 0)
        {
            h.Raw("<div class=\"callout warn\" id=\"proposal-problems\"><p>The policy check says:</p><ul>");
            foreach (var problem in p.Problems)
            {
                h.El("li", problem);
            }

            h.Raw("</ul></div>");
        }

        var review = ReviewItems(p.Files.TryGetValue("REVIEW.md", out var text) ? text : string.Empty);
        h.Raw("<section aria-labelledby=\"decide-h\" id=\"needs-decision\"><h2 id=\"decide-h\">Needs a decision</h2>");
        ReviewTable(h, review.Where(r => r.Decision).ToList(), "decisions", "Flows to public addresses (phone-home, public resolvers): never allowed by a proposal", "None: no camera talked to a public address.");
        h.Raw("</section>");

        h.Raw("<section aria-labelledby=\"rules-h\" id=\"learned-rules\"><h2 id=\"rules-h\">Learned rules</h2>");
        foreach (var (name, file) in p.Files.Where(f => f.Key.EndsWith(".yaml", StringComparison.Ordinal)).OrderBy(f => f.Key.StartsWith("site", StringComparison.Ordinal) ? 1 : 0).ThenBy(f => f.Key, StringComparer.Ordinal))
        {
            h.Raw("<h3>").Text(name).Raw("</h3><pre class=\"proposal-file\"").Attr("data-file", name).Raw(">").Text(file).Raw("</pre>");
        }

        h.Raw("</section><section aria-labelledby=\"left-h\" id=\"not-learned\"><h2 id=\"left-h\">Not learned</h2>");
        ReviewTable(h, review.Where(r => !r.Decision).ToList(), "left-out", "Inbound from public addresses, never completed, or below the threshold", "Nothing was left out.");
        h.Raw("</section><section aria-labelledby=\"pdiff-h\"><h2 id=\"pdiff-h\">Against the policy in force</h2><pre id=\"proposal-diff\">").Text(p.Diff).Raw("</pre></section>");
        return Layout(page, "Proposal", "proposal", h, refresh: false);
    }

    /// <summary>
    /// The names <paramref name="camera"/> learned from its DNS answers that a name rule may admit through, with the
    /// time their admission has left (names taught by answers to queries no rule admitted only name peers in reports).
    /// </summary>
    private static List<LearnedNameLine> AdmittedNames(ITrafficSource traffic, string camera)
        => [.. traffic.LearnedNames().Where(n => n.AdmitsSeconds is not null && string.Equals(n.Camera, camera, StringComparison.Ordinal)).Select(n => new LearnedNameLine(n.Name, n.Address, n.AdmitsSeconds!.Value))];

    /// <summary>REVIEW.md's listed items, per camera: <c>## camera (...)</c> headings, then <c>- **needs a decision**: ...</c> or <c>- not learned: ...</c>.</summary>
    private static List<(string Camera, bool Decision, string What)> ReviewItems(string review)
    {
        var items = new List<(string, bool, string)>();
        var camera = string.Empty;
        foreach (var line in review.Split('\n'))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                var end = line.IndexOf(" (", StringComparison.Ordinal);
                camera = end > 3 ? line[3..end] : line[3..];
            }
            else if (line.StartsWith("- **needs a decision**: ", StringComparison.Ordinal))
            {
                items.Add((camera, true, line["- **needs a decision**: ".Length..]));
            }
            else if (line.StartsWith("- not learned: ", StringComparison.Ordinal))
            {
                items.Add((camera, false, line["- not learned: ".Length..]));
            }
        }

        return items;
    }

    private static void ReviewTable(Html h, List<(string Camera, bool Decision, string What)> items, string id, string caption, string none)
    {
        if (items.Count == 0)
        {
            h.Raw("<p class=\"muted\"").Attr("id", id).Raw(">").Text(none).Raw("</p>");
            return;
        }

        h.Raw("<div class=\"table-wrap\"><table").Attr("id", id).Raw("><caption>").Text(caption).Raw("</caption><thead><tr><th scope=\"col\">Camera</th><th scope=\"col\">Flow, and why</th></tr></thead><tbody>");
        foreach (var (camera, _, what) in items)
        {
            h.Raw("<tr>").El("td", camera).El("td", what).Raw("</tr>");
        }

        h.Raw("</tbody></table></div>");
    }

    private static void HistoryDiff(Html h, PolicyHistory history, PolicyHistoryEntry? previous, PolicyHistoryEntry entry)
    {
        if (previous is null)
        {
            h.Raw("<span class=\"muted\">first stored version</span>");
            return;
        }

        if (!history.TryLoad(previous.Version, out _, out var before) || !history.TryLoad(entry.Version, out _, out var after))
        {
            h.Raw("<span class=\"muted\">files not readable</span>");
            return;
        }

        var a = before.ToDictionary(s => s.Name, s => s.Text, StringComparer.Ordinal);
        var b = after.ToDictionary(s => s.Name, s => s.Text, StringComparer.Ordinal);
        var lines = new List<(ChangeType Type, string Text)>();
        int added = 0, removed = 0;
        foreach (var file in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
        {
            var model = InlineDiffBuilder.Diff(a.GetValueOrDefault(file, ""), b.GetValueOrDefault(file, ""), ignoreWhiteSpace: false);
            if (model.Lines.All(l => l.Type == ChangeType.Unchanged))
            {
                continue;
            }

            lines.Add((ChangeType.Imaginary, $"--- {file}"));
            for (var i = 0; i < model.Lines.Count; i++)
            {
                var line = model.Lines[i];
                // Changed lines with one line of context either side, like a unified diff.
                var near = line.Type != ChangeType.Unchanged
                    || (i > 0 && model.Lines[i - 1].Type != ChangeType.Unchanged)
                    || (i + 1 < model.Lines.Count && model.Lines[i + 1].Type != ChangeType.Unchanged);
                if (!near)
                {
                    continue;
                }

                added += line.Type == ChangeType.Inserted ? 1 : 0;
                removed += line.Type == ChangeType.Deleted ? 1 : 0;
                lines.Add((line.Type, $"{(line.Type == ChangeType.Inserted ? "+" : line.Type == ChangeType.Deleted ? "-" : " ")}{(line.Position is { } p ? p.ToString(CultureInfo.InvariantCulture).PadLeft(4) : "    ")} {line.Text}"));
            }
        }

        h.Raw("<details><summary>").Text(lines.Count == 0 ? $"same files as {previous.Version}" : $"+{added} −{removed} lines vs {previous.Version}").Raw("</summary><pre class=\"diff\">");
        foreach (var (type, text) in lines.Take(MaxDiffLines))
        {
            h.El("span", text + "\n", type switch { ChangeType.Inserted => "ins", ChangeType.Deleted => "del", ChangeType.Imaginary => "file", _ => "ctx" });
        }

        if (lines.Count > MaxDiffLines)
        {
            h.El("span", $"… {lines.Count - MaxDiffLines} more lines\n", "file");
        }

        h.Raw("</pre></details>");
    }

    private static void Window(Html h, WindowCounts? counts, bool passed)
    {
        if (counts is not { } c)
        {
            h.El("td", "–", "num muted");
            return;
        }

        var value = passed ? c.Passed : c.Dropped;
        h.Raw("<td class=\"num").Raw(!passed && value > 0 ? " warn" : "").Raw("\"").Attr("data-sort", value.ToString(CultureInfo.InvariantCulture))
            .Raw(c.Partial ? " title=\"since the first sample\">" : ">").Text(Html.Count(value) + (c.Partial ? "*" : "")).Raw("</td>");
    }

    private static void Badges(Html h, IEnumerable<BlockedGroup> groups, DateTimeOffset now)
    {
        var recent = groups.Where(g => now - g.LastSeen <= TimeSpan.FromHours(1)).ToList();
        if (recent.Any(g => BlockedTrafficInbox.SpoofKinds.Contains(g.Kind) || g.Reason.EndsWith("-spoof", StringComparison.Ordinal)))
        {
            h.Raw("<span class=\"badge bad\" title=\"spoofed frames with this camera's identity in the last hour\">spoof attempt</span> ");
        }

        // A destination first refused in the last hour: something new the camera wants to reach.
        var fresh = recent.Where(g => now - g.FirstSeen <= TimeSpan.FromHours(1) && !BlockedTrafficInbox.SpoofKinds.Contains(g.Kind)).ToList();
        if (fresh.Count > 0)
        {
            h.Raw("<span class=\"badge warn\"").Attr("title", "new: " + string.Join(", ", fresh.Take(5).Select(g => $"{g.DnsName ?? g.Destination}:{g.Port}"))).Raw(">new destination</span>");
        }
    }

    private static void BlockedTable(Html h, IReadOnlyList<BlockedGroup> groups, DateTimeOffset now, bool showCamera)
    {
        if (groups.Count == 0)
        {
            h.Raw("<p class=\"muted\" id=\"blocked-empty\">Nothing blocked so far.</p>");
            return;
        }

        h.Raw("<div class=\"table-wrap\"><table class=\"sortable\" id=\"blocked\"><caption class=\"sr-only\">Blocked traffic</caption><thead><tr><th scope=\"col\">Severity</th>");
        if (showCamera)
        {
            h.Raw("<th scope=\"col\">Camera</th>");
        }

        h.Raw("<th scope=\"col\">Destination</th><th scope=\"col\">DNS name</th><th scope=\"col\">Port</th><th scope=\"col\">Reason</th><th scope=\"col\" class=\"num\">Count</th><th scope=\"col\">First seen</th><th scope=\"col\">Last seen</th></tr></thead><tbody>");
        foreach (var g in groups)
        {
            h.Raw(g.Critical ? "<tr class=\"critical\">" : "<tr>")
                .Raw("<td data-sort=\"").Raw(g.Critical ? "0" : "1").Raw("\">").Raw(g.Critical ? "<span class=\"badge bad\">" : "<span class=\"badge\">").Text(g.Critical ? g.Kind : "denied").Raw("</span></td>");
            if (showCamera)
            {
                h.Raw("<td>");
                if (g.Camera.StartsWith("unknown device", StringComparison.Ordinal))
                {
                    h.Text(g.Camera);
                }
                else
                {
                    h.Link("/console/cameras/" + Uri.EscapeDataString(g.Camera), g.Camera);
                }

                h.Raw("</td>");
            }

            h.El("td", g.Destination, "addr").El("td", g.DnsName ?? "–", g.DnsName is null ? "muted" : null)
                .El("td", g.Port == 0 ? g.Protocol : $"{g.Port}/{g.Protocol}")
                .El("td", g.Reason)
                .Raw("<td class=\"num\"").Attr("data-sort", g.Count.ToString(CultureInfo.InvariantCulture)).Raw(">").Text(Html.Count(g.Count)).Raw("</td>")
                .Raw("<td").Attr("data-sort", g.FirstSeen.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)).Raw(">").Time(g.FirstSeen, now).Raw("</td>")
                .Raw("<td").Attr("data-sort", g.LastSeen.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)).Raw(">").Time(g.LastSeen, now).Raw("</td></tr>");
        }

        h.Raw("</tbody></table></div>");
    }

    private static void EventsTable(Html h, IReadOnlyList<ReportedEvent> events, DateTimeOffset now, string id, bool live = false, long after = 0)
    {
        h.Raw("<div class=\"table-wrap\"><table").Attr("id", id);
        if (live)
        {
            h.Attr("data-stream", "/console/events/stream").Attr("data-after", after.ToString(CultureInfo.InvariantCulture));
        }

        h.Raw("><caption class=\"sr-only\">Security events, newest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Kind</th><th scope=\"col\">Camera</th><th scope=\"col\">Reason</th><th scope=\"col\">Rule</th><th scope=\"col\">DNS name</th><th scope=\"col\">Event</th></tr></thead><tbody>");
        foreach (var e in events)
        {
            EventRow(h, e, now, live);
        }

        h.Raw("</tbody></table></div>");
        if (events.Count == 0 && !live)
        {
            h.Raw("<p class=\"muted\">No events.</p>");
        }
    }

    private static void EventRow(Html h, ReportedEvent e, DateTimeOffset now, bool filters)
    {
        var camera = e.Fields.GetValueOrDefault("camera", "");
        var reason = e.Fields.GetValueOrDefault("reason", "");
        var rule = e.Fields.GetValueOrDefault("rule", "");
        h.Raw("<tr").Attr("data-seq", e.Sequence.ToString(CultureInfo.InvariantCulture)).Attr("data-camera", camera).Attr("data-reason", reason).Attr("data-rule", rule)
            .Raw(e.Level is "Warning" or "Error" or "Critical" ? " class=\"critical\">" : ">")
            .Raw("<td>").Time(e.At, now).Raw("</td>").El("td", e.Kind);
        foreach (var (field, value) in new[] { ("camera", camera), ("reason", reason), ("rule", rule) })
        {
            h.Raw("<td>");
            if (filters && value.Length > 0 && value != "-")
            {
                h.Raw("<button type=\"button\" class=\"chip\"").Attr("data-filter", field).Attr("data-value", value).Raw(">").Text(value).Raw("</button>");
            }
            else
            {
                h.Text(value);
            }

            h.Raw("</td>");
        }

        // The name the camera last resolved to the peer, as the reporter captured it when the frame was decided.
        var dns = e.Fields.GetValueOrDefault(DeniedDestinationTracker.DnsNameField, "-");
        h.El("td", dns is "-" or "" ? "–" : dns, dns is "-" or "" ? "muted" : "addr").El("td", e.Message, "msg").Raw("</tr>");
    }

    private static void Diagnostics(Html h, IReadOnlyList<DiagnosticDto> diagnostics)
    {
        h.Raw("<ul class=\"diagnostics\">");
        foreach (var d in diagnostics)
        {
            h.Raw("<li class=\"").Text(d.Severity).Raw("\"><code>").Text($"{d.File}:{d.Line}:{d.Column}").Raw("</code> ").Text(d.Severity).Raw(": ").Text(d.Message).Raw("</li>");
        }

        h.Raw("</ul>");
    }

    private static Dictionary<string, int> FlowsPerCamera(ITrafficSource traffic, out bool capped)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var offset = 0;
        capped = false;
        while (true)
        {
            var page = traffic.Flows(offset, ManagementApi.MaxPage);
            foreach (var f in page.Flows)
            {
                if (f.Camera is { } c)
                {
                    counts[c] = counts.GetValueOrDefault(c) + 1;
                }
            }

            offset += page.Flows.Count;
            if (page.Flows.Count == 0 || offset >= page.Total)
            {
                return counts;
            }

            if (offset >= MaxFlowsCounted)
            {
                capped = true;
                return counts;
            }
        }
    }

    private static string Layout(PageContext page, string title, string active, Html body, bool refresh)
    {
        var h = new Html();
        h.Raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Raw("<title>camfw · ").Text(title).Raw("</title>")
            .Raw("<meta name=\"csrf-token\"").Attr("content", page.Session.CsrfToken).Raw(">")
            .Raw("<link rel=\"stylesheet\" href=\"/console/assets/console.css\"><script src=\"/console/assets/console.js\" defer></script></head>")
            .Raw("<body").Attr("data-page", active).Raw(refresh ? " data-refresh=\"5\">" : ">")
            .Raw("<a class=\"skip\" href=\"#main\">Skip to content</a><header><nav aria-label=\"Console\"><span class=\"brand\">camfw</span><ul>");
        foreach (var (key, href, label) in Nav)
        {
            h.Raw("<li><a").Attr("href", href).Raw(key == active ? " aria-current=\"page\">" : ">").Text(label).Raw("</a></li>");
        }

        h.Raw("</ul><form method=\"post\" action=\"/console/logout\" class=\"logout\"><input type=\"hidden\"").Attr("name", ConsoleSecurity.CsrfField).Attr("value", page.Session.CsrfToken)
            .Raw("><button type=\"submit\" id=\"logout\">Log out</button></form></nav></header><main id=\"main\" tabindex=\"-1\">")
            .Raw(body.ToString())
            .Raw("</main><footer class=\"muted small\">Rendered ").Text(Html.Exact(page.Now)).Raw(refresh ? " · refreshes every 5 s" : "").Raw("</footer></body></html>");
        return h.ToString();
    }
}

/// <summary>What every page needs: the session (its anti-forgery token goes into forms), the console's state, the time.</summary>
internal sealed record PageContext(ConsoleSession Session, ConsoleState State, DateTimeOffset Now);
