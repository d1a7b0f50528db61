using System.CommandLine;
using Appliance.Management.Api;
using Appliance.Policy;

namespace Appliance.Host.Cli;

/// <summary>
/// <c>camfw apply DIR [--confirm-within N] [--allow-camera-removal]</c>: send a policy directory to the running
/// appliance. The directory is read by the same reader as <c>camfw policy check</c> and the appliance itself.
/// </summary>
internal static class ApplyCommand
{
    public static Command Create()
    {
        var options = new AdminCommandOptions();
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Policy directory to send (every *.yaml and *.yml below it)" };
        var confirmWithin = new Option<int?>("--confirm-within") { Description = "Seconds: unless 'camfw confirm' follows in time, the previous policy comes back by itself" };
        var allowCameraRemoval = new Option<bool>("--allow-camera-removal")
        {
            Description = "The change means to remove every camera, more than Policy:MaxCameraRemovalShare of them, or the last in enforce mode (needs --confirm-within)",
        };
        var command = new Command("apply", "Apply a policy directory to the running appliance (validated there; the old policy stays on any error).")
        {
            directory,
            confirmWithin,
            allowCameraRemoval,
        };
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            var allow = parse.GetValue(allowCameraRemoval);
            var seconds = parse.GetValue(confirmWithin);
            if (allow && seconds is null)
            {
                Console.Error.WriteLine("camfw: --allow-camera-removal needs --confirm-within SECONDS: such a change is applied only as a safe apply, reverted unless confirmed");
                return Task.FromResult(2);
            }

            return options.RunAsync(parse, async (client, console) =>
            {
                var dir = parse.GetValue(directory)!;
                if (!TryReadDirectory(dir.FullName, Console.Error, out var body))
                {
                    return 2;
                }

                var response = await client.ApplyAsync(body.Files!, seconds, allow, cancellationToken).ConfigureAwait(false);
                return AdminCommandOptions.WriteApplyResult(console, response);
            });
        });
        return command;
    }

    /// <summary>
    /// Reads <paramref name="directory"/> as the appliance would. Any file that cannot be read (too large, not UTF-8,
    /// a symbolic link, a name the appliance refuses) stops the apply with its diagnostic: sending the rest would
    /// apply a policy without it.
    /// </summary>
    internal static bool TryReadDirectory(string directory, TextWriter error, out PolicyFilesDto body)
    {
        var contents = PolicyDirectoryReader.Read(directory);
        body = new PolicyFilesDto { Files = contents.Sources.ToDictionary(s => s.Name, s => s.Text, StringComparer.Ordinal) };
        if (contents.HasErrors || contents.PolicyFiles.Count == 0)
        {
            // The whole answer `camfw policy check` would give (the YAML of the files read is checked too).
            foreach (var diagnostic in PolicyLoader.Load(contents).Diagnostics)
            {
                error.WriteLine(diagnostic.ToString());
            }

            error.WriteLine($"camfw: nothing was sent: not every policy file in {directory} can be read ('camfw policy check {directory}' shows the same)");
            return false;
        }

        return true;
    }
}
