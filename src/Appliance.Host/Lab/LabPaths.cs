namespace Appliance.Host.Lab;

/// <summary>Where the lab finds its inputs (repository) and keeps its state (work directory).</summary>
internal sealed record LabPaths(string Repository, string Work)
{
    public string Policies => Path.Combine(Work, "policies");

    public string State => Path.Combine(Work, "state");

    public string Logs => Path.Combine(Work, "logs");

    public string Config => Path.Combine(Work, "camfw.json");

    public string TokenFile => Path.Combine(Work, "api-token");

    public string SyslogFile => Path.Combine(Work, "syslog.log");

    public string Summary => Path.Combine(Work, "summary.json");

    public string TrafficScript => Path.Combine(Repository, "lab", "traffic.py");

    /// <summary>
    /// The repository holding <c>lab/traffic.py</c> and <c>policies/</c>: searched upwards from the current
    /// directory, then from the executable (<c>.build/camfw/</c> or a test's <c>bin/</c>).
    /// </summary>
    public static string? FindRepository()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "lab", "traffic.py")) && Directory.Exists(Path.Combine(dir.FullName, "policies")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>Copies a policy directory (every file below it), replacing whatever the target held.</summary>
    public static void CopyPolicies(string from, string to)
    {
        if (Directory.Exists(to))
        {
            Directory.Delete(to, recursive: true);
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
