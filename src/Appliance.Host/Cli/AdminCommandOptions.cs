using System.CommandLine;
using Appliance.Management.Api;
using Appliance.Management.Client;
using Spectre.Console;

namespace Appliance.Host.Cli;

/// <summary>Options every admin verb shares (how to reach the appliance), and how they run.</summary>
internal sealed class AdminCommandOptions
{
    public Option<string?> Url { get; } = new("--url") { Description = $"Management API URL (default: the appliance's local socket, {ManagementClientOptions.DefaultUnixSocket} or the config file's Management:UnixSocket, when it exists; else the config file's Management:Url, else {ManagementOptions.DefaultUrl})" };

    public Option<string?> Token { get; } = new("--token") { Description = "Bearer token (default: CAMFW_TOKEN, else the config file's token file)" };

    public Option<string?> TokenFile { get; } = new("--token-file") { Description = "File holding the bearer token" };

    public Option<string?> Config { get; } = new("--config") { Description = "The appliance's JSON configuration (default /etc/camfw/camfw.json)" };

    public Option<string?> Ca { get; } = new("--ca") { Description = "PEM certificate of the appliance to trust (self-signed https)" };

    public Option<string?> ClientCert { get; } = new("--client-cert") { Description = "Client certificate (PEM with --client-key, or PKCS#12)" };

    public Option<string?> ClientKey { get; } = new("--client-key") { Description = "PEM private key of --client-cert" };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(TokenFile);
        command.Options.Add(Config);
        command.Options.Add(Ca);
        command.Options.Add(ClientCert);
        command.Options.Add(ClientKey);
    }

    /// <summary>Exit code for "could not talk to the appliance" (not running, token refused).</summary>
    public const int UnreachableExitCode = 3;

    /// <summary>Resolves the settings, runs <paramref name="action"/> with a client, and turns failures into one clear line and an exit code.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<ManagementClient, IAnsiConsole, Task<int>> action)
    {
        var console = AnsiConsole.Console;
        var arguments = new ClientArguments
        {
            Url = parse.GetValue(Url),
            Token = parse.GetValue(Token),
            TokenFile = parse.GetValue(TokenFile),
            ConfigFile = parse.GetValue(Config),
            TrustedCertificate = parse.GetValue(Ca),
            ClientCertificate = parse.GetValue(ClientCert),
            ClientKey = parse.GetValue(ClientKey),
        };
        if (!ClientSettings.TryResolve(arguments, out var settings, out var error))
        {
            await Console.Error.WriteLineAsync("camfw: " + error).ConfigureAwait(false);
            return 2;
        }

        try
        {
            using var client = new ManagementClient(settings!);
            return await action(client, console).ConfigureAwait(false);
        }
        catch (ManagementClientException e)
        {
            await Console.Error.WriteLineAsync("camfw: " + e.Message).ConfigureAwait(false);
            return UnreachableExitCode;
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException)
        {
            await Console.Error.WriteLineAsync("camfw: " + e.Message).ConfigureAwait(false);
            return 2;
        }
    }

    /// <summary>Prints diagnostics compiler-style, errors in red.</summary>
    public static void WriteDiagnostics(IAnsiConsole console, IReadOnlyList<DiagnosticDto> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            var color = d.Severity == "error" ? "red" : "yellow";
            console.MarkupLine($"{Markup.Escape($"{d.File}:{d.Line}:{d.Column}:")} [{color}]{d.Severity}[/]: {Markup.Escape(d.Message)}");
        }
    }

    /// <summary>Prints the outcome of apply, rollback, reload or confirm; returns the exit code.</summary>
    public static int WriteApplyResult(IAnsiConsole console, ApiResponse<ApplyDto> response)
    {
        if (response.Body is not { Outcome: not null } r)
        {
            console.MarkupLine($"[red]failed[/]: {Markup.Escape(response.Error ?? response.Status.ToString())}");
            return 1;
        }

        var color = r.Outcome switch
        {
            "applied" => "green",
            "unchanged" => "grey",
            _ => "red",
        };
        console.MarkupLine($"[{color}]{Markup.Escape(r.Outcome)}[/]{(r.Version is { } v ? $": version {v}" : "")}{(r.Sha256 is { } s ? $" (sha256 {Markup.Escape(s[..Math.Min(12, s.Length)])})" : "")}");
        if (r.Message is { } message)
        {
            console.MarkupLine(Markup.Escape(message));
        }

        if (r.Diff is { } diff)
        {
            WriteNames(console, "added", "green", diff.Added);
            WriteNames(console, "removed", "red", diff.Removed);
            WriteNames(console, "changed", "yellow", diff.Changed);
        }

        WriteDiagnostics(console, r.Diagnostics);
        if (r.ConfirmDeadline is { } deadline)
        {
            console.MarkupLine($"[yellow]Confirm with 'camfw confirm' before {deadline.ToLocalTime():HH:mm:ss}, or the previous policy comes back by itself.[/]");
        }

        return r.Outcome is "applied" or "unchanged" ? 0 : 1;
    }

    private static void WriteNames(IAnsiConsole console, string what, string color, IReadOnlyList<string> names)
    {
        if (names.Count > 0)
        {
            console.MarkupLine($"  [{color}]{what}[/]: {Markup.Escape(string.Join(", ", names))}");
        }
    }
}
