using Appliance.Host.Hosting;
using Appliance.Syslog;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Tests.Hosting;

/// <summary>The syslog spool's place in the appliance: the state directory, unless configured otherwise.</summary>
public sealed class SyslogSpoolWiringTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-spool-wiring");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Build_CollectorConfigured_SpoolInTheStateDirectory()
    {
        using var host = Build(new() { ["Syslog:Host"] = "127.0.0.1" });

        var options = host.Services.GetRequiredService<IOptions<SyslogOptions>>().Value;
        var queue = host.Services.GetRequiredService<SyslogQueue>();

        Assert.Equal(Path.Combine(_root.Combine("state"), "syslog-spool"), options.SpoolDirectory);
        Assert.Equal(options.SpoolDirectory, queue.SpoolDirectory);
        Assert.True(Directory.Exists(options.SpoolDirectory));
        Assert.Null(queue.Stats.SpoolError);
    }

    [Fact]
    public void Build_SpoolDirectoryConfigured_ThatOneWins()
    {
        var elsewhere = _root.Combine("elsewhere");
        using var host = Build(new() { ["Syslog:Host"] = "127.0.0.1", ["Syslog:SpoolDirectory"] = elsewhere });

        Assert.Equal(elsewhere, host.Services.GetRequiredService<SyslogQueue>().SpoolDirectory);
    }

    [Fact]
    public void Build_NoCollector_NoSpoolCreated()
    {
        using var host = Build(new());

        Assert.Null(host.Services.GetRequiredService<SyslogQueue>().SpoolDirectory);
        Assert.False(Directory.Exists(Path.Combine(_root.Combine("state"), "syslog-spool")));
    }

    private Microsoft.Extensions.Hosting.IHost Build(Dictionary<string, string?> more)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Policy:Directory"] = _root.Combine("policies"),
            ["Policy:StateDirectory"] = _root.Combine("state"),
            ["Bridge:Pairs:0:CameraInterface"] = "cam0",
            ["Bridge:Pairs:0:UplinkInterface"] = "up0",
        };
        foreach (var (k, v) in more)
        {
            overrides[k] = v;
        }

        return ApplianceHost.Build(null, overrides);
    }
}
