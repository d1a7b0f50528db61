using Appliance.Host.Hosting;
using Appliance.TestSupport.Host;
using Appliance.Transport;
using Appliance.Transport.WinDivert;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Appliance.Host.Tests.Hosting;

/// <summary><c>Bridge:Backend windivert</c>: chosen, validated like the bridge, and a clear error at start on Linux.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WinDivertBackendTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-windivert");

    public WinDivertBackendTests()
    {
        foreach (var (name, text) in TestPolicies.Files())
        {
            _root.Write(Path.Combine("policies", name), text);
        }
    }

    [Fact]
    public void Build_BackendWinDivert_RegistersTheWinDivertFactory()
    {
        using var host = Build(new() { ["Bridge:Backend"] = "WinDivert" });

        Assert.IsType<WinDivertDataPlaneFactory>(host.Services.GetRequiredService<IDataPlaneFactory>());
    }

    [Fact]
    public void Build_NoBackend_RegistersTheLibPcapBridge()
    {
        using var host = Build(new() { ["Bridge:Backend"] = null });

        Assert.IsNotType<WinDivertDataPlaneFactory>(host.Services.GetRequiredService<IDataPlaneFactory>());
    }

    [Fact]
    public async Task Run_WinDivertOnLinux_FailsAtStartSayingWindowsOnly()
    {
        using var host = Build([]);
        using var error = new StringWriter();

        var code = await ApplianceHost.RunAsync(host, error).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.StartFailed, code);
        Assert.Contains("runs only on 64-bit Windows", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("libpcap", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WinDivertInvalidSettings_Exits2NamingEachKey()
    {
        using var host = Build(new()
        {
            ["Bridge:Pairs:0:CameraInterface"] = "Ethernet 2",
            ["Bridge:Pairs:1:CameraInterface"] = "14",
            ["Bridge:Pairs:1:UplinkInterface"] = "15",
            ["WinDivert:CameraNetworks:0"] = "10.20.0.1/24",
            ["WinDivert:QueueTimeMs"] = "5000",
            ["WinDivert:QueueLength"] = "8",
        });
        using var error = new StringWriter();

        var code = await ApplianceHost.RunAsync(host, error).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.ConfigInvalid, code);
        var text = error.ToString();
        Assert.Contains("Bridge:Pairs:0:CameraInterface 'Ethernet 2' is not a Windows interface index", text, StringComparison.Ordinal);
        Assert.Contains("Bridge:Pairs has 2 pairs", text, StringComparison.Ordinal);
        Assert.Contains("WinDivert:CameraNetworks:0 '10.20.0.1/24' is not a network", text, StringComparison.Ordinal);
        Assert.Contains("WinDivert:QueueTimeMs 5000", text, StringComparison.Ordinal);
        Assert.Contains("WinDivert:QueueLength 8", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownBackend_Exits2NamingTheChoices()
    {
        using var host = Build(new() { ["Bridge:Backend"] = "pf" });
        using var error = new StringWriter();

        var code = await ApplianceHost.RunAsync(host, error).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.ConfigInvalid, code);
        Assert.Contains("Bridge:Backend 'pf' must be libpcap (Linux) or windivert (Windows)", error.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _root.Dispose();

    private IHost Build(Dictionary<string, string?> extra)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Bridge:Backend"] = "windivert",
            ["Bridge:Pairs:0:CameraInterface"] = "12",
            ["Bridge:Pairs:0:UplinkInterface"] = "3",
            ["WinDivert:CameraNetworks:0"] = "10.20.0.0/24",
            ["Policy:Directory"] = _root.Combine("policies"),
            ["Policy:StateDirectory"] = _root.Combine("state"),
            ["Management:Url"] = "http://127.0.0.1:0",
            ["Management:TokenFile"] = _root.Combine("etc", "api-token"),
            ["Management:UnixSocket"] = _root.Combine("run/api.sock"),
        };
        foreach (var (k, v) in extra)
        {
            overrides[k] = v;
        }

        return ApplianceHost.Build(null, overrides, services => services.AddSingleton(new SystemdNotifier(null)));
    }
}
