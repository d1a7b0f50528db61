using Appliance.Management.Api;

namespace Appliance.Management.Client;

/// <summary>Where a <see cref="ManagementClient"/> finds the appliance's management API and how it proves who it is.</summary>
public sealed record ManagementClientOptions
{
    /// <summary>The appliance's local socket when its configuration does not name another (<c>Management:UnixSocket</c>).</summary>
    public const string DefaultUnixSocket = "/run/camfw/api.sock";

    /// <summary>The API's address (<c>http://127.0.0.1:8080</c> by default). Ignored for the connection itself when <see cref="UnixSocket"/> is set.</summary>
    public Uri BaseAddress { get; init; } = new(ManagementOptions.DefaultUrl);

    /// <summary>
    /// Talk HTTP/1.1 over this Unix socket instead of TCP: the same routes, and no token needed (the socket's file
    /// permissions decide who may connect).
    /// </summary>
    public string? UnixSocket { get; init; }

    /// <summary>The bearer token; null sends none (the Unix socket and <c>/api/v1/health</c> need none).</summary>
    public string? Token { get; init; }

    /// <summary>Where the token came from (<c>--token</c>, a file...), named when the appliance rejects it.</summary>
    public string? TokenSource { get; init; }

    /// <summary>PEM certificate of an appliance with a self-signed https certificate: trusted when it is exactly this one.</summary>
    public string? TrustedCertificatePath { get; init; }

    /// <summary>Client certificate for an appliance that requires one: PEM (with <see cref="ClientKeyPath"/>) or PKCS#12.</summary>
    public string? ClientCertificatePath { get; init; }

    /// <summary>PEM private key of <see cref="ClientCertificatePath"/>.</summary>
    public string? ClientKeyPath { get; init; }

    /// <summary>How long one request may take, connection included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Opens the connection instead of the default TCP connect, e.g. from inside another network namespace (the
    /// lab). Ignored when <see cref="UnixSocket"/> is set.
    /// </summary>
    public Func<System.Net.Http.SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? Connect { get; init; }

    /// <summary>The appliance as messages name it: <c>unix:/run/camfw/api.sock</c> or the URL.</summary>
    public string Endpoint => UnixSocket is { } socket ? "unix:" + socket : BaseAddress.ToString();
}
