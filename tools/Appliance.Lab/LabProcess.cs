using System.Diagnostics;

namespace Appliance.Lab;

/// <summary>
/// A long-running child inside a lab namespace (the appliance, rsyslog, a traffic role), its output appended to a
/// log file under the lab's work directory. Started through <c>setsid</c>, so a Ctrl-C in the terminal reaches only
/// the lab, which then stops its children in order instead of all of them dying at once.
/// </summary>
internal sealed class LabProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private LabProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.HasExited ? _process.ExitCode : 0;

    /// <summary>Starts <paramref name="file"/> inside <paramref name="netns"/> (or in the lab's own namespace when null).</summary>
    public static LabProcess Start(string name, string? netns, string file, IEnumerable<string> arguments, string logPath, string? workingDirectory = null)
    {
        var setsid = Shell.Find("setsid") ?? throw new LabException("'setsid' not found (util-linux)");
        var info = new ProcessStartInfo(setsid)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(logPath)!,
        };
        if (netns is not null)
        {
            info.ArgumentList.Add(Shell.Find("ip") ?? throw new LabException("'ip' not found: install iproute2"));
            info.ArgumentList.Add("netns");
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(netns);
        }

        info.ArgumentList.Add(file);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Children never inherit the terminal's colour and width assumptions of the lab's own output.
        info.Environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "0";

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var owned = log;
        try
        {
            log.WriteLine($"---- {DateTimeOffset.Now:O} {Shell.Describe(info.FileName, info.ArgumentList)}");
            var process = Process.Start(info) ?? throw new LabException($"could not start {name}");
            process.StandardInput.Close();
            process.OutputDataReceived += (_, e) => Write(log, e.Data);
            process.ErrorDataReceived += (_, e) => Write(log, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var started = new LabProcess(name, process, log, logPath);
            owned = null;
            return started;
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The lab is shutting down; the last lines of a dying child are not worth a crash.
            }
        }
    }

    /// <summary>The last lines of the child's log, for an error message.</summary>
    public string Tail(int lines = 15)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines + 1)).TrimEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Asks the child to stop (SIGTERM); returns at once.</summary>
    public void RequestStop()
    {
        if (!_process.HasExited)
        {
            LabNative.Signal(_process.Id, LabNative.SigTerm);
        }
    }

    /// <summary>Waits up to <paramref name="grace"/> for the child to exit, then kills it.</summary>
    public void Stop(TimeSpan grace)
    {
        if (!_process.HasExited && !_process.WaitForExit(grace))
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(2));
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill.
            }
        }
    }

    public void Dispose()
    {
        Stop(TimeSpan.Zero);
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
