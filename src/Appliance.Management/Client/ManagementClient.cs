using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Appliance.Management.Api;

namespace Appliance.Management.Client;

/// <summary>
/// The management API from the outside, typed with the API's own documents: the admin verbs (<c>camfw status</c>,
/// <c>apply</c>...) and the lab use it. Speaks HTTP(S) with a bearer token, or HTTP/1.1 over the appliance's Unix
/// socket. A request that could not be made at all throws <see cref="ManagementClientException"/> worded for an
/// admin; any answer, error statuses included, comes back as an <see cref="ApiResponse{T}"/>.
/// </summary>
public sealed class ManagementClient : IDisposable
{
    private static readonly ManagementJsonContext Json = ManagementJsonContext.Default;

    private readonly HttpClient _http;
    private readonly ManagementClientOptions _options;
    private readonly X509Certificate2? _trusted;
    private readonly X509Certificate2? _clientCertificate;

    /// <summary>Creates a client; nothing is connected until the first request.</summary>
    public ManagementClient(ManagementClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
#pragma warning disable CA2000 // the HttpClient owns and disposes the handler
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), PooledConnectionLifetime = TimeSpan.FromMinutes(1) };
#pragma warning restore CA2000
        if (options.UnixSocket is { } socketPath)
        {
            handler.ConnectCallback = (_, ct) => ConnectUnixAsync(socketPath, ct);
        }
        else if (options.Connect is { } connect)
        {
            handler.ConnectCallback = connect;
        }

        if (options.TrustedCertificatePath is { } trusted && File.Exists(trusted))
        {
            _trusted = X509Certificate2.CreateFromPemFile(trusted);
        }

        if (options.ClientCertificatePath is { } cert)
        {
            _clientCertificate = options.ClientKeyPath is null ? X509CertificateLoader.LoadPkcs12FromFile(cert, null) : X509Certificate2.CreateFromPemFile(cert, options.ClientKeyPath);
        }

        handler.SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = ValidateServer,
            ClientCertificates = _clientCertificate is null ? null : new X509CertificateCollection { _clientCertificate },
        };

        // Over the socket the host name is only the Host header; the routes are the same.
        var baseAddress = options.UnixSocket is null ? options.BaseAddress : new Uri("http://localhost/");
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = baseAddress, Timeout = options.Timeout };
        if (options.Token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        }
    }

    /// <summary>The appliance as messages name it: <c>unix:PATH</c> or the URL.</summary>
    public string Endpoint => _options.Endpoint;

    /// <summary><c>GET /api/v1/health</c>: 200 when healthy or degraded, 503 (with the same document) when unhealthy.</summary>
    public Task<ApiResponse<HealthDto>> HealthAsync(CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/health", null, Json.HealthDto, cancellationToken);

    /// <summary><c>GET /api/v1/policy</c>: the policy in force.</summary>
    public Task<ApiResponse<PolicyDto>> PolicyAsync(CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/policy", null, Json.PolicyDto, cancellationToken);

    /// <summary><c>GET /api/v1/policy/history</c>, newest first.</summary>
    public Task<ApiResponse<HistoryDto>> HistoryAsync(CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/policy/history", null, Json.HistoryDto, cancellationToken);

    /// <summary><c>GET /api/v1/cameras</c>: every camera of the policy with its counters.</summary>
    public Task<ApiResponse<CamerasDto>> CamerasAsync(CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/cameras", null, Json.CamerasDto, cancellationToken);

    /// <summary><c>GET /api/v1/reasons</c>: frames by reason.</summary>
    public Task<ApiResponse<ReasonsDto>> ReasonsAsync(CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/reasons", null, Json.ReasonsDto, cancellationToken);

    /// <summary><c>GET /api/v1/events</c>: the newest security events first, at most <paramref name="limit"/>, only those after sequence <paramref name="after"/>.</summary>
    public Task<ApiResponse<EventsDto>> EventsAsync(int? limit, long? after, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/events" + Query(("limit", limit), ("after", after)), null, Json.EventsDto, cancellationToken);

    /// <summary><c>GET /api/v1/dns/names</c>: what the cameras learned from their DNS answers (one camera's when <paramref name="camera"/> is given).</summary>
    public Task<ApiResponse<LearnedNamesDto>> LearnedNamesAsync(string? camera, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/dns/names" + (camera is null ? "" : "?camera=" + Uri.EscapeDataString(camera)), null, Json.LearnedNamesDto, cancellationToken);

    /// <summary><c>GET /api/v1/flows</c>: a page of tracked flows.</summary>
    public Task<ApiResponse<FlowsDto>> FlowsAsync(int? offset, int? limit, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, "api/v1/flows" + Query(("offset", offset), ("limit", limit)), null, Json.FlowsDto, cancellationToken);

    /// <summary>
    /// <c>PUT /api/v1/policy</c>: replaces the policy files (name to YAML text). With <paramref name="confirmWithinSeconds"/>
    /// it is a safe apply: the previous policy comes back by itself unless <see cref="ConfirmAsync"/> follows in time.
    /// <paramref name="allowCameraRemoval"/> says the caller means to remove cameras (the appliance refuses such a
    /// change otherwise, and takes it only as a safe apply).
    /// </summary>
    public Task<ApiResponse<ApplyDto>> ApplyAsync(IReadOnlyDictionary<string, string> files, int? confirmWithinSeconds, bool allowCameraRemoval, CancellationToken cancellationToken)
    {
        var query = Query(("confirm-within", confirmWithinSeconds));
        if (allowCameraRemoval)
        {
            query += (query.Length == 0 ? "?" : "&") + "allow-camera-removal=true";
        }

        return SendAsync(HttpMethod.Put, "api/v1/policy" + query, files, Json.ApplyDto, cancellationToken);
    }

    /// <summary><c>POST /api/v1/policy/validate</c>: what the appliance would say about these files, without applying them.</summary>
    public Task<ApiResponse<ValidateDto>> ValidateAsync(IReadOnlyDictionary<string, string> files, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, "api/v1/policy/validate", files, Json.ValidateDto, cancellationToken);

    /// <summary><c>POST /api/v1/policy/confirm</c>: keeps a safe apply.</summary>
    public Task<ApiResponse<ApplyDto>> ConfirmAsync(CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, "api/v1/policy/confirm", null, Json.ApplyDto, cancellationToken);

    /// <summary><c>POST /api/v1/policy/rollback/{version}</c>: brings back an earlier version's files.</summary>
    public Task<ApiResponse<ApplyDto>> RollbackAsync(uint version, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, "api/v1/policy/rollback/" + version.ToString(CultureInfo.InvariantCulture), null, Json.ApplyDto, cancellationToken);

    /// <summary><c>POST /api/v1/policy/reload</c>: reads the policy directory again.</summary>
    public Task<ApiResponse<ApplyDto>> ReloadAsync(CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, "api/v1/policy/reload", null, Json.ApplyDto, cancellationToken);

    /// <inheritdoc/>
    public void Dispose()
    {
        _http.Dispose();
        _trusted?.Dispose();
        _clientCertificate?.Dispose();
    }

    private static string Query(params (string Name, long? Value)[] parameters)
    {
        var given = parameters.Where(p => p.Value is not null).Select(p => p.Name + "=" + p.Value!.Value.ToString(CultureInfo.InvariantCulture)).ToList();
        return given.Count == 0 ? "" : "?" + string.Join('&', given);
    }

    private static async ValueTask<Stream> ConnectUnixAsync(string path, CancellationToken cancellationToken)
    {
#pragma warning disable CA2000 // on success the returned stream owns the socket; on failure it is disposed here
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
#pragma warning restore CA2000
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<ApiResponse<T>> SendAsync<T>(HttpMethod method, string path, IReadOnlyDictionary<string, string>? files, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var content = files is null ? null : JsonContent.Create(new PolicyFilesDto { Files = new Dictionary<string, string>(files, StringComparer.Ordinal) }, Json.PolicyFilesDto);
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AccessDenied })
        {
            throw new ManagementClientException(ManagementClientFailure.PermissionDenied,
                $"not allowed to connect to {Endpoint} ({e.InnerException.Message}); run as root, or pass --url and a token", e);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            throw new ManagementClientException(ManagementClientFailure.TlsFailed,
                $"TLS with {Endpoint} failed: {e.InnerException?.Message ?? e.Message} (pass --ca with the appliance's certificate, and --client-cert if it requires one)", e);
        }
        catch (HttpRequestException e)
        {
            throw new ManagementClientException(ManagementClientFailure.Unreachable,
                $"camfw is not running, or not listening on {Endpoint} ({e.Message}). Check: systemctl status camfw", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ManagementClientException(ManagementClientFailure.TimedOut, $"{Endpoint} did not answer within {_http.Timeout.TotalSeconds} s", e);
        }

        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized:
                    throw new ManagementClientException(ManagementClientFailure.Unauthorized, _options.Token is null
                        ? $"the appliance wants a token and none was found (looked in --token, CAMFW_TOKEN, the config file and {new ManagementOptions().TokenFile}); run as root or pass --token"
                        : $"the appliance rejected the token from {_options.TokenSource ?? "the caller"}; check it matches the appliance's Management:TokenFile");
                case HttpStatusCode.TooManyRequests:
                    var retry = response.Headers.RetryAfter?.Delta?.TotalSeconds;
                    throw new ManagementClientException(ManagementClientFailure.RateLimited,
                        $"too many failed logins from this address; the appliance refuses it for {retry ?? 0:0} more second(s)");
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var success = response.IsSuccessStatusCode;
            if (response.Content.Headers.ContentType?.MediaType is "application/json" or "application/problem+json")
            {
                // A document of the endpoint's type, on success and on the errors that carry one (a rejected policy).
                var body = TryDeserialize(text, type);
                var error = success ? null : ErrorText(text) ?? $"HTTP {(int)response.StatusCode}";
                if (body is not null || error is not null)
                {
                    return new ApiResponse<T>(response.StatusCode, body, error);
                }
            }

            return new ApiResponse<T>(response.StatusCode, default, $"HTTP {(int)response.StatusCode}: {text}");
        }
    }

    private static T? TryDeserialize<T>(string text, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(text, type);
        }
        catch (JsonException)
        {
            // An error document of another shape: the caller reads its message instead.
            return default;
        }
    }

    /// <summary>The explanation in an error body: an RFC 9457 problem's detail or title, or an <c>error</c> member.</summary>
    private static string? ErrorText(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var name in new[] { "detail", "error", "title", "message" })
            {
                if (document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } message)
                {
                    return message;
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The appliance usually has a self-signed certificate: trust it when it is exactly the configured one (pinning),
    // otherwise only through the system's normal chain validation.
    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        return _trusted is not null && certificate is not null && _trusted.RawDataMemory.Span.SequenceEqual(certificate.GetRawCertData());
    }
}
