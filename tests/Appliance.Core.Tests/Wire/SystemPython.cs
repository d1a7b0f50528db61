using System.Diagnostics;

namespace Appliance.Core.Tests.Wire;

/// <summary>Runs the system python3 (with python3-scapy, see scripts/install-deps.sh) on a script; returns its stdout.</summary>
internal static class SystemPython
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
}
