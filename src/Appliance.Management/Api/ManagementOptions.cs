namespace Appliance.Management.Api;

/// <summary>The <c>Management</c> section of the appliance configuration.</summary>
public sealed class ManagementOptions
{
    /// <summary>Default: loopback only, so nothing but the box itself (or an SSH tunnel) reaches the API.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Default local socket: systemd's runtime directory for the service.</summary>
    public const string DefaultUnixSocket = "/run/camfw/api.sock";

    /// <summary>Set false to run without the API (not recommended: no status, no safe apply).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The one address to listen on: <c>http://IP:PORT</c> or <c>https://IP:PORT</c> (an IP literal or
    /// <c>localhost</c>). A non-loopback address needs https; a wildcard (0.0.0.0, ::) needs <see cref="AllowAnyAddress"/>.
    /// </summary>
    public string Url { get; set; } = DefaultUrl;

    /// <summary>
    /// The local Unix domain socket, the path an administrator on the box always has: same routes over HTTP/1.1, no
    /// token; served to root and the service's own user only (file mode 0600 and the peer's uid from SO_PEERCRED).
    /// Its directory must not be writable by everyone; a stale socket left by a dead process is replaced. Empty
    /// disables it.
    /// </summary>
    public string? UnixSocket { get; set; } = DefaultUnixSocket;

    /// <summary>Connections the TCP listener holds at once (the local socket has its own).</summary>
    public int MaxConnections { get; set; } = 64;

    /// <summary>
    /// Connections one remote address holds at once. When an address or the listener is full, the oldest connection
    /// that has not authenticated is closed to make room; authenticated connections are never closed for a newcomer.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; } = 16;

    /// <summary>A connection on which no request has authenticated within this time is closed.</summary>
    public TimeSpan UnauthenticatedConnectionTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Listening on every address is refused unless this is set.</summary>
    public bool AllowAnyAddress { get; set; }

    /// <summary>The bearer token itself (prefer <see cref="TokenFile"/>).</summary>
    public string? Token { get; set; }

    /// <summary>File holding the bearer token; created (0600) with a random token on first start if missing.</summary>
    public string TokenFile { get; set; } = "/etc/camfw/api-token";

    /// <summary>Server certificate for https: a PEM certificate (with <see cref="CertificateKeyPath"/>) or a PKCS#12 file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="CertificatePath"/>; omit for PKCS#12 or a PEM holding both.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>Password of a PKCS#12 certificate.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>When set (https only), every client must present a certificate issued by this CA (PEM).</summary>
    public string? ClientCertificateAuthorityPath { get; set; }

    /// <summary>Largest request body; a policy of thousands of cameras fits easily.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Failed authentications from one address, within <see cref="AuthFailureWindow"/>, before it is locked out.</summary>
    public int AuthFailureLimit { get; set; } = 5;

    /// <summary>The window in which <see cref="AuthFailureLimit"/> failures lock an address out.</summary>
    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a locked-out address's failures get 429 (a request with the right token is still served).</summary>
    public TimeSpan AuthLockout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Serve the web console at <c>/console</c> (same listener, same token: the login form takes it).</summary>
    public bool ConsoleEnabled { get; set; } = true;

    /// <summary>A console session unused for this long is over (the next page asks for the token again).</summary>
    public TimeSpan ConsoleSessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A console session is over this long after login, however busy.</summary>
    public TimeSpan ConsoleSessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Console sessions held at once; a login beyond it ends the least recently used session.</summary>
    public int ConsoleMaxSessions { get; set; } = 32;
}
