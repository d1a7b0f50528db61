using Appliance.Host.Hosting;
using Appliance.Host.Tests.Hosting;
using Appliance.Management.Policies;
using Appliance.TestSupport.Host;
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

        var code = await Code("apply", _root.Combine("new"), "--url", "http://127.0.0.1:1", "--token", "0123456789abcdef");
        Assert.Equal(3, code);
    }

    [Fact]
    public async Task Run_MissingConfigFile_Exits2()
        => Assert.Equal(ExitCodes.ConfigInvalid, await Code("run", "--config", _root.Combine("nope.json")));

    [Fact]
    public async Task ApplyHistoryRollback_AgainstRunningAppliance_ChangeVersions()
    {
        foreach (var (name, text) in TestPolicies.Files(count: 2))
        {
            _root.Write(Path.Combine("new", name), text);
        }

        var token = _root.Combine("token");
        using var host = await TestApplianceHost.StartAsync(_root, new FakeDataPlaneFactory());
        try
        {
            var url = host.Services.GetRequiredService<ManagementService>().Addresses[0].ToString();
            var policies = host.Services.GetRequiredService<PolicyService>();
            string[] auth = ["--url", url, "--token-file", token];

            Assert.Equal(0, await Code(["apply", _root.Combine("new"), .. auth]));
            Assert.Equal(2u, policies.Current!.Version);
            Assert.Equal(2, policies.Current.Spec.Cameras.Count);
            Assert.Equal(0, await Code(["history", .. auth]));
            Assert.Equal(0, await Code(["rollback", "1", .. auth]));
            Assert.Single(policies.Current!.Spec.Cameras);
            Assert.Equal(1, await Code(["confirm", .. auth])); // nothing pending
            Assert.Equal(0, await Code(["status", .. auth]));
            Assert.Equal(3, await Code(["status", "--url", url, "--token", "wrong-token-wrong-token"]));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    public void Dispose() => _root.Dispose();

    private static async Task<int> Code(params string[] args) => (await CliRunner.RunAsync(args)).Code;
}
