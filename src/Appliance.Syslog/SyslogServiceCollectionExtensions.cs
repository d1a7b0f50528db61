using Appliance.Syslog.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog;

/// <summary>
/// Registration of the syslog sink and the security-event reporter in the generic host.
/// </summary>
/// <example>
/// <code>
/// var builder = Host.CreateApplicationBuilder(args);
/// builder.Logging.AddSyslog(builder.Configuration.GetSection("Syslog"));          // RFC 5424 sink + sender
/// builder.Services.AddSecurityEvents(builder.Configuration.GetSection("Events")); // drop-event reporter
/// // after creating each PacketEngine:
/// host.Services.GetRequiredService&lt;DropEventReporter&gt;().Attach(engine.Events);
/// // on policy changes (management/host):
/// host.Services.GetRequiredService&lt;SecurityEventLog&gt;().PolicyApplied(...);
/// </code>
/// </example>
public static class SyslogServiceCollectionExtensions
{
    /// <summary>
    /// Adds the RFC 5424 sink: <see cref="SyslogOptions"/> bound from <paramref name="section"/> and validated at
    /// start, the <see cref="SyslogQueue"/> (its <see cref="SyslogQueue.Stats"/> are the sink's counters), the
    /// <see cref="SyslogSender"/> hosted service and the <see cref="SyslogLoggerProvider"/>. With no
    /// <c>Host</c> configured everything is registered but idle. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddSyslog(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<SyslogOptions>().Bind(section).ValidateOnStart();
        return AddSyslogCore(services);
    }

    /// <summary>As <see cref="AddSyslog(IServiceCollection, IConfiguration)"/>, configured in code.</summary>
    public static IServiceCollection AddSyslog(this IServiceCollection services, Action<SyslogOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SyslogOptions>().Configure(configure).ValidateOnStart();
        return AddSyslogCore(services);
    }

    /// <summary>Adds the syslog sink to a logging builder; see <see cref="AddSyslog(IServiceCollection, IConfiguration)"/>.</summary>
    public static ILoggingBuilder AddSyslog(this ILoggingBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSyslog(section);
        return builder;
    }

    /// <summary>
    /// Adds the <see cref="SecurityEventLog"/> (security events as log messages with their own MSGIDs, plus the
    /// recent-events list for the API) and the <see cref="DropEventReporter"/> hosted service, configured by
    /// <see cref="SecurityEventOptions"/> bound from <paramref name="section"/> (optional). Needs a
    /// <see cref="Core.Policy.PolicyHolder"/> registered by the host. Attach each engine's ring with
    /// <see cref="DropEventReporter.Attach"/>.
    /// </summary>
    public static IServiceCollection AddSecurityEvents(this IServiceCollection services, IConfiguration? section = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SecurityEventOptions>();
        if (section is not null)
        {
            options.Bind(section);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SecurityEventOptions>, SecurityEventOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecurityEventLog>();
        services.TryAddSingleton<DropEventReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<DropEventReporter>());
        return services;
    }

    private static IServiceCollection AddSyslogCore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyslogOptions>, SyslogOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SyslogQueue>();
        if (!services.Any(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService) && d.ImplementationType == typeof(SyslogSender)))
        {
            services.AddHostedService<SyslogSender>();
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, SyslogLoggerProvider>());
        return services;
    }
}
