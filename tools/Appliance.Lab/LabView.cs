using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Appliance.Lab;

/// <summary>Renders a <see cref="LabSnapshot"/>: a Spectre.Console live view, or plain text for headless runs.</summary>
internal static class LabView
{
    private const int EventRows = 8;

    public static IRenderable Render(LabSnapshot s, LabBanner banner)
    {
        var header = new Markup(
            $"[bold]camfw lab[/] — {Fmt(s.Elapsed)} — policy v{s.Cameras?.PolicyVersion?.ToString(CultureInfo.InvariantCulture) ?? "?"} " +
            $"— {Status(s)}\n" +
            $"[grey]API[/] {Markup.Escape(banner.ApiUrl)}  [grey]token[/] {Markup.Escape(banner.TokenFile)}  " +
            $"[grey]syslog[/] {Markup.Escape(banner.SyslogFile)}\n" +
            $"[grey]edit[/] {Markup.Escape(banner.PolicyDirectory)} [grey](reloads within a second)[/]  [grey]Ctrl-C stops and removes everything[/]");

        var cameras = new Table().Border(TableBorder.Rounded).Title("[bold]Cameras[/] (the appliance's counters)")
            .AddColumn("Camera").AddColumn("MAC / IP").AddColumn("Mode")
            .AddColumn(new TableColumn("Passed").RightAligned()).AddColumn(new TableColumn("Dropped").RightAligned())
            .AddColumn(new TableColumn("Bytes passed").RightAligned()).AddColumn("Top denied destination");
        var idle = 0;
        foreach (var c in s.Cameras?.Cameras ?? [])
        {
            // The example policy lists more cameras than the lab plays; the silent ones fold into one line.
            if (c.FramesPassed == 0 && c.FramesDropped == 0)
            {
                idle++;
                continue;
            }

            var denied = c.TopDeniedDestinations.Count > 0 ? c.TopDeniedDestinations[0] : null;
            cameras.AddRow(
                Markup.Escape(c.Name),
                Markup.Escape($"{c.Mac} {string.Join(' ', c.Addresses)}"),
                Markup.Escape(c.Mode),
                $"[green]{c.FramesPassed:N0}[/]",
                c.FramesDropped > 0 ? $"[red]{c.FramesDropped:N0}[/]" : "0",
                Bytes(c.BytesPassed),
                denied is null ? "" : Markup.Escape($"{denied.Protocol} {(denied.Name is null ? denied.Address : $"{denied.Name} ({denied.Address})")}:{denied.Port} ×{denied.Count}"));
        }

        if (idle > 0)
        {
            cameras.AddRow($"[grey]+{idle} more in the policy, no traffic[/]", "", "", "", "", "", "");
        }

        var checks = new Table().Border(TableBorder.Rounded).Title("[bold]What the devices see[/]")
            .AddColumn("").AddColumn("Traffic").AddColumn("Example policy").AddColumn("Now").AddColumn(new TableColumn("Got through so far").RightAligned());
        foreach (var check in s.Checks)
        {
            var mark = check.OkNow switch { true => "[green]✔[/]", false => "[red]✘[/]", null => "[grey]…[/]" };
            var now = check.GettingThroughNow switch
            {
                true => check.MustPass ? "[green]gets through[/]" : "[red bold]gets through[/]",
                false => check.MustPass ? "[red bold]blocked[/]" : "[green]blocked[/]",
                null => "[grey]-[/]",
            };
            var got = check.Unit == "bytes"
                ? Bytes(check.Successes)
                : $"{check.Successes:N0} of {check.Attempts:N0} {check.Unit}";
            checks.AddRow(mark, Markup.Escape(check.Name), check.MustPass ? "flows" : "blocked", now, got);
        }

        var reasons = new Table().Border(TableBorder.Rounded).Title("[bold]Frames by reason[/]")
            .AddColumn("Reason").AddColumn(new TableColumn("Frames").RightAligned());
        foreach (var (reason, count) in s.Reasons.OrderByDescending(kv => kv.Value))
        {
            reasons.AddRow(Markup.Escape(reason), count.ToString("N0", CultureInfo.InvariantCulture));
        }

        var events = new Table().Border(TableBorder.Rounded).Title($"[bold]Latest security events[/] ({s.EventsTotal.ToString("N0", CultureInfo.InvariantCulture)} reported, also in syslog)")
            .AddColumn("Time").AddColumn("Event").AddColumn("Camera").AddColumn("Reason").AddColumn("Rule").AddColumn("Dir").AddColumn("Flow");
        foreach (var e in s.Events.Take(EventRows))
        {
            events.AddRow(
                e.At.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                e.Level is "Warning" or "Error" or "Critical" ? $"[red]{Markup.Escape(e.Kind)}[/]" : Markup.Escape(e.Kind),
                Markup.Escape(e.Camera ?? "-"),
                $"[yellow]{Markup.Escape(e.Reason ?? "-")}[/]",
                Markup.Escape(e.Rule ?? "-"),
                Markup.Escape(e.Direction ?? "-"),
                Markup.Escape(e.Flow));
        }

        return new Rows(header, new Columns(cameras, reasons) { Expand = false }, checks, events);
    }

    /// <summary>A plain-text summary for headless runs and logs: one block per snapshot.</summary>
    public static string Summarize(LabSnapshot s)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"[{Fmt(s.Elapsed)}] policy v{s.Cameras?.PolicyVersion} {StatusText(s)}\n");
        foreach (var c in s.Cameras?.Cameras ?? [])
        {
            var denied = c.TopDeniedDestinations.Count > 0 ? c.TopDeniedDestinations[0] : null;
            var top = denied is null ? "" : $"  top denied {denied.Protocol} {(denied.Name is null ? denied.Address : $"{denied.Name} ({denied.Address})")}:{denied.Port}";
            sb.Append(CultureInfo.InvariantCulture, $"  camera {c.Name,-24} passed {c.FramesPassed,9:N0}  dropped {c.FramesDropped,7:N0}{top}\n");
        }

        if (s.Reasons.Count > 0)
        {
            sb.Append("  reasons: ").AppendJoin(", ", s.Reasons.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")).Append('\n');
        }

        foreach (var check in s.Checks)
        {
            var mark = check.OkNow switch { true => "ok  ", false => "DIFF", null => "... " };
            var now = check.GettingThroughNow switch { true => "gets through", false => "blocked", null => "idle" };
            sb.Append(CultureInfo.InvariantCulture, $"  {mark} {check.Name}: now {now}; {check.Successes:N0} of {check.Attempts:N0} {check.Unit} got through so far (example policy: {(check.MustPass ? "flows" : "blocked")})\n");
        }

        foreach (var e in s.Events.Take(3))
        {
            sb.Append(CultureInfo.InvariantCulture, $"  event {e.Kind} reason={e.Reason ?? "-"} rule={e.Rule ?? "-"} camera={e.Camera ?? "-"} {e.Flow}\n");
        }

        return sb.ToString();
    }

    private static string Status(LabSnapshot s) => s.ApiError is not null
        ? $"[red]API: {Markup.Escape(s.ApiError)}[/]"
        : s.Health?.Status switch
        {
            "healthy" => "[green]healthy[/]",
            null => "[grey]starting[/]",
            var other => $"[yellow]{Markup.Escape(other)}[/]",
        };

    private static string StatusText(LabSnapshot s) => s.ApiError is not null ? "API: " + s.ApiError : s.Health?.Status ?? "starting";

    private static string Fmt(TimeSpan t) => t.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    private static string Bytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " B",
    };
}

/// <summary>Where the admin finds things while the lab runs.</summary>
internal sealed record LabBanner(string ApiUrl, string TokenFile, string SyslogFile, string PolicyDirectory, string WorkDirectory);
