using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Management.Policies;
using Appliance.Management.Security;
using Appliance.Management.Traffic;
using Appliance.Management.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Management.Api;

/// <summary>
/// The management API: a Kestrel minimal API on the one configured TCP address, bearer token on every endpoint but
/// health (failures rate-limited per address, never the right token), optional https with client certificates that
/// Kestrel checks against a configured CA during the handshake, small body and header limits; and a local Unix socket
/// for root and the service's user, no token. Each listener limits its connections (per address on TCP), closes
/// connections that do not authenticate in time, and makes room by closing unauthenticated ones, never the owner's.
/// </summary>
public sealed class ManagementServer : IAsyncDisposable
{
    private readonly ManagementOptions _options;
    private readonly ApiToken _token;
    private readonly PolicyService _policies;
    private readonly ITrafficSource _traffic;
    private readonly IEventFeed _events;
    private readonly DeniedDestinationTracker _denied;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly AuthFailureLimiter _limiter;
    private readonly TimeProvider _time;
    private readonly ConnectionGuard _tcpGuard;
    private readonly ConnectionGuard _localGuard;
    private readonly ConsoleSessions _sessions;
    private readonly TrafficSampler _sampler;
    private WebApplication? _app;
    private X509Certificate2? _serverCertificate;
    private X509Certificate2? _clientCa;

    /// <summary>
    /// Creates the server; nothing listens until <see cref="StartAsync"/>. The host's management service builds
    /// one per process.
    /// </summary>
    /// <param name="options">Listen addresses, TLS, limits (validated by <see cref="ManagementOptionsValidator"/>).</param>
    /// <param name="token">The API token bearer requests and console logins must present.</param>
    /// <param name="policies">Serves the policy endpoints: every change goes through it.</param>
    /// <param name="traffic">Counters, flows and data-plane state from the engines.</param>
    /// <param name="events">The recent security events for the events endpoint and the console's live tail.</param>
    /// <param name="denied">Destinations cameras were refused, for the blocked inbox.</param>
    /// <param name="loggerFactory">Loggers for the server, Kestrel and the console.</param>
    /// <param name="time">Clock for failure rate limits and session expiry; tests pass a fake one.</param>
    public ManagementServer(ManagementOptions options, ApiToken token, PolicyService policies, ITrafficSource traffic, IEventFeed events, DeniedDestinationTracker denied, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _options = options;
        _token = token;
        _policies = policies;
        _traffic = traffic;
        _events = events;
        _denied = denied;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ManagementServer>();
        _time = time ?? TimeProvider.System;
        _limiter = new AuthFailureLimiter(options.AuthFailureLimit, options.AuthFailureWindow, options.AuthLockout, _time);
        _tcpGuard = new ConnectionGuard(new ConnectionLimiter(options.MaxConnections, options.MaxConnectionsPerAddress), options.UnauthenticatedConnectionTimeout, _time, _logger, localSocket: false);

        // The local socket has slots of its own, so a TCP flood never reaches the administrator's last path in.
        _localGuard = new ConnectionGuard(new ConnectionLimiter(LocalSocketConnections, LocalSocketConnections), options.UnauthenticatedConnectionTimeout, _time, _logger, localSocket: true);
        _sessions = new ConsoleSessions(options.ConsoleMaxSessions, options.ConsoleSessionIdleTimeout, options.ConsoleSessionLifetime, _time);
        _sampler = new TrafficSampler(policies, traffic, _time, ConsoleSampleInterval);
    }

    /// <summary>How often the console samples each camera's counters (its 5-minute and 1-hour windows are made of these).</summary>
    internal static readonly TimeSpan ConsoleSampleInterval = TimeSpan.FromMinutes(1);

    /// <summary>The console's login sessions (for tests and diagnostics).</summary>
    internal ConsoleSessions ConsoleSessions => _sessions;

    /// <summary>The console's per-minute samples (for tests).</summary>
    internal TrafficSampler ConsoleSampler => _sampler;

    /// <summary>Every endpoint mapped, after <see cref="StartAsync"/> (for the test that no route serves data without credentials).</summary>
    internal IEnumerable<Endpoint> Endpoints => _app is null ? [] : ((IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints);

    /// <summary>The web console's address (<c>/console/</c> on the first TCP address), after <see cref="StartAsync"/>; null when disabled.</summary>
    public Uri? ConsoleAddress => _options.ConsoleEnabled && Addresses.Count > 0 ? new Uri(Addresses[0], ConsoleSecurity.BasePath + "/") : null;

    /// <summary>Connections the local socket holds at once.</summary>
    internal const int LocalSocketConnections = 16;

    /// <summary>The TCP listener's connection slots (for tests and diagnostics).</summary>
    internal ConnectionLimiter TcpConnections => _tcpGuard.Limiter;

    /// <summary>The local socket's full path, after <see cref="StartAsync"/>; null when disabled.</summary>
    public string? UnixSocketPath { get; private set; }

    /// <summary>This process's uid: the local socket serves it and root.</summary>
    private static uint ServiceUid => UnixIdentity.EffectiveUid;

    /// <summary>The addresses actually bound (port 0 resolved), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>
    /// Checks <see cref="ManagementOptions.Url"/>: an IP literal or <c>localhost</c>, http or https, never a
    /// wildcard unless allowed, never plain http off loopback, https only with a certificate.
    /// </summary>
    public static bool TryParseListenAddress(ManagementOptions options, out IPEndPoint endpoint, out bool https, out string? error)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        https = false;
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            error = $"Management:Url '{options.Url}' must look like http://127.0.0.1:8080 or https://192.0.2.10:8443 (scheme, address and port only)";
            return false;
        }

        https = uri.Scheme == Uri.UriSchemeHttps;
        IPAddress address;
        if (uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns)
        {
            address = IPAddress.Loopback; // "localhost"
        }
        else if (!IPAddress.TryParse(uri.DnsSafeHost, out address!))
        {
            error = $"Management:Url '{options.Url}': the host must be an IP address (or localhost), so it is clear which interface the API listens on";
            return false;
        }

        if ((address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) && !options.AllowAnyAddress)
        {
            error = $"Management:Url '{options.Url}' listens on every address, including any a bridge port might get; name the management address, or set Management:AllowAnyAddress";
            return false;
        }

        if (!IPAddress.IsLoopback(address) && !https)
        {
            error = $"Management:Url '{options.Url}' is not loopback: use https with Management:CertificatePath so the token never crosses the network in clear";
            return false;
        }

        if (https && string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            error = "Management:Url is https but Management:CertificatePath is not set";
            return false;
        }

        if (!https && !string.IsNullOrWhiteSpace(options.ClientCertificateAuthorityPath))
        {
            error = "Management:ClientCertificateAuthorityPath needs an https Management:Url";
            return false;
        }

        endpoint = new IPEndPoint(address, uri.Port);
        error = null;
        return true;
    }

    /// <summary>Binds and starts serving.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (!TryParseListenAddress(_options, out var endpoint, out var https, out var error))
        {
            throw new InvalidOperationException(error);
        }

        if (https)
        {
            _serverCertificate = LoadServerCertificate(_options);
            if (!string.IsNullOrWhiteSpace(_options.ClientCertificateAuthorityPath))
            {
                _clientCa = X509CertificateLoader.LoadCertificateFromFile(_options.ClientCertificateAuthorityPath);
            }
        }

        var socketPath = string.IsNullOrWhiteSpace(_options.UnixSocket) ? null : Path.GetFullPath(_options.UnixSocket);
        if (socketPath is not null && LocalSocket.Prepare(socketPath))
        {
            Log.StaleSocketRemoved(_logger, socketPath);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ManagementServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        // The appliance's host owns logging, signals and the process lifetime; this inner web host only serves.
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ManagementJsonContext.Default));
        builder.Services.AddProblemDetails();
        builder.Services.AddRouting();

        // The endpoints' dependencies, bound into the static handlers' parameters.
        builder.Services.AddSingleton(_options);
        builder.Services.AddSingleton(_policies);
        builder.Services.AddSingleton(_traffic);
        builder.Services.AddSingleton(_events);
        builder.Services.AddSingleton(_denied);
        builder.Services.AddSingleton(_token);
        builder.Services.AddSingleton(_limiter);
        builder.Services.AddSingleton(_sessions);
        builder.Services.AddSingleton(new ConsoleState(_time, _sessions, _sampler, new BlockedTrafficInbox(), _options));
        builder.Services.AddAuthentication(ApiAuth.Scheme).AddScheme<ApiAuthenticationOptions, ApiAuthenticationHandler>(ApiAuth.Scheme, o => o.AllowedPeerUids = new HashSet<uint> { ServiceUid });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiAuth.AdminPolicy, ApiAuth.BuildAdminPolicy())

            // A path that matches no endpoint needs the token too: a stranger learns nothing, not even 404 vs 405.
            .SetFallbackPolicy(ApiAuth.BuildAdminPolicy());
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = _options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 32;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.MaxRequestBufferSize = 64 * 1024;

            // Kestrel's own limit counts every listener together, so a TCP flood would lock the local socket out too;
            // each listener's ConnectionGuard limits its own connections instead (issue 12.3).
            kestrel.Limits.MaxConcurrentConnections = null;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
            kestrel.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;

                // Before TLS: a handshake that never completes holds a slot only until the pre-authentication timeout.
                listen.Use(next => connection => _tcpGuard.OnConnectionAsync(connection, next));
                if (https)
                {
                    listen.UseHttps(HttpsOptions());
                }
            });
            if (socketPath is not null)
            {
                kestrel.ListenUnixSocket(socketPath, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.Use(next => connection => _localGuard.OnConnectionAsync(connection, next));
                });
            }
        });

        var app = builder.Build();

        // First, so every response (errors and redirects included) carries the CSP and friends.
        app.Use(ConsoleSecurity.AddHeaders);
        app.UseExceptionHandler();

        // 404, 405 and any other bodiless error become problem documents too.
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseAuthentication();
        app.Use(CloseUnauthenticated);

        // Before authorization and the endpoints: a forged request from another site is refused whatever route it aims at.
        app.Use(ConsoleSecurity.CheckForgery);
        app.UseAuthorization();
        app.MapManagementApi();
        if (_options.ConsoleEnabled)
        {
            app.MapWebConsole();
            _sampler.Start();
        }

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        if (socketPath is not null)
        {
            // bind(2) created the socket under the umask; the peer-uid check holds for the moment before this.
            LocalSocket.Restrict(socketPath);
            UnixSocketPath = socketPath;
            Log.Listening(_logger, "unix:" + socketPath, string.Create(CultureInfo.InvariantCulture, $"local socket, root and uid {ServiceUid}, no token"));
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Addresses = [.. addresses.Where(a => !a.StartsWith("http://unix:", StringComparison.Ordinal)).Select(a => new Uri(a.Replace("[::]", "[::1]", StringComparison.Ordinal)))];
        foreach (var address in Addresses)
        {
            Log.Listening(_logger, address.ToString(), https ? (_clientCa is null ? "https" : "https, client certificates required") : "http, loopback");
        }

        if (ConsoleAddress is { } console)
        {
            Log.ConsoleListening(_logger, console.ToString());
        }
    }

    /// <summary>Stops accepting, lets running requests finish (up to the token), closes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the web application (stopping it if still running), the console's traffic sampler and the certificates it loaded.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }

        _sampler.Dispose();
        _serverCertificate?.Dispose();
        _clientCa?.Dispose();
    }

    private static X509Certificate2 LoadServerCertificate(ManagementOptions options)
    {
        var path = options.CertificatePath!;
        if (!string.IsNullOrWhiteSpace(options.CertificateKeyPath))
        {
            return X509Certificate2.CreateFromPemFile(path, options.CertificateKeyPath);
        }

        return path.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".crt", StringComparison.OrdinalIgnoreCase)
            ? X509Certificate2.CreateFromPemFile(path)
            : X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
    }

    private HttpsConnectionAdapterOptions HttpsOptions()
    {
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = _serverCertificate,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = _clientCa is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        };
        if (_clientCa is not null)
        {
            https.ClientCertificateValidation = ValidateClientCertificate;
        }

        return https;
    }

    // Runs inside the TLS handshake: a client without a certificate from the configured CA never gets an HTTP
    // request parsed. Only that CA is trusted (not the system store), and the certificate must allow client auth.
    private bool ValidateClientCertificate(X509Certificate2 certificate, X509Chain? _, System.Net.Security.SslPolicyErrors __)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_clientCa!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        if (chain.Build(certificate))
        {
            return true;
        }

        Log.ClientCertificateRejected(_logger, certificate.Subject, string.Join(", ", chain.ChainStatus.Select(s => s.Status)));
        return false;
    }

    // Short keep-alive before authentication (issue 12.3): a connection whose request carried no valid credentials is
    // closed after the response, so anonymous health probes cannot sit on connections the owner needs.
    // An administrator's connection is marked so it is never closed to make room for a newcomer.
    private static Task CloseUnauthenticated(HttpContext context, RequestDelegate next)
    {
        if (context.User.HasClaim(ApiAuth.RoleClaim, ApiAuth.AdminRole))
        {
            context.Features.Get<ConnectionLimiter.Slot>()?.MarkAuthenticated();
        }
        else
        {
            context.Response.Headers.Connection = "close";
        }

        return next(context);
    }

    /// <summary>Lets the appliance's host own SIGTERM and Ctrl-C; this inner web host is stopped by it.</summary>
    private sealed class PassiveHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
