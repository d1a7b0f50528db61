using System.CommandLine;
using Appliance.Host.Cli;

namespace Appliance.Host.Tests.Cli;

/// <summary>What one <c>camfw</c> invocation returned and printed.</summary>
internal sealed record CliResult(int Code, string Output, string Error);

/// <summary>Runs a <c>camfw</c> command line through the same root command and verb catalogue as the program.</summary>
internal static class CliRunner
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
