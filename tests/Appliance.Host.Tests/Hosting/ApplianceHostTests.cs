using Appliance.Host.Cli;
using Appliance.Host.Hosting;
using Appliance.Management.Api;
using Appliance.Management.Client;
using Appliance.TestSupport.Host;
using Appliance.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Appliance.Host.Tests.Hosting;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ApplianceHostTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-host");
    private readonly FakeDataPlaneFactory _planes = new();

    public ApplianceHostTests()
    {
        foreach (var (name, text) in TestPolicies.Files())
        {
            _root.Write(Path.Combine("policies", name), text);
        }
    }

    private string TokenFile => _root.Combine("etc", "api-token");

    [Fact]
    public async Task Run_DataPlaneDies_ExitsNonZeroAfterReadyAndStopping()
    {
        using var notify = new NotifySocket(_root.Combine("notify.sock"));
        using var host = Build(notify, watchdog: TimeSpan.FromMilliseconds(50));
        using var error = new StringWriter();
        var run = ApplianceHost.RunAsync(host, error);

        var ready = await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(20));
        Assert.Contains("STATUS=policy v1 (1 cameras), 1 pair(s)", ready, StringComparison.Ordinal);
        await notify.WaitForAsync("WATCHDOG=1", TimeSpan.FromSeconds(5));
        var plane = Assert.Single(_planes.Planes);
        Assert.True(plane.Started);

        // The token file was generated 0600 on first start, and the API answers with it.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(TokenFile));
        var url = host.Services.GetRequiredService<ManagementService>().Addresses[0];
        using (var client = new ManagementClient(new ManagementClientOptions { BaseAddress = url, Token = File.ReadAllText(TokenFile).Trim(), TokenSource = TokenFile }))
        {
            var health = await client.HealthAsync(CancellationToken.None);
            Assert.Equal("healthy", health.Body!.Status);
            var cameras = await client.CamerasAsync(CancellationToken.None);
            Assert.Equal(TestPolicies.CameraName, Assert.Single(cameras.Body!.Cameras).Name);
        }

        // Fail closed: the plane dies, the process stops with a non-zero code (systemd restarts it).
        plane.Die(new InvalidOperationException("engine fault"));
        var code = await run.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(ExitCodes.DataPlaneFailed, code);
        await notify.WaitForAsync("STOPPING=1", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Run_DataPlaneStalls_ExitsNonZero()
    {
        using var notify = new NotifySocket(_root.Combine("notify.sock"));
        using var host = Build(notify);
        var run = ApplianceHost.RunAsync(host, TextWriter.Null);
        await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(20));
        Assert.Single(_planes.Planes).Stalled = true;
        Assert.Equal(ExitCodes.DataPlaneFailed, await run.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Run_PortDown_ReportedUnhealthyButNotRestarted()
    {
        using var notify = new NotifySocket(_root.Combine("notify.sock"));
        using var host = Build(notify);
        var run = ApplianceHost.RunAsync(host, TextWriter.Null);
        await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(20));
        var plane = Assert.Single(_planes.Planes);
        plane.PortDown = true;

        var url = host.Services.GetRequiredService<ManagementService>().Addresses[0];
        using (var client = new ManagementClient(new ManagementClientOptions { BaseAddress = url, Token = File.ReadAllText(TokenFile).Trim(), TokenSource = TokenFile }))
        {
            var health = await client.HealthAsync(CancellationToken.None);
            Assert.Equal("unhealthy", health.Body!.Status);
            Assert.Equal("port cam0 has no carrier", Assert.Single(health.Body.DataPlanes).Error);
        }

        // A restart cannot bring a cable back: the supervisor (checking every second) leaves the process running.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(run.IsCompleted, "a plane waiting for its port must not stop the appliance");

        // Positive control: the same supervisor stops it once the loop stops turning.
        plane.Stalled = true;
        Assert.Equal(ExitCodes.DataPlaneFailed, await run.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Run_StopRequested_StopsDataPlanesAndExitsZero()
    {
        using var notify = new NotifySocket(_root.Combine("notify.sock"));
        using var host = Build(notify);
        var run = ApplianceHost.RunAsync(host, TextWriter.Null);
        await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(20));
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        Assert.Equal(ExitCodes.Ok, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(Assert.Single(_planes.Planes).Stopped);
        await notify.WaitForAsync("STOPPING=1", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Run_InvalidFirstPolicy_Exits3WithEveryDiagnostic()
    {
        _root.Write(Path.Combine("policies", "cameras.yaml"), TestPolicies.InvalidCameras);
        using var host = Build(null);
        using var error = new StringWriter();
        var code = await ApplianceHost.RunAsync(host, error).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(ExitCodes.PolicyInvalid, code);
        Assert.Contains("cameras.yaml:10:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("nvrs", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(_planes.Planes); // nothing forwards without a policy
    }

    [Fact]
    public async Task Run_InvalidConfiguration_Exits2NamingEachKey()
    {
        using var host = Build(null, new Dictionary<string, string?>
        {
            ["Bridge:Pairs:0:UplinkInterface"] = null,
            ["Bridge:Pairs:0:CameraInterface"] = "a-very-long-interface-name",
            ["Management:Url"] = "http://0.0.0.0:8080",
            ["Engine:FlowCapacity"] = "10",
            ["Engine:PeerFlowSharePercent"] = "0", // bound straight onto EngineOptions: every engine key is configurable
            ["Bridge:BatchSize"] = "0", // the libpcap backend's own key, checked by its validator
            ["Bridge:DataPlaneCpus"] = "3-1",
        });
        using var error = new StringWriter();
        var code = await ApplianceHost.RunAsync(host, error).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(ExitCodes.ConfigInvalid, code);
        var text = error.ToString();
        Assert.Contains("Bridge:Pairs:0:UplinkInterface is not set", text, StringComparison.Ordinal);
        Assert.Contains("Bridge:Pairs:0:CameraInterface 'a-very-long-interface-name' is not a Linux interface name", text, StringComparison.Ordinal);
        Assert.Contains("Management:Url 'http://0.0.0.0:8080' listens on every address", text, StringComparison.Ordinal);
        Assert.Contains("Engine:FlowCapacity 10", text, StringComparison.Ordinal);
        Assert.Contains("Engine:PeerFlowSharePercent 0 must be between 1 and 100", text, StringComparison.Ordinal);
        Assert.Contains("Bridge:BatchSize 0 must be between 1 and 4096", text, StringComparison.Ordinal);
        Assert.Contains("Bridge:DataPlaneCpus '3-1' has the range '3-1', which runs backwards", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://192.0.2.1:8080", "is not loopback: use https")] // clear text off the box
    [InlineData("https://127.0.0.1:8443", "CertificatePath is not set")] // https without a certificate
    [InlineData("http://camfw.example:8080", "must be an IP address")] // a name: which interface?
    [InlineData("ftp://127.0.0.1:21", "must look like")] // not http
    public void ManagementUrl_Unsafe_Rejected(string url, string message)
    {
        var result = new ManagementOptionsValidator().Validate(null, new ManagementOptions { Url = url });
        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_NothingListening_SaysNotRunning()
    {
        using var client = new ManagementClient(new ManagementClientOptions { BaseAddress = new Uri("http://127.0.0.1:1"), Token = "x", TokenSource = "--token" });
        var e = await Assert.ThrowsAsync<ManagementClientException>(() => client.HealthAsync(CancellationToken.None));
        Assert.Contains("not running", e.Message, StringComparison.Ordinal);
        Assert.Equal(ManagementClientFailure.Unreachable, e.Failure);
    }

    [Fact]
    public void ClientSettings_ReadsUrlAndTokenFileFromConfig()
    {
        var token = _root.Write("tok", "abcdefabcdefabcdef0123\n");
        var config = _root.Write("camfw.json", $"{{ \"Management\": {{ \"Url\": \"http://127.0.0.1:9999\", \"TokenFile\": \"{token}\" }} }}");
        var noSocket = _root.Combine("no-such.sock");
        Assert.True(ClientSettings.TryResolve(new ClientArguments { ConfigFile = config, DefaultUnixSocket = noSocket }, out var settings, out var error), error);
        Assert.Equal(new Uri("http://127.0.0.1:9999"), settings!.BaseAddress);
        Assert.Null(settings.UnixSocket);
        Assert.Equal("abcdefabcdefabcdef0123", settings.Token);

        Assert.True(ClientSettings.TryResolve(new ClientArguments { Url = "http://127.0.0.1:1234", Token = "flag-token", ConfigFile = config, DefaultUnixSocket = noSocket }, out var flags, out _));
        Assert.Equal((new Uri("http://127.0.0.1:1234"), "flag-token"), (flags!.BaseAddress, flags.Token));
    }

    [Fact]
    public void ClientSettings_SocketExistsAndNoUrl_UsesSocketWithoutToken()
    {
        var socket = _root.Write("api.sock", "");
        var config = _root.Write("camfw.json", $"{{ \"Management\": {{ \"Url\": \"http://127.0.0.1:9999\", \"TokenFile\": \"{_root.Combine("unreadable-is-fine")}\" }} }}");

        Assert.True(ClientSettings.TryResolve(new ClientArguments { ConfigFile = config, DefaultUnixSocket = socket }, out var settings, out var error), error);

        Assert.Equal(socket, settings!.UnixSocket);
        Assert.Null(settings.Token);
        Assert.Equal("unix:" + socket, settings.Endpoint);
    }

    [Fact]
    public void ClientSettings_ConfigNamesSocket_UsesItUnlessUrlGiven()
    {
        var socket = _root.Write("other.sock", "");
        var config = _root.Write("camfw.json", $"{{ \"Management\": {{ \"UnixSocket\": \"{socket}\" }} }}");

        Assert.True(ClientSettings.TryResolve(new ClientArguments { ConfigFile = config, DefaultUnixSocket = _root.Combine("default.sock") }, out var fromConfig, out _));
        Assert.Equal(socket, fromConfig!.UnixSocket);

        Assert.True(ClientSettings.TryResolve(new ClientArguments { ConfigFile = config, Url = "http://127.0.0.1:1234", Token = "t" }, out var explicitUrl, out _));
        Assert.Null(explicitUrl!.UnixSocket);
        Assert.Equal(new Uri("http://127.0.0.1:1234"), explicitUrl.BaseAddress);
    }

    public void Dispose() => _root.Dispose();

    private IHost Build(NotifySocket? notify, Dictionary<string, string?>? extra = null, TimeSpan? watchdog = null)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Policy:Directory"] = _root.Combine("policies"),
            ["Policy:StateDirectory"] = _root.Combine("state"),
            ["Bridge:Pairs:0:CameraInterface"] = "cam0",
            ["Bridge:Pairs:0:UplinkInterface"] = "up0",
            ["Management:Url"] = "http://127.0.0.1:0",
            ["Management:TokenFile"] = TokenFile,
            ["Management:UnixSocket"] = _root.Combine("run/api.sock"),
        };
        foreach (var (k, v) in extra ?? [])
        {
            overrides[k] = v;
        }

        return ApplianceHost.Build(null, overrides, services =>
        {
            services.AddSingleton<IDataPlaneFactory>(_planes);
            services.AddSingleton(new SystemdNotifier(notify?.Name));
            services.AddSingleton(new WatchdogSettings(watchdog));
        });
    }
}
