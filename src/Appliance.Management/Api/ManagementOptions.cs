namespace Appliance.Management.Api;

/// <summary>The <c>Management</c> section of the appliance configuration.</summary>
public sealed class ManagementOptions
{
    /// <summary>Default: loopback only, so nothing but the box itself (or an SSH tunnel) reaches the API.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Set false to run without the API (not recommended: no status, no safe apply).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The one address to listen on: <c>http://IP:PORT</c> or <c>https://IP:PORT</c> (an IP literal or
    /// <c>localhost</c>). A non-loopback address needs https; a wildcard (0.0.0.0, ::) needs <see cref="AllowAnyAddress"/>.
    /// </summary>
    public string Url { get; set; } = DefaultUrl;

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

    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a locked-out address gets 429.</summary>
    public TimeSpan AuthLockout { get; set; } = TimeSpan.FromMinutes(5);
}
