using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Syslog.Transport;

/// <summary>The CA bundle and client certificate of the TLS transport, loaded once from files.</summary>
internal sealed class TlsMaterial : IDisposable
{
    private TlsMaterial(X509Certificate2Collection? trustedRoots, X509Certificate2? clientCertificate)
    {
        TrustedRoots = trustedRoots;
        ClientCertificate = clientCertificate;
    }

    /// <summary>Custom roots, or null for the system store.</summary>
    public X509Certificate2Collection? TrustedRoots { get; }

    public X509Certificate2? ClientCertificate { get; }

    /// <summary>Loads the files, or returns null with <paramref name="error"/> naming the setting at fault.</summary>
    public static TlsMaterial? Load(SyslogTlsOptions options, out string? error)
    {
        error = null;
        X509Certificate2Collection? roots = null;
        X509Certificate2? client = null;
        try
        {
            if (!string.IsNullOrWhiteSpace(options.CaFile))
            {
                if (!File.Exists(options.CaFile))
                {
                    error = $"Syslog:Tls:CaFile '{options.CaFile}' does not exist.";
                    return null;
                }

                roots = [];
                roots.ImportFromPemFile(options.CaFile);
                if (roots.Count == 0)
                {
                    error = $"Syslog:Tls:CaFile '{options.CaFile}' holds no PEM certificate.";
                    return null;
                }
            }

            if (!string.IsNullOrWhiteSpace(options.ClientCertificateFile))
            {
                if (!File.Exists(options.ClientCertificateFile))
                {
                    error = $"Syslog:Tls:ClientCertificateFile '{options.ClientCertificateFile}' does not exist.";
                    return null;
                }

                if (!string.IsNullOrWhiteSpace(options.ClientKeyFile) && !File.Exists(options.ClientKeyFile))
                {
                    error = $"Syslog:Tls:ClientKeyFile '{options.ClientKeyFile}' does not exist.";
                    return null;
                }

                client = LoadClientCertificate(options);
                if (!client.HasPrivateKey)
                {
                    error = $"Syslog:Tls:ClientCertificateFile '{options.ClientCertificateFile}' has no private key.";
                    client.Dispose();
                    return null;
                }
            }

            return new TlsMaterial(roots, client);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            client?.Dispose();
            error = $"Syslog:Tls: cannot load the certificate files: {ex.Message}";
            return null;
        }
    }

    private static X509Certificate2 LoadClientCertificate(SyslogTlsOptions options)
    {
        var path = options.ClientCertificateFile!;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, options.ClientCertificatePassword);
        }

        // A PEM key pair is an ephemeral key; round-trip through PKCS#12 so every platform's TLS stack can use it.
        using var pem = X509Certificate2.CreateFromPemFile(path, string.IsNullOrWhiteSpace(options.ClientKeyFile) ? null : options.ClientKeyFile);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        ClientCertificate?.Dispose();
        if (TrustedRoots is not null)
        {
            foreach (var c in TrustedRoots)
            {
                c.Dispose();
            }
        }
    }
}
