namespace Appliance.TestSupport;

/// <summary>
/// A fact that needs root and network namespaces (veth pairs, libpcap on live interfaces). Elsewhere it is
/// skipped with the reason; CI runs as root, so there it runs.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CAMFW_SKIP_ROOT_TESTS") == "1")
        {
            Skip = "CAMFW_SKIP_ROOT_TESTS=1";
        }
        else if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux network namespaces";
        }
        else if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root to create network namespaces and veth pairs";
        }
        else if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/bin/ip"))
        {
            Skip = "needs iproute2 (ip)";
        }
    }
}
