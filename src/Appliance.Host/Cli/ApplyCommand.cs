using System.CommandLine;
using System.Globalization;
using Appliance.Management.Api;
using Appliance.Management.Policies;

namespace Appliance.Host.Cli;

/// <summary><c>camfw apply DIR [--confirm-within N]</c>: send a policy directory to the running appliance.</summary>
internal static class ApplyCommand
{
    public static Command Create()
    {
        var options = new AdminCommandOptions();
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Policy directory to send (every *.yaml in it)" };
        var confirmWithin = new Option<int?>("--confirm-within") { Description = "Seconds: unless 'camfw confirm' follows in time, the previous policy comes back by itself" };
        var command = new Command("apply", "Apply a policy directory to the running appliance (validated there; the old policy stays on any error).")
        {
            directory,
            confirmWithin,
        };
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => options.RunAsync(parse, async (client, console) =>
        {
            var dir = parse.GetValue(directory)!;
            if (!PolicySourceSet.TryRead(dir.FullName, out var sources, out var error))
            {
                await Console.Error.WriteLineAsync("camfw: " + error).ConfigureAwait(false);
                return 2;
            }

            if (sources.Count == 0)
            {
                await Console.Error.WriteLineAsync($"camfw: no *.yaml files in {dir.FullName}").ConfigureAwait(false);
                return 2;
            }

            var body = new PolicyFilesDto { Files = sources.ToDictionary(s => s.Name, s => s.Text, StringComparer.Ordinal) };
            var path = parse.GetValue(confirmWithin) is { } seconds ? $"/api/v1/policy?confirm-within={seconds.ToString(CultureInfo.InvariantCulture)}" : "/api/v1/policy";
            var response = await client.PutJsonAsync(path, body, ManagementJsonContext.Default.PolicyFilesDto, ManagementJsonContext.Default.ApplyDto, cancellationToken).ConfigureAwait(false);
            return AdminCommandOptions.WriteApplyResult(console, response);
        }));
        return command;
    }
}
