using System.Diagnostics;

namespace Appliance.Package.Tests;

/// <summary>Runs a program on the host with a time limit and returns what it said; nothing goes through a shell.</summary>
internal static class Shell
{
    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, string file, IEnumerable<string> args, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult() + $"\n(timed out after {timeout.TotalSeconds} s)");
        }

        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    public static string Check(TimeSpan timeout, string file, params string[] args)
    {
        var (code, stdout, stderr) = Run(timeout, file, args);
        return code == 0 ? stdout : throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' failed ({code}): {stderr.Trim()} {stdout.Trim()}");
    }
}
