namespace Appliance.Lab;

/// <summary>Where the lab finds its inputs (repository) and keeps its state (work directory).</summary>
internal sealed record LabPaths(string Repository, string Work)
{
    public string Policies => Path.Combine(Work, "policies");

    public string State => Path.Combine(Work, "state");

    public string Logs => Path.Combine(Work, "logs");

    public string Config => Path.Combine(Work, "camfw.json");

    public string TokenFile => Path.Combine(Work, "api-token");

    /// <summary>The appliance's local management socket (HTTP over a Unix socket, no token).</summary>
    public string ApiSocket => Path.Combine(Work, "api.sock");

    public string SyslogFile => Path.Combine(Work, "syslog.log");

    public string Summary => Path.Combine(Work, "summary.json");

    public string TrafficScript => Path.Combine(Repository, "lab", "traffic.py");

    /// <summary>
    /// The repository holding <c>lab/traffic.py</c>, <c>policies/</c> and <c>scripts/</c>: the checkout this tool was
    /// built from (recorded at build time), else the first one found upwards from the current directory or from
    /// this program's own directory.
    /// </summary>
    public static string? FindRepository()
    {
        var built = typeof(LabPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        if (built is not null && IsRepository(built))
        {
            return Path.GetFullPath(built);
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (IsRepository(dir.FullName))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    private static bool IsRepository(string directory)
        => File.Exists(Path.Combine(directory, "lab", "traffic.py")) && Directory.Exists(Path.Combine(directory, "policies"));

    /// <summary>
    /// The appliance to run inline: <c>camfw</c> next to this program (the lab's project references the host, so
    /// the build puts it there), as its apphost or, without one, as <c>dotnet camfw.dll</c>.
    /// </summary>
    public static (string File, string[] Prefix)? FindAppliance()
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "camfw");
        if (File.Exists(apphost))
        {
            return (apphost, []);
        }

        var dll = Path.Combine(AppContext.BaseDirectory, "camfw.dll");
        return File.Exists(dll) && Environment.ProcessPath is { } dotnet && Path.GetFileNameWithoutExtension(dotnet) == "dotnet"
            ? (dotnet, [dll])
            : null;
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
