using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.Security;
using Appliance.Management.Traffic;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Hosting;

/// <summary>Starts the management API on its one address, and keeps the per-camera denied-destination counts current.</summary>
internal sealed class ManagementService(
    IOptions<ManagementOptions> options,
    PolicyService policies,
    ITrafficSource traffic,
    IEventFeed events,
    DeniedDestinationTracker denied,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<ManagementService>();
    private ManagementServer? _server;
    private ITimer? _catchUp;

    /// <summary>How often the denied-destination counts read the new security events.</summary>
    internal static readonly TimeSpan CatchUpInterval = TimeSpan.FromSeconds(1);

    /// <summary>Where the API listens (after start).</summary>
    public IReadOnlyList<Uri> Addresses => _server?.Addresses ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            // The API is the tracker's only reader: without it, counting denied destinations is wasted work.
            return;
        }

        _catchUp = TimeProvider.System.CreateTimer(_ => CatchUp(), null, CatchUpInterval, CatchUpInterval);

        ApiToken token;
        try
        {
            if (!string.IsNullOrWhiteSpace(o.Token))
            {
                token = ApiToken.FromValue(o.Token);
            }
            else
            {
                token = ApiToken.LoadOrCreate(o.TokenFile, out var created);
                HostLog.TokenFile(_logger, o.TokenFile);
                if (created)
                {
                    HostLog.TokenCreated(_logger, o.TokenFile);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            throw new StartupException(ExitCodes.StartFailed, $"management API token: {e.Message}");
        }

        var server = new ManagementServer(o, token, policies, traffic, events, denied, loggerFactory);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or PlatformNotSupportedException or System.Net.Sockets.SocketException or System.Security.Cryptography.CryptographicException)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw new StartupException(ExitCodes.StartFailed, $"management API could not listen on {o.Url}: {e.Message}");
        }

        _server = server;
    }

    // A timer callback that throws takes the whole process (and so the data path) down; a bug in a statistics
    // view must cost only that view.
    private void CatchUp()
    {
        try
        {
            denied.CatchUp(events);
        }
        catch (Exception e)
        {
            HostLog.DeniedDestinationsFailed(_logger, e);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _catchUp?.Dispose();
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _catchUp?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
