using System.CommandLine;
using Spectre.Console;

namespace Appliance.Host.Cli;

/// <summary><c>camfw history</c>: the policy versions kept, newest first.</summary>
internal static class HistoryCommand
{
    public static Command Create()
    {
        var options = new AdminCommandOptions();
        var command = new Command("history", "List the policy versions kept for rollback, newest first.");
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => options.RunAsync(parse, async (client, console) =>
        {
            var response = await client.HistoryAsync(cancellationToken).ConfigureAwait(false);
            if (response.Body is not { } history)
            {
                console.MarkupLine($"[red]failed[/]: {Markup.Escape(response.Error ?? "")}");
                return 1;
            }

            var table = new Table().AddColumns("version", "applied", "from", "sha256", "files");
            foreach (var e in history.Entries)
            {
                table.AddRow(
                    e.Current ? $"[green]{e.Version} (in force)[/]" : e.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    e.AppliedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                    Markup.Escape(StatusCommand.Origin(e.Origin)),
                    Markup.Escape(e.Sha256[..Math.Min(12, e.Sha256.Length)]),
                    e.Sources.Count == 1 ? Markup.Escape(e.Sources[0]) : $"{e.Sources.Count} files");
            }

            console.Write(table);
            return 0;
        }));
        return command;
    }
}
