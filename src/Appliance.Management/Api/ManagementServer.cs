using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Appliance.Management.Policies;
using Appliance.Management.Security;
using Appliance.Management.Traffic;
using Appliance.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Management.Api;

/// <summary>
/// The management API: a Kestrel minimal API on the one configured address, bearer token on every endpoint but
/// health (with per-address lockout after repeated failures), optional https with client certificates that
/// Kestrel checks against a configured CA during the handshake, small body and header limits.
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
    private WebApplication? _app;
    private X509Certificate2? _serverCertificate;
    private X509Certificate2? _clientCa;

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
        _limiter = new AuthFailureLimiter(options.AuthFailureLimit, options.AuthFailureWindow, options.AuthLockout, time);
    }

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
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = _options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 32;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.MaxRequestBufferSize = 64 * 1024;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
            kestrel.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (https)
                {
                    listen.UseHttps(HttpsOptions());
                }
            });
        });

        var app = builder.Build();
        app.Use(AuthenticateAsync);
        MapEndpoints(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Addresses = [.. addresses.Select(a => new Uri(a.Replace("[::]", "[::1]", StringComparison.Ordinal)))];
        foreach (var address in Addresses)
        {
            Log.Listening(_logger, address.ToString(), https ? (_clientCa is null ? "https" : "https, client certificates required") : "http, loopback");
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

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }

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

    private async Task AuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals("/api/v1/health", StringComparison.Ordinal))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var remote = context.Connection.RemoteIpAddress ?? IPAddress.None;
        if (_limiter.IsLockedOut(remote, out var retryAfter))
        {
            await TooManyAsync(context, retryAfter).ConfigureAwait(false);
            return;
        }

        if (!TryGetBearer(context.Request.Headers.Authorization.ToString(), out var presented) || !_token.Matches(presented))
        {
            Log.AuthFailed(_logger, remote.ToString(), context.Request.Method, context.Request.Path.ToString());
            if (_limiter.RecordFailure(remote))
            {
                Log.AuthRateLimited(_logger, remote.ToString(), (int)_options.AuthLockout.TotalSeconds);
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"camfw\"";
            await context.Response.WriteAsJsonAsync(new ErrorDto("missing or wrong bearer token"), ManagementJsonContext.Default.ErrorDto).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    private static Task TooManyAsync(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return context.Response.WriteAsJsonAsync(new ErrorDto($"too many failed authentications from this address; retry after {seconds} s"), ManagementJsonContext.Default.ErrorDto);
    }

    internal static bool TryGetBearer(string header, out string token)
    {
        const string Scheme = "Bearer ";
        if (header.Length > Scheme.Length && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            token = header[Scheme.Length..].Trim();
            return token.Length > 0;
        }

        token = "";
        return false;
    }

    private static ChangeOrigin ApiOrigin(HttpContext context, string? detail = null)
    {
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (context.Connection.ClientCertificate is { } cert)
        {
            remote += $" ({cert.Subject})";
        }

        return new ChangeOrigin(ChangeOrigin.ApiKind, remote, detail);
    }

    private void MapEndpoints(WebApplication app)
    {
        var json = ManagementJsonContext.Default;

        app.MapGet("/api/v1/health", () =>
        {
            var health = ApiMapper.Health(_policies, _traffic);
            return Results.Json(health, json.HealthDto, statusCode: health.Status == "unhealthy" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
        });

        app.MapGet("/api/v1/policy", () =>
        {
            if (_policies.Current is not { } s)
            {
                return Results.Json(new ErrorDto("no policy loaded"), json.ErrorDto, statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return Results.Json(new PolicyDto(s.Version, s.Sha256, s.LoadedAt, s.Origin.ToDto(), _policies.Options.Directory, [.. s.Files.Select(f => f.Name)], s.Spec.Cameras.Count, _policies.Pending.ToDto()), json.PolicyDto);
        });

        app.MapPut("/api/v1/policy", async (HttpContext context) =>
        {
            TimeSpan? confirmWithin = null;
            if (context.Request.Query.TryGetValue("confirm-within", out var raw))
            {
                if (!int.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > _policies.Options.MaxConfirmWithin.TotalSeconds)
                {
                    return Results.Json(new ErrorDto($"confirm-within must be whole seconds between 1 and {_policies.Options.MaxConfirmWithin.TotalSeconds}"), json.ErrorDto, statusCode: StatusCodes.Status400BadRequest);
                }

                confirmWithin = TimeSpan.FromSeconds(seconds);
            }

            var (sources, problem) = await ReadFilesAsync(context).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            var result = await _policies.ApplyAsync(sources!, ApiOrigin(context), confirmWithin, context.RequestAborted).ConfigureAwait(false);
            return ApplyResponse(result);
        });

        app.MapPost("/api/v1/policy/validate", async (HttpContext context) =>
        {
            var (sources, problem) = await ReadFilesAsync(context).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            var load = _policies.Validate(sources!);
            var errors = load.Diagnostics.Count(d => d.Severity == Severity.Error);
            var dto = new ValidateDto(!load.HasErrors, errors, load.Diagnostics.Count - errors, load.Spec?.Cameras.Count, load.Spec?.Sha256, load.Diagnostics.ToDto());
            return Results.Json(dto, json.ValidateDto, statusCode: dto.Valid ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity);
        });

        app.MapPost("/api/v1/policy/reload", async (HttpContext context) =>
        {
            var result = await _policies.ReloadFromDiskAsync(ApiOrigin(context, "reload from disk"), context.RequestAborted).ConfigureAwait(false);
            return ApplyResponse(result);
        });

        app.MapGet("/api/v1/policy/history", () =>
        {
            var current = _policies.Current?.Version;
            var entries = _policies.History.List().Select(e => new HistoryEntryDto(e.Version, e.Sha256, e.AppliedAt, e.Origin.ToDto(), e.Sources, e.Version == current)).ToList();
            return Results.Json(new HistoryDto(current, entries), json.HistoryDto);
        });

        app.MapPost("/api/v1/policy/rollback/{version}", async (HttpContext context, string version) =>
        {
            if (!uint.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            {
                return Results.Json(new ErrorDto("version must be a positive whole number"), json.ErrorDto, statusCode: StatusCodes.Status400BadRequest);
            }

            var result = await _policies.RollbackAsync(v, ApiOrigin(context), context.RequestAborted).ConfigureAwait(false);
            return ApplyResponse(result);
        });

        app.MapPost("/api/v1/policy/confirm", async (HttpContext context) =>
        {
            var result = await _policies.ConfirmAsync(ApiOrigin(context), context.RequestAborted).ConfigureAwait(false);
            return ApplyResponse(result);
        });

        app.MapGet("/api/v1/cameras", () => Results.Json(Cameras(), json.CamerasDto));

        app.MapGet("/api/v1/flows", (HttpContext context) =>
        {
            var offset = QueryInt(context, "offset", 0, 0, int.MaxValue);
            var limit = QueryInt(context, "limit", 100, 1, 1000);
            var page = _traffic.Flows(offset, limit);
            var flows = page.Flows.Select(f => new FlowDto(f.Plane, f.Camera, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Direction, f.State, f.PolicyVersion, f.LastSeen)).ToList();
            return Results.Json(new FlowsDto(page.Total, offset, limit, flows), json.FlowsDto);
        });

        app.MapGet("/api/v1/events", (HttpContext context) =>
        {
            var limit = QueryInt(context, "limit", 100, 1, 1000);
            var after = context.Request.Query.TryGetValue("after", out var raw) && long.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var a) ? a : 0;
            var events = _events.Recent(limit, after).Select(e => new EventDto(e.Sequence, e.At, e.Kind, e.Level, e.Message, e.Fields)).ToList();
            return Results.Json(new EventsDto(_events.Total, events), json.EventsDto);
        });

        app.MapGet("/metrics", () => Results.Text(PrometheusWriter.Write(_policies, _traffic), PrometheusWriter.ContentType));
    }

    // One mapping for apply, reload, rollback and confirm: each outcome has the same status whichever verb led to it.
    private static IResult ApplyResponse(ApplyResult result)
    {
        var status = result.Outcome switch
        {
            ApplyOutcome.Rejected => StatusCodes.Status422UnprocessableEntity,
            ApplyOutcome.NotFound => StatusCodes.Status404NotFound,
            ApplyOutcome.NothingPending => StatusCodes.Status409Conflict,
            _ => StatusCodes.Status200OK,
        };
        return Results.Json(result.ToDto(), ManagementJsonContext.Default.ApplyDto, statusCode: status);
    }

    private async Task<(IReadOnlyList<PolicySource>? Sources, IResult? Problem)> ReadFilesAsync(HttpContext context)
    {
        var json = ManagementJsonContext.Default;
        if (context.Request.ContentLength > _options.MaxRequestBodyBytes)
        {
            return (null, Results.Json(new ErrorDto($"request body larger than {_options.MaxRequestBodyBytes} bytes"), json.ErrorDto, statusCode: StatusCodes.Status413PayloadTooLarge));
        }

        if (!context.Request.HasJsonContentType())
        {
            return (null, Results.Json(new ErrorDto("send application/json: {\"files\": {\"site.yaml\": \"...\"}}"), json.ErrorDto, statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        PolicyFilesDto? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, json.PolicyFilesDto, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            // Kestrel enforces MaxRequestBodySize on chunked bodies while they are read.
            return (null, Results.Json(new ErrorDto(e.Message), json.ErrorDto, statusCode: e.StatusCode));
        }
        catch (JsonException e)
        {
            return (null, Results.Json(new ErrorDto($"malformed JSON: {e.Message}"), json.ErrorDto, statusCode: StatusCodes.Status400BadRequest));
        }

        if (body?.Files is not { Count: > 0 } files)
        {
            return (null, Results.Json(new ErrorDto("the body must be {\"files\": {\"name.yaml\": \"text\", ...}} with at least one file"), json.ErrorDto, statusCode: StatusCodes.Status400BadRequest));
        }

        return ([.. files.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new PolicySource(kv.Key, kv.Value ?? ""))], null);
    }

    private static int QueryInt(HttpContext context, string name, int fallback, int min, int max)
        => context.Request.Query.TryGetValue(name, out var raw) && int.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? Math.Clamp(v, min, max) : fallback;

    private CamerasDto Cameras()
    {
        var state = _policies.Current;
        if (state is null)
        {
            return new CamerasDto(null, []);
        }

        var list = new List<CameraDto>(state.Spec.Cameras.Count);
        foreach (var camera in state.Spec.Cameras)
        {
            var counters = _policies.Holder.Slots.TryGet(camera.Name, out var slot) ? _traffic.Camera(slot) : default;
            var denied = _denied.Top(camera.Name, 5);
            list.Add(new CameraDto(
                camera.Name,
                camera.Mac?.ToString(),
                [.. camera.Addresses.Select(a => a.ToString())],
                camera.Profiles,
                camera.Mode == Core.Policy.CameraMode.Monitor ? "monitor" : "enforce",
                counters.LastSeen,
                counters.FramesPassed,
                counters.FramesDropped,
                counters.BytesPassed,
                counters.BytesDropped,
                [.. denied.Select(d => new DeniedDestinationDto(d.Address, d.Port, d.Protocol, d.Count, d.LastSeen))]));
        }

        return new CamerasDto(state.Version, list);
    }

    /// <summary>Lets the appliance's host own SIGTERM and Ctrl-C; this inner web host is stopped by it.</summary>
    private sealed class PassiveHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
