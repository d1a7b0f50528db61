namespace Appliance.Package.Tests;

/// <summary>
/// Built once for the test class: two packages of the same program (revisions 1 and 2, to upgrade from one to the
/// other) made by <c>image/build-deb.sh</c>, and the cached Debian root (<c>scripts/debian-root.sh</c>). Built lazily,
/// so a run without root (where every test skips) builds nothing.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    private readonly Lazy<(string Packages, string First, string Second, string Root)> _built;
    private readonly string _packages = Path.Combine(Repo, ".build", "package-tests", Guid.NewGuid().ToString("N")[..8]);

    public PackageFixture() => _built = new(() => Build(_packages), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The repository (where Appliance.sln is).</summary>
    public static string Repo
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Appliance.sln")) && File.Exists(Path.Combine(dir.FullName, "image", "build-deb.sh")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException("the repository (Appliance.sln, image/build-deb.sh) not found above " + AppContext.BaseDirectory);
        }
    }

    // Packed with gzip -1 rather than xz: the same files and scripts, a minute less per build.

    /// <summary>The directory holding both .deb files (bound read-only into containers at /mnt/packages).</summary>
    public string Packages => _built.Value.Packages;

    /// <summary>File name of the first build (revision 1).</summary>
    public string First => _built.Value.First;

    /// <summary>File name of the rebuild (revision 2), for the upgrade.</summary>
    public string Second => _built.Value.Second;

    /// <summary>The cached Debian bookworm root file system.</summary>
    public string Root => _built.Value.Root;

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_packages))
            {
                Directory.Delete(_packages, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    private static (string, string, string, string) Build(string packages)
    {
        var repo = Repo;
        Directory.CreateDirectory(packages);
        var root = Shell.Check(TimeSpan.FromMinutes(15), Path.Combine(repo, "scripts", "debian-root.sh")).Trim();
        var build = Path.Combine(repo, "image", "build-deb.sh");
        // CAMFW_PACKAGE_TESTS_REUSE_PUBLISH=1 (test.sh sets it after publishing, so that the minutes a publish takes
        // are not spent inside dotnet test's hang limit): package the last publish again.
        string[] reuse = Environment.GetEnvironmentVariable("CAMFW_PACKAGE_TESTS_REUSE_PUBLISH") == "1" ? ["--reuse-publish"] : [];
        // CAMFW_PACKAGE_TESTS_FLAVOR=r2r|jit: the same tests against another publish flavour than the package's default.
        string[] flavor = Environment.GetEnvironmentVariable("CAMFW_PACKAGE_TESTS_FLAVOR") is { Length: > 0 } f ? ["--flavor", f] : [];
        var first = Shell.Check(TimeSpan.FromMinutes(20), build, ["--revision", "1", "--out", packages, "--compression", "gzip", .. flavor, .. reuse]).Trim();
        var second = Shell.Check(TimeSpan.FromMinutes(20), build, ["--revision", "2", "--out", packages, "--compression", "gzip", .. flavor, "--reuse-publish"]).Trim();
        return (packages, Path.GetFileName(first), Path.GetFileName(second), root);
    }
}
