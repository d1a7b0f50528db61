using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Appliance.Management.Api;
using Microsoft.Extensions.Configuration;

namespace Appliance.Host.Client;

/// <summary>Where the CLI finds the appliance and how it proves who it is.</summary>
internal sealed record ClientSettings(Uri Url, string? Token, string? TokenSource, string? TrustedCertificatePath, string? ClientCertificatePath, string? ClientKeyPath)
{
    /// <summary>
    /// Flags first, then <c>CAMFW_URL</c>/<c>CAMFW_TOKEN</c>, then the config file's <c>Management</c> section (the
    /// token from <c>Management:Token</c> or the token file), then the defaults.
    /// </summary>
    public static bool TryResolve(string? url, string? token, string? tokenFile, string? configFile, string? trustedCertificate, string? clientCertificate, string? clientKey, out ClientSettings? settings, out string? error)
    {
        settings = null;
        IConfiguration? config = null;
        var file = configFile ?? (File.Exists(Hosting.ApplianceHost.DefaultConfigFile) ? Hosting.ApplianceHost.DefaultConfigFile : null);
        if (file is not null)
        {
            try
            {
                config = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(file), optional: false).Build();
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
            {
                error = $"cannot read configuration {file}: {e.Message}";
                return false;
            }
        }

        var section = config?.GetSection("Management");
        var urlText = url ?? Environment.GetEnvironmentVariable("CAMFW_URL") ?? section?["Url"] ?? ManagementOptions.DefaultUrl;
        if (!Uri.TryCreate(urlText, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"'{urlText}' is not an http(s) URL";
            return false;
        }

        string? source = null;
        var value = token ?? Environment.GetEnvironmentVariable("CAMFW_TOKEN");
        if (value is not null)
        {
            source = token is not null ? "--token" : "CAMFW_TOKEN";
        }
        else if (tokenFile is null && section?["Token"] is { Length: > 0 } configured)
        {
            value = configured;
            source = $"Management:Token in {file}";
        }
        else
        {
            var path = tokenFile ?? section?["TokenFile"] ?? new ManagementOptions().TokenFile;
            if (File.Exists(path))
            {
                try
                {
                    value = File.ReadAllText(path).Trim();
                    source = path;
                }
                catch (UnauthorizedAccessException)
                {
                    error = $"cannot read the token file {path} (it is 0600: run as root, or pass --token)";
                    return false;
                }
            }
        }

        settings = new ClientSettings(uri, value, source, trustedCertificate ?? section?["CertificatePath"], clientCertificate, clientKey);
        error = null;
        return true;
    }
}

/// <summary>A failed call, worded for an admin.</summary>
internal sealed class ClientException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>A response: status and, when it parsed, the body.</summary>
internal sealed record ApiResponse<T>(HttpStatusCode Status, T? Body, string? Error);

/// <summary>The management API from the admin's side: one HttpClient, errors turned into plain sentences.</summary>
internal sealed class ManagementClient : IDisposable
{
    /// <summary>Exit code for "could not talk to the appliance" (not running, token refused).</summary>
    public const int UnreachableExitCode = 3;

    private readonly HttpClient _http;
    private readonly ClientSettings _settings;
    private readonly X509Certificate2? _trusted;
    private readonly X509Certificate2? _clientCertificate;

    public ManagementClient(ClientSettings settings)
    {
        _settings = settings;
#pragma warning disable CA2000 // the HttpClient owns and disposes the handler
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) };
#pragma warning restore CA2000
        if (settings.TrustedCertificatePath is { } trusted && File.Exists(trusted))
        {
            _trusted = X509Certificate2.CreateFromPemFile(trusted);
        }

        if (settings.ClientCertificatePath is { } cert)
        {
            _clientCertificate = settings.ClientKeyPath is null ? X509CertificateLoader.LoadPkcs12FromFile(cert, null) : X509Certificate2.CreateFromPemFile(cert, settings.ClientKeyPath);
        }

        handler.SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = ValidateServer,
            ClientCertificates = _clientCertificate is null ? null : new X509CertificateCollection { _clientCertificate },
        };
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(30) };
        if (settings.Token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        }
    }

    public Uri Url => _settings.Url;

    public Task<ApiResponse<T>> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(HttpMethod.Get, path), type, cancellationToken);

    public Task<ApiResponse<T>> PostAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(HttpMethod.Post, path), type, cancellationToken);

    public Task<ApiResponse<T>> PutJsonAsync<TBody, T>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(HttpMethod.Put, path) { Content = JsonContent.Create(body, bodyType) }, type, cancellationToken);

    public void Dispose()
    {
        _http.Dispose();
        _trusted?.Dispose();
        _clientCertificate?.Dispose();
    }

    private async Task<ApiResponse<T>> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || e.HttpRequestError == HttpRequestError.ConnectionError)
            {
                throw new ClientException($"camfw is not running, or not listening on {_settings.Url} ({e.Message}). Check: systemctl status camfw", UnreachableExitCode);
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError)
            {
                throw new ClientException($"TLS with {_settings.Url} failed: {e.InnerException?.Message ?? e.Message} (pass --ca with the appliance's certificate, and --client-cert if it requires one)", UnreachableExitCode);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ClientException($"{_settings.Url} did not answer within {_http.Timeout.TotalSeconds} s", UnreachableExitCode);
            }

            using (response)
            {
                switch (response.StatusCode)
                {
                    case HttpStatusCode.Unauthorized:
                        throw new ClientException(_settings.Token is null
                            ? $"the appliance wants a token and none was found (looked in --token, CAMFW_TOKEN, the config file and {new ManagementOptions().TokenFile}); run as root or pass --token"
                            : $"the appliance rejected the token from {_settings.TokenSource}; check it matches the appliance's Management:TokenFile", UnreachableExitCode);
                    case HttpStatusCode.TooManyRequests:
                        var retry = response.Headers.RetryAfter?.Delta?.TotalSeconds;
                        throw new ClientException($"too many failed logins from this address; the appliance refuses it for {retry ?? 0:0} more second(s)", UnreachableExitCode);
                }

                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.Content.Headers.ContentType?.MediaType is "application/json" or "application/problem+json")
                {
                    try
                    {
                        var body = JsonSerializer.Deserialize(text, type);
                        if (body is not null)
                        {
                            return new ApiResponse<T>(response.StatusCode, body, null);
                        }
                    }
                    catch (JsonException)
                    {
                        // An error body of another shape: fall through to the error record.
                    }

                    try
                    {
                        var problem = JsonSerializer.Deserialize(text, ManagementJsonContext.Default.ProblemDto);
                        return new ApiResponse<T>(response.StatusCode, default, problem?.Detail ?? problem?.Title ?? text);
                    }
                    catch (JsonException)
                    {
                    }
                }

                return new ApiResponse<T>(response.StatusCode, default, $"HTTP {(int)response.StatusCode}: {text}");
            }
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
