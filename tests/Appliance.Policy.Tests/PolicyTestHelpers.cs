namespace Appliance.Policy.Tests;

internal static class PolicyTestHelpers
{
    /// <summary>The repository's own <c>policies/</c> directory (the example site), found from the test binary.</summary>
    public static string ExamplePolicyDirectory
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

    public static PolicyLoadResult LoadOne(string yaml, string name = "test.yaml") => PolicyLoader.Load([new PolicySource(name, yaml)]);

    public static string[] Lines(PolicyLoadResult result) => result.Diagnostics.Select(d => d.ToString()).ToArray();

    /// <summary>Minimal valid pieces that documents under test build on.</summary>
    public const string Networks = """
        networks:
          nvr: 198.51.100.10
          admins: 203.0.113.0/28

        """;
}
