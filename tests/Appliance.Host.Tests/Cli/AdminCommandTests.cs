using System.CommandLine;
using Appliance.Host.Cli;
using Appliance.Host.Hosting;
using Appliance.Host.Tests.Hosting;
using Appliance.Management.Policies;
using Appliance.TestSupport.Host;
using Appliance.Transport;
using Microsoft.Extensions.DependencyInjection;

namespace Appliance.Host.Tests.Cli;

public sealed class AdminCommandTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-cli");

    [Fact]
    public async Task Apply_NothingListening_ExitsUnreachable()
    {
        foreach (var (name, text) in TestPolicies.Files())
        {
            _root.Write(Path.Combine("new", name), text);
        }

        var code = await Invoke("apply", _root.Combine("new"), "--url", "http://127.0.0.1:1", "--token", "0123456789abcdef");
        Assert.Equal(3, code);
    }

    [Fact]
    public async Task Run_MissingConfigFile_Exits2()
        => Assert.Equal(ExitCodes.ConfigInvalid, await Invoke("run", "--config", _root.Combine("nope.json")));

    [Fact]
    public async Task ApplyHistoryRollback_AgainstRunningAppliance_ChangeVersions()
    {
        foreach (var (name, text) in TestPolicies.Files())
        {
            _root.Write(Path.Combine("policies", name), text);
        }

        foreach (var (name, text) in TestPolicies.Files(count: 2))
        {
            _root.Write(Path.Combine("new", name), text);
        }

        var planes = new FakeDataPlaneFactory();
        var token = _root.Combine("token");
        using var host = ApplianceHost.Build(null, new Dictionary<string, string?>
        {
            ["Policy:Directory"] = _root.Combine("policies"),
            ["Policy:StateDirectory"] = _root.Combine("state"),
            ["Bridge:Pairs:0:CameraInterface"] = "cam0",
            ["Bridge:Pairs:0:UplinkInterface"] = "up0",
            ["Management:Url"] = "http://127.0.0.1:0",
            ["Management:TokenFile"] = token,
            ["Management:UnixSocket"] = "",
        }, services =>
        {
            services.AddSingleton<IDataPlaneFactory>(planes);
            services.AddSingleton(new SystemdNotifier(null));
            services.AddSingleton(new WatchdogSettings(null));
        });
        await host.StartAsync();
        try
        {
            var url = host.Services.GetRequiredService<ManagementService>().Addresses[0].ToString();
            var policies = host.Services.GetRequiredService<PolicyService>();
            string[] auth = ["--url", url, "--token-file", token];

            Assert.Equal(0, await Invoke(["apply", _root.Combine("new"), .. auth]));
            Assert.Equal(2u, policies.Current!.Version);
            Assert.Equal(2, policies.Current.Spec.Cameras.Count);
            Assert.Equal(0, await Invoke(["history", .. auth]));
            Assert.Equal(0, await Invoke(["rollback", "1", .. auth]));
            Assert.Single(policies.Current!.Spec.Cameras);
            Assert.Equal(1, await Invoke(["confirm", .. auth])); // nothing pending
            Assert.Equal(0, await Invoke(["status", .. auth]));
            Assert.Equal(3, await Invoke(["status", "--url", url, "--token", "wrong-token-wrong-token"]));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    public void Dispose() => _root.Dispose();

    private static Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }

        return root.Parse(args).InvokeAsync();
    }
}
