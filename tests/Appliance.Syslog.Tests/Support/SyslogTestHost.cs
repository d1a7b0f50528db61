using Appliance.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Syslog.Tests.Support;

/// <summary>A generic host with only the syslog sink registered, the way the appliance host wires it.</summary>
internal sealed class SyslogTestHost : IAsyncDisposable
{
    private readonly IHost _host;

    private SyslogTestHost(IHost host)
    {
        _host = host;
        Queue = host.Services.GetRequiredService<SyslogQueue>();
        Logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Appliance.Syslog.Tests");
    }

    public SyslogQueue Queue { get; }

    public SyslogStats Stats => Queue.Stats;

    public ILogger Logger { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<SyslogTestHost> StartAsync(Action<SyslogOptions> configure, Action<IServiceCollection>? more = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSyslog(o =>
        {
            o.Hostname = "camfw-test";
            o.InitialReconnectDelay = TimeSpan.FromMilliseconds(50);
            o.MaxReconnectDelay = TimeSpan.FromMilliseconds(400);
            o.ConnectTimeout = TimeSpan.FromSeconds(3);
            o.ShutdownDrainTimeout = TimeSpan.FromSeconds(1);
            configure(o);
        });
        // Counters in these tests count the test's own messages only, not the host's lifetime chatter.
        builder.Logging.AddFilter<SyslogLoggerProvider>("Microsoft", LogLevel.None);
        more?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new SyslogTestHost(host);
    }

    /// <summary>Waits until the sender has nothing pending (or the timeout passes).</summary>
    public Task<bool> WaitDrainedAsync(TimeSpan timeout) => Eventually.HoldsAsync(() => Stats.Pending == 0, timeout);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>The test's own log events, through source-generated logging like production code.</summary>
internal static partial class TestLog
{
    [LoggerMessage(EventId = 7001, EventName = "test-event", Level = LogLevel.Information, Message = "Camera {camera} says {note}")]
    public static partial void Event(ILogger logger, string camera, string note);

    [LoggerMessage(EventId = 7002, EventName = "test-seq", Level = LogLevel.Information, Message = "Sequence {seq}")]
    public static partial void Sequence(ILogger logger, int seq);

    [LoggerMessage(EventId = 7003, EventName = "test-long", Level = LogLevel.Warning, Message = "{text}")]
    public static partial void Long(ILogger logger, string text);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Debug, Message = "Debug {value}")]
    public static partial void Debug(ILogger logger, int value);

    [LoggerMessage(EventId = 7005, EventName = "test-alert", Level = LogLevel.Warning, Message = "Phone-home attempt {seq}")]
    public static partial void Alert(ILogger logger, int seq);

    // Warning, so a spool that sheds low-severity events under pressure never sheds the barrier.
    [LoggerMessage(EventId = 7006, EventName = "test-barrier", Level = LogLevel.Warning, Message = "Barrier {marker}")]
    public static partial void Barrier(ILogger logger, int marker);
}
