using System.CommandLine;
using System.Globalization;
using Appliance.Management.Api;
using Spectre.Console;

namespace Appliance.Host.Cli;

/// <summary><c>camfw status</c>: health, the policy in force, data planes and cameras at a glance.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var options = new AdminCommandOptions();
        var command = new Command("status", "Show the running appliance: health, policy, data planes, cameras.");
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => options.RunAsync(parse, async (client, console) =>
        {
            var health = await client.HealthAsync(cancellationToken).ConfigureAwait(false);
            if (health.Body is not { } h)
            {
                console.MarkupLine($"[red]health check failed[/]: {Markup.Escape(health.Error ?? "")}");
                return 1;
            }

            var color = h.Status switch { "healthy" => "green", "degraded" => "yellow", _ => "red" };
            console.MarkupLine($"camfw at {Markup.Escape(client.Endpoint)}: [{color}]{h.Status}[/]");
            var policy = await client.PolicyAsync(cancellationToken).ConfigureAwait(false);
            if (policy.Body is { } p)
            {
                console.MarkupLine($"policy version [bold]{p.Version}[/], {p.Cameras} cameras, sha256 {Markup.Escape(p.Sha256[..Math.Min(16, p.Sha256.Length)])}, loaded {p.LoadedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss} from {Markup.Escape(Origin(p.Origin))}");
                console.MarkupLine($"policy directory {Markup.Escape(p.Directory)}: {Markup.Escape(string.Join(", ", p.Sources))}");
            }

            if (h.PendingConfirmation is { } pending)
            {
                console.MarkupLine($"[yellow]version {pending.Version} awaits 'camfw confirm' until {pending.Deadline.ToLocalTime():HH:mm:ss}; otherwise version {pending.RevertToVersion}'s files come back[/]");
            }

            if (h.LastPolicyFailure is { } failure)
            {
                console.MarkupLine($"{(h.LastPolicyFailureStands ? "[red]the last policy change was rejected[/]" : "[grey]an earlier policy change was rejected[/]")} at {failure.At.ToLocalTime():yyyy-MM-dd HH:mm:ss} ({Markup.Escape(Origin(failure.Origin))}):");
                AdminCommandOptions.WriteDiagnostics(console, failure.Diagnostics);
            }

            console.MarkupLine($"policy reloads {h.PolicyReloads}, rejected {h.PolicyReloadFailures}");
            if (h.DataPlanes.Count > 0)
            {
                var planes = new Table().AddColumns("data plane", "state", "flows", "capture drops");
                foreach (var d in h.DataPlanes)
                {
                    planes.AddRow(Markup.Escape(d.Name), d.Healthy ? "[green]forwarding[/]" : $"[red]{Markup.Escape(d.Error ?? "down")}[/]", $"{d.FlowCount}/{d.FlowCapacity}", d.CaptureDrops.ToString(CultureInfo.InvariantCulture));
                }

                console.Write(planes);
            }

            var cameras = await client.CamerasAsync(cancellationToken).ConfigureAwait(false);
            if (cameras.Body is { Cameras.Count: > 0 } list)
            {
                var table = new Table().AddColumns("camera", "mode", "last seen", "passed", "dropped", "top denied destinations");
                foreach (var c in list.Cameras)
                {
                    table.AddRow(
                        Markup.Escape(c.Name),
                        c.Mode == "monitor" ? "[yellow]monitor[/]" : "enforce",
                        c.LastSeen?.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "never",
                        $"{c.FramesPassed} ({Bytes(c.BytesPassed)})",
                        c.FramesDropped == 0 ? "0" : $"[red]{c.FramesDropped}[/] ({Bytes(c.BytesDropped)})",
                        Markup.Escape(string.Join(", ", c.TopDeniedDestinations.Select(d => (d.Name is null ? d.Address : $"{d.Name} ({d.Address})") + $":{d.Port}/{d.Protocol} x{d.Count}"))));
                }

                console.Write(table);
            }

            return h.Status == "unhealthy" ? 1 : 0;
        }));
        return command;
    }

    internal static string Origin(OriginDto o) => o.Remote is null ? (o.Detail is null ? o.Kind : $"{o.Kind}: {o.Detail}") : $"{o.Kind} {o.Remote}{(o.Detail is null ? "" : ": " + o.Detail)}";

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.0} GiB",
    };
}
