using System.Diagnostics;

namespace Appliance.Lab;

/// <summary>A failure the lab explains to the admin in one message (a command that failed, a missing tool).</summary>
internal sealed class LabException(string message) : Exception(message);

/// <summary>The outcome of one external command.</summary>
internal readonly record struct ShellResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the short-lived tools the lab is built with (ip, ethtool, sysctl). Arguments go through an argument list,
/// never a shell, so nothing in a path or name is ever interpreted.
/// </summary>
internal static class Shell
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Runs the command and throws a <see cref="LabException"/> naming it when it fails.</summary>
    public static string Run(string file, params string[] arguments)
    {
        var result = TryRun(file, arguments);
        if (!result.Succeeded)
        {
            var detail = (result.StandardError.Length > 0 ? result.StandardError : result.StandardOutput).Trim();
            throw new LabException($"'{Describe(file, arguments)}' failed (exit {result.ExitCode}): {detail}");
        }

        return result.StandardOutput;
    }

    /// <summary>Runs the command; the caller decides what a failure means.</summary>
    public static ShellResult TryRun(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new LabException($"could not start '{file}'");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LabException($"could not run '{file}': {e.Message} (run scripts/install-deps.sh)");
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new LabException($"'{Describe(file, arguments)}' did not finish within {Timeout.TotalSeconds:0} s");
            }

            process.WaitForExit();
            return new ShellResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }

    /// <summary>The first executable named <paramref name="name"/> in the usual system directories, or null.</summary>
    public static string? Find(string name)
    {
        string[] directories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"];
        foreach (var directory in directories)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    public static string Describe(string file, IEnumerable<string> arguments)
        => string.Join(' ', arguments.Prepend(Path.GetFileName(file)));
}
