using System.Diagnostics;

namespace Appliance.TestSupport.Tools;

/// <summary>Runs the system python3 (with python3-scapy, see scripts/install-deps.sh) on a script; returns its stdout.</summary>
public static class SystemPython
{
    public static string Run(string script)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(script);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "python3 timed out");
        Assert.True(p.ExitCode == 0, $"python3 failed: {err}");
        return stdout.Result;
    }

    public static string Tool(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), $"{file} timed out");
        Assert.True(p.ExitCode == 0, $"{file} failed: {err}");
        return stdout.Result;
    }
}
