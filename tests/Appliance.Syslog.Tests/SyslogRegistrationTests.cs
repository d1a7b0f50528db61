using Appliance.Syslog.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog.Tests;

public sealed class SyslogRegistrationTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSyslog(builder.Configuration.GetSection("Syslog"));
        builder.Services.AddSingleton(new Core.Policy.PolicyHolder());
        builder.Services.AddSecurityEvents(builder.Configuration.GetSection("Events"));
        return builder.Build();
    }

    // The logger providers are created while the host is built, so invalid sink settings fail there, before start.
    private static async Task BuildAndStartAsync(Dictionary<string, string?> settings)
    {
        using var host = Build(settings);
        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_InvalidSettings_FailsListingEveryProblem()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => BuildAndStartAsync(new()
        {
            ["Syslog:Host"] = "siem.example.net",
            ["Syslog:Port"] = "70000",
            ["Syslog:MaxMessageBytes"] = "100",
            ["Syslog:AppName"] = "cam fw",
            ["Syslog:Transport"] = "Tls",
            ["Syslog:Tls:CaFile"] = "/nonexistent/ca.pem",
        }));

        Assert.Contains(ex.Failures, f => f.Contains("Syslog:Port 70000", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Syslog:MaxMessageBytes 100", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Syslog:AppName", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("/nonexistent/ca.pem", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_InvalidEventSettings_Fails()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => BuildAndStartAsync(new() { ["Events:MaxTrackedFlows"] = "1" }));

        Assert.Contains(ex.Failures, f => f.Contains("Events:MaxTrackedFlows", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Log_NoCollectorConfigured_SinkIdleNothingQueued()
    {
        using var host = Build(new() { ["Events:RecentCapacity"] = "10" });
        await host.StartAsync();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("x");

        Support.TestLog.Sequence(logger, 1);
        host.Services.GetRequiredService<SecurityEventLog>().PolicyRejected(1, "bad", "test");

        var queue = host.Services.GetRequiredService<SyslogQueue>();
        Assert.False(queue.Enabled);
        Assert.Equal(0, queue.Stats.Queued + queue.Stats.Dropped);
        Assert.Single(host.Services.GetRequiredService<SecurityEventLog>().Recent()); // the API still sees events
        await host.StopAsync();
    }

    [Fact]
    public void AddSyslog_CalledTwice_OneSenderOneProvider()
    {
        var services = new ServiceCollection();
        var config = new ConfigurationBuilder().Build();
        services.AddSyslog(config);
        services.AddSyslog(config);

        Assert.Single(services, d => d.ImplementationType == typeof(SyslogSender));
        Assert.Single(services, d => d.ImplementationType == typeof(SyslogLoggerProvider));
    }
}
