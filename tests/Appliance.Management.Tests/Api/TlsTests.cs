using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.TestSupport.Host;

namespace Appliance.Management.Tests.Api;

public sealed class TlsTests : IDisposable
{
    private readonly TempDirectory _dir = new("camfw-tls");
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _server;

    public TlsTests()
    {
        _ca = CreateCa("CN=camfw test admins CA");
        _server = CreateSelfSigned("CN=127.0.0.1");
        File.WriteAllText(_dir.Combine("server.crt"), _server.ExportCertificatePem());
        File.WriteAllText(_dir.Combine("server.key"), _server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(_dir.Combine("ca.crt"), _ca.ExportCertificatePem());
    }

    [Fact]
    public async Task Https_ClientCertificateRequired_OnlyCaIssuedClientsGetThrough()
    {
        await using var api = await ApiHarness.StartAsync(o =>
        {
            o.Url = "https://127.0.0.1:0";
            o.CertificatePath = _dir.Combine("server.crt");
            o.CertificateKeyPath = _dir.Combine("server.key");
            o.ClientCertificateAuthorityPath = _dir.Combine("ca.crt");
        });
        var url = api.Server.Addresses[0];
        Assert.Equal("https", url.Scheme);

        // No client certificate: the handshake itself fails; no HTTP request is ever parsed.
        using (var none = Client(url, null))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => none.GetAsync("/api/v1/health"));
        }

        // A certificate from another CA: refused too.
        using var rogueCa = CreateCa("CN=rogue CA");
        using var rogue = Issue(rogueCa, "CN=mallory");
        using (var client = Client(url, rogue))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/api/v1/health"));
        }

        // The admins' CA: through, and the token is still required.
        using var alice = Issue(_ca, "CN=alice");
        using var good = Client(url, alice);
        using var health = await good.GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var noToken = await good.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        good.DefaultRequestHeaders.Authorization = new("Bearer", ApiHarness.Token);
        using var policy = await good.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
    }

    [Fact]
    public async Task Https_ConsoleLogin_SecureHostPrefixedCookieAndHsts()
    {
        await using var api = await ApiHarness.StartAsync(o =>
        {
            o.Url = "https://127.0.0.1:0";
            o.CertificatePath = _dir.Combine("server.crt");
            o.CertificateKeyPath = _dir.Combine("server.key");
        });
        using var client = Client(api.Server.Addresses[0], null, followRedirects: false);
        using var form = new FormUrlEncodedContent([KeyValuePair.Create("token", ApiHarness.Token)]);
        using var login = await client.PostAsync("/console/login", form);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));

        // __Host-: the browser keeps it only if Secure, Path=/ and no Domain, so no other host can plant or shadow it.
        Assert.StartsWith("__Host-camfw-session=", cookie, StringComparison.Ordinal);
        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("max-age=", login.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _server.Dispose();
        _dir.Dispose();
    }

    private HttpClient Client(Uri url, X509Certificate2? clientCertificate, bool followRedirects = true)
    {
#pragma warning disable CA2000 // the HttpClient owns the handler
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = followRedirects,
            // Pin the test server's self-signed certificate.
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && cert.RawData.AsSpan().SequenceEqual(_server.RawData),
        };
        if (clientCertificate is not null)
        {
            handler.ClientCertificateOptions = ClientCertificateOption.Manual;
            handler.ClientCertificates.Add(clientCertificate);
        }

        return new HttpClient(handler, disposeHandler: true) { BaseAddress = url };
#pragma warning restore CA2000
    }

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 CreateSelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        return cert.CopyWithPrivateKey(key);
    }
}
