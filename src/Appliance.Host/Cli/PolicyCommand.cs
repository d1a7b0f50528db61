using System.CommandLine;
using Appliance.Core.Policy;
using Appliance.Management.Api;
using Appliance.Policy;

namespace Appliance.Host.Cli;

/// <summary>
/// <c>camfw policy check [DIR]</c> and <c>camfw policy show [DIR] [--camera NAME]</c>: what an admin runs before a
/// reload. Diagnostics print compiler-style (<c>file:line:column: error: message</c>) so editors can jump to them.
/// </summary>
internal static class PolicyCommand
{
    private const string DefaultDirectory = "policies";

    public static Command Create()
    {
        var command = new Command("policy", "Check policy files or show the effective allowlists.");
        command.Subcommands.Add(CreateCheck());
        command.Subcommands.Add(CreateShow());
        return command;
    }

    private static Argument<string> DirectoryArgument() => new("dir")
    {
        Description = "The policy directory (every *.yaml below it is read).",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => DefaultDirectory,
    };

    private static Command CreateCheck()
    {
        var dir = DirectoryArgument();
        var check = new Command("check", "Validate a policy directory; exit 1 when it has errors.") { dir };
        check.SetAction(parseResult => Check(parseResult.GetValue(dir) ?? DefaultDirectory, parseResult.InvocationConfiguration.Output));
        return check;
    }

    private static Command CreateShow()
    {
        var dir = DirectoryArgument();
        var camera = new Option<string?>("--camera") { Description = "Show only this camera." };
        var live = new Option<bool>("--live") { Description = "Ask the running appliance what each name rule admits now (the names its cameras learned); without it name rules read 'none learned'." };
        var show = new Command("show", "Print each camera's effective allowlist, read back from the compiled tables.") { dir, camera, live };
        var admin = new AdminCommandOptions();
        admin.AddTo(show);
        show.SetAction(async (parseResult, cancellationToken) =>
        {
            var directory = parseResult.GetValue(dir) ?? DefaultDirectory;
            var only = parseResult.GetValue(camera);
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if (!parseResult.GetValue(live))
            {
                return Show(directory, only, output, error);
            }

            return await admin.RunAsync(parseResult, async (client, _) =>
            {
                var names = await client.LearnedNamesAsync(only, cancellationToken).ConfigureAwait(false);
                if (names.Body is not { } body)
                {
                    await error.WriteLineAsync($"camfw: the appliance did not list its learned names: {names.Error ?? names.Status.ToString()}").ConfigureAwait(false);
                    return AdminCommandOptions.UnreachableExitCode;
                }

                return Show(directory, only, output, error, Learned(body));
            }).ConfigureAwait(false);
        });
        return show;
    }

    /// <summary>
    /// The API's learned names that a name rule may admit through, per camera, as <c>policy show</c> prints them (with
    /// the time their admission has left). Names taught by answers to queries no rule admitted only name peers in reports.
    /// </summary>
    internal static Dictionary<string, IReadOnlyList<LearnedNameLine>> Learned(LearnedNamesDto dto)
        => dto.Names.Where(n => n.AdmitsSeconds is not null).GroupBy(n => n.Camera, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<LearnedNameLine>)[.. g.Select(n => new LearnedNameLine(n.Name, n.Address, n.AdmitsSeconds!.Value))], StringComparer.Ordinal);

    internal static int Check(string directory, TextWriter output)
    {
        var result = PolicyLoader.LoadDirectory(directory);
        WriteDiagnostics(result, output);
        if (result.Spec is { } spec)
        {
            // Compiling proves the tables can be built (slot capacity, table sizes), not only that the text is valid.
            try
            {
                _ = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry());
            }
            catch (PolicyCompileException ex)
            {
                output.WriteLine($"{directory}: error: the policy does not compile: {ex.Message}");
                return 1;
            }
        }

        output.WriteLine(PolicyFormatter.FormatSummary(result));
        if (!result.HasErrors)
        {
            // The same hash `camfw status` and the API show once this directory is in force.
            output.WriteLine($"policy sha256 {result.Spec!.Sha256}");
        }

        return result.HasErrors ? 1 : 0;
    }

    internal static int Show(string directory, string? camera, TextWriter output, TextWriter error, IReadOnlyDictionary<string, IReadOnlyList<LearnedNameLine>>? learned = null)
    {
        var result = PolicyLoader.LoadDirectory(directory);
        if (result.Spec is not { } spec)
        {
            WriteDiagnostics(result, output);
            output.WriteLine(PolicyFormatter.FormatSummary(result));
            return 1;
        }

        CompiledPolicy compiled;
        try
        {
            compiled = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry());
        }
        catch (PolicyCompileException ex)
        {
            output.WriteLine($"{directory}: error: the policy does not compile: {ex.Message}");
            return 1;
        }

        if (!PolicyFormatter.WriteShow(output, compiled, camera, learned))
        {
            // On stderr, so `camfw policy show --camera x > file` does not leave an error in the file.
            error.WriteLine($"error: no camera named '{camera}' in {directory}");
            return 1;
        }

        return 0;
    }

    private static void WriteDiagnostics(PolicyLoadResult result, TextWriter output)
    {
        foreach (var diagnostic in result.Diagnostics)
        {
            output.WriteLine(diagnostic.ToString());
        }
    }
}
