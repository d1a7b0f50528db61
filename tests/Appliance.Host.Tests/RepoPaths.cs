namespace Appliance.Host.Tests;

/// <summary>Paths in the repository, found from the test binary.</summary>
internal static class RepoPaths
{
    /// <summary>The repository's own <c>policies/</c> directory (the example site the lab runs).</summary>
    public static string ExamplePolicies
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "global.json")) && Directory.Exists(Path.Combine(dir.FullName, "policies")))
                {
                    return Path.Combine(dir.FullName, "policies");
                }
            }

            throw new DirectoryNotFoundException("policies/ not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The repository's root (where <c>global.json</c> is).</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "global.json")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException("global.json not found above " + AppContext.BaseDirectory);
        }
    }
}
