using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.Traffic;
using Appliance.Syslog;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Hosting;

/// <summary>
/// Composes <c>camfw run</c> under the generic host. Configuration, later sources winning: the JSON config file,
/// <c>CAMFW_</c> environment variables (<c>CAMFW_Management__Url</c>), then command-line flags. Hosted services
/// start in this order and stop in reverse: syslog, policy (first load, watcher), data planes, drop-event reporter,
/// management API, systemd notification.
/// </summary>
internal static class ApplianceHost
{
    /// <summary>Default config file, used when <c>--config</c> is not given and it exists.</summary>
    public const string DefaultConfigFile = "/etc/camfw/camfw.json";

    public static IHost Build(string? configFile, IReadOnlyDictionary<string, string?> overrides, Action<IServiceCollection>? configureServices = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            Args = [],
            ApplicationName = "camfw",
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        if (configFile is not null)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }

        builder.Configuration.AddEnvironmentVariables("CAMFW_");
        builder.Configuration.AddInMemoryCollection(overrides);
        var config = builder.Configuration;

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);

        // Per-request lines would drown the appliance's own events (and the SIEM); the config's Logging section can
        // turn them back on.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddConfiguration(config.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = false;
        });
        builder.Logging.AddSyslog(config.GetSection("Syslog"));

        // The syslog spool lives in the state directory unless the Syslog section names another place.
        builder.Services.PostConfigure<SyslogOptions>(o => o.SpoolDirectory ??= Path.Combine(config["Policy:StateDirectory"] is { Length: > 0 } state ? state : new PolicyServiceOptions().StateDirectory, "syslog-spool"));

        var services = builder.Services;
        // Under the Windows service control manager (the WinDivert gateway's install path) answer it as a service;
        // anywhere else this does nothing.
        services.AddWindowsService(o => o.ServiceName = "camfw");
        services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(15);
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });

        services.AddOptions<PolicyServiceOptions>().Bind(config.GetSection("Policy")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PolicyServiceOptions>, PolicyServiceOptionsValidator>();
        services.AddOptions<BridgeSettings>().Bind(config.GetSection("Bridge")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BridgeSettings>, BridgeSettingsValidator>();
        services.AddOptions<EngineOptions>().Bind(config.GetSection("Engine")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>();
        services.AddOptions<ManagementOptions>().Bind(config.GetSection("Management")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ManagementOptions>, ManagementOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ExitCodeHolder>();
        services.AddSingleton(new PolicyHolder());
        services.TryAddSingleton<IPolicyCompiler>(PolicyCompiler.Instance);

        // Every policy change (startup, watcher, API, rollback, auto-revert) also becomes a security event.
        services.TryAddSingleton<IPolicyEventSink, SecurityEventPolicySink>();
        services.AddSingleton(sp => new PolicyService(
            sp.GetRequiredService<PolicyHolder>(),
            sp.GetRequiredService<IPolicyCompiler>(),
            sp.GetRequiredService<IOptions<PolicyServiceOptions>>().Value,
            sp.GetRequiredService<ILogger<PolicyService>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IPolicyEventSink>()));
        services.AddSingleton(sp => new PolicyDirectoryWatcher(sp.GetRequiredService<PolicyService>(), sp.GetRequiredService<ILogger<PolicyDirectoryWatcher>>()));
        services.AddSingleton(new DeniedDestinationTracker());
        services.AddSingleton<IEventFeed, SecurityEventFeed>();
        services.AddSingleton<ITrafficSource, TrafficSource>();

        // The one place the host chooses its data-plane backend; the backend wires itself.
        if (BridgeSettings.IsWinDivert(config["Bridge:Backend"]))
        {
            services.AddWinDivertGateway(o => config.GetSection("WinDivert").Bind(o));
        }
        else
        {
            // The libpcap bridge, with established flows forwarded in the kernel when Bridge:XdpOffload is auto or on.
            services.AddXdpBridge(o => config.GetSection("Bridge").Bind(o), o => config.GetSection("Bridge").Bind(o));
        }

        services.TryAddSingleton(_ => SystemdNotifier.FromEnvironment());
        services.TryAddSingleton(_ => WatchdogSettings.FromEnvironment());

        // Hosted services, in start order (the syslog sender was registered by AddSyslog above).
        services.AddHostedService<PolicyStartupService>();
        services.AddSingleton<DataPlaneService>();
        services.AddHostedService(sp => sp.GetRequiredService<DataPlaneService>());
        services.AddSingleton<LearnModeService>();
        services.AddHostedService(sp => sp.GetRequiredService<LearnModeService>());
        services.AddSingleton<DnsNameStateService>();
        services.AddHostedService(sp => sp.GetRequiredService<DnsNameStateService>());
        services.AddSecurityEvents(config.GetSection("Events"));
        services.AddSingleton<ManagementService>();
        services.AddHostedService(sp => sp.GetRequiredService<ManagementService>());
        services.AddSingleton<SystemdNotifyService>();
        services.AddHostedService(sp => sp.GetRequiredService<SystemdNotifyService>());

        configureServices?.Invoke(services);
        return builder.Build();
    }

    /// <summary>
    /// Runs until SIGTERM/Ctrl-C or a data-plane failure. Returns the exit code; start-up failures (invalid
    /// configuration, invalid first policy) are printed to <paramref name="error"/> with every detail.
    /// </summary>
    public static async Task<int> RunAsync(IHost host, TextWriter error, CancellationToken cancellationToken = default)
    {
        var exitCode = host.Services.GetRequiredService<ExitCodeHolder>();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (code, lines) = Describe(e);
            foreach (var line in lines)
            {
                await error.WriteLineAsync(line).ConfigureAwait(false);
            }

            try
            {
                using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await host.StopAsync(stopTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Best effort: the process is exiting with the start-up failure, which is what matters.
            }

            return code;
        }

        await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return exitCode.Code;
    }

    private static (int Code, List<string> Lines) Describe(Exception e)
    {
        switch (e)
        {
            case OptionsValidationException validation:
                return (ExitCodes.ConfigInvalid, ["camfw: invalid configuration:", .. validation.Failures.Select(f => "  " + f)]);
            case StartupException startup:
                return (startup.ExitCode, ["camfw: " + startup.Message, .. startup.Details.Select(d => "  " + d)]);
            case AggregateException { InnerExceptions.Count: > 0 } aggregate when aggregate.InnerExceptions.All(i => i is OptionsValidationException):
                // Every invalid section at once, so an admin fixes the file in one go.
                return (ExitCodes.ConfigInvalid, ["camfw: invalid configuration:", .. aggregate.InnerExceptions.Cast<OptionsValidationException>().SelectMany(v => v.Failures).Select(f => "  " + f)]);
            case AggregateException { InnerExceptions.Count: > 0 } aggregate:
                return Describe(aggregate.InnerExceptions[0]);
            default:
                return (ExitCodes.StartFailed, ["camfw: start failed: " + e.Message]);
        }
    }
}
