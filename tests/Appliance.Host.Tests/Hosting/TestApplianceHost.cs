using Appliance.Host.Hosting;
using Appliance.TestSupport.Host;
using Appliance.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Appliance.Host.Tests.Hosting;

/// <summary>
/// The real appliance host (policy service, engine, reporters, management server on loopback) over the test
/// policies in <c>ROOT/policies</c> (or the caller's <c>policyDirectory</c>), with only the bridge replaced by <see cref="FakeDataPlaneFactory"/>: no
/// watcher, no systemd, the API token in <c>ROOT/token</c>, no local socket. Started; the caller stops it.
/// </summary>
internal static class TestApplianceHost
{
    public static async Task<IHost> StartAsync(
        TempDirectory root, FakeDataPlaneFactory planes, IReadOnlyDictionary<string, string?>? settings = null, string? policyDirectory = null)
    {
        if (policyDirectory is null)
        {
            foreach (var (name, text) in TestPolicies.Files())
            {
                root.Write(Path.Combine("policies", name), text);
            }
        }

        var configuration = new Dictionary<string, string?>
        {
            ["Policy:Directory"] = policyDirectory ?? root.Combine("policies"),
            ["Policy:StateDirectory"] = root.Combine("state"),
            ["Policy:Watch"] = "false",
            ["Bridge:Pairs:0:CameraInterface"] = "cam0",
            ["Bridge:Pairs:0:UplinkInterface"] = "up0",
            ["Management:Url"] = "http://127.0.0.1:0",
            ["Management:TokenFile"] = root.Combine("token"),
            ["Management:UnixSocket"] = "",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var host = ApplianceHost.Build(null, configuration, services =>
        {
            services.AddSingleton<IDataPlaneFactory>(planes);
            services.AddSingleton(new SystemdNotifier(null));
            services.AddSingleton(new WatchdogSettings(null));
        });
        await host.StartAsync();
        return host;
    }
}
