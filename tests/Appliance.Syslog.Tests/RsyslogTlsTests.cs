using Appliance.Syslog.Tests.Support;
using Appliance.TestSupport;

namespace Appliance.Syslog.Tests;

/// <summary>RFC 5425 against rsyslog's gtls driver with a CA the test generates.</summary>
public sealed class RsyslogTlsTests
{
    [Fact]
    public async Task Tls_CollectorCertificateFromConfiguredCa_DeliversWithClientCertificate()
    {
        // x509/certvalid: rsyslog also insists on our client certificate, issued by the same CA.
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tls, "x509/certvalid");
        var pki = collector.Pki!;
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.Transport = SyslogTransport.Tls;
            o.Tls.CaFile = pki.CaFile;
            o.Tls.ServerName = TestPki.ServerName;
            o.Tls.ClientCertificateFile = pki.ClientCertFile;
            o.Tls.ClientKeyFile = pki.ClientKeyFile;
        });

        for (var i = 0; i < 50; i++)
        {
            TestLog.Sequence(host.Logger, i);
        }

        var got = await collector.WaitForAsync(m => m.Count >= 50, TimeSpan.FromSeconds(20));

        Assert.True(got.Count == 50, $"{got.Count} of 50 arrived; last error: {host.Stats.LastError}; rsyslog: {collector.Diagnostics()}");
        Assert.All(got, m => Assert.Equal("test-seq", m.MsgId));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), got.Select(m => m.Sd("camfw@32473")["seq"]));
        Assert.True(host.Stats.Connected);
    }

    [Theory]
    [InlineData(true, TestPki.ServerName)]   // a CA that did not issue the collector's certificate
    [InlineData(false, "wrong.test")]        // the right CA, but a name the certificate does not carry
    public async Task Tls_UntrustedCollector_FailsClosedNothingSent(bool wrongCa, string serverName)
    {
        using var collector = await RsyslogServer.StartAsync(CollectorMode.Tls, "anon");
        var pki = collector.Pki!;
        await using var host = await SyslogTestHost.StartAsync(o =>
        {
            o.Host = "127.0.0.1";
            o.Port = collector.Port;
            o.Transport = SyslogTransport.Tls;
            o.Tls.CaFile = wrongCa ? pki.OtherCaFile : pki.CaFile;
            o.Tls.ServerName = serverName;
        });

        TestLog.Sequence(host.Logger, 1);
        await Eventually.TrueAsync(() => host.Stats.ConnectFailures >= 2);
        Assert.True(host.Stats.ConnectFailures >= 2);
        Assert.False(host.Stats.Connected);
        Assert.Equal(0, host.Stats.Sent);
        Assert.Equal(host.Stats.Queued, host.Stats.Pending); // kept, not thrown away: a fixed trust store delivers it later
        Assert.NotNull(host.Stats.LastError);
        Assert.Empty(collector.Read());
    }
}
