using Appliance.Core.Policy;

namespace Appliance.Policy.Tests;

/// <summary>The DNS tunnel guard's settings and the encrypted-DNS refusal in policy files (issue 15).</summary>
public class DnsGuardPolicyTests
{
    [Fact]
    public void Load_GuardSettings_SiteThresholds_ProfileAndCameraActions()
    {
        var result = PolicyTestHelpers.LoadOne("""
            site:
              dns_guard:
                action: drop
                queries_per_minute: 60
                max_label: 40
                max_name: 100
                max_entropy: 4.1
                entropy_min_length: 24
                unique_subdomains: 20
                window: 120
                query_types: [a, AAAA, 33]
            profiles:
              lax: { dns: { guard: off } }
              strict: { dns: { guard: drop } }
              watch: { dns: { guard: report } }
            cameras:
              a: { mac: "02:00:00:00:01:01", profiles: [lax, watch] }
              b: { mac: "02:00:00:00:01:02", profiles: [lax, strict], dns: { guard: report } }
              c: { mac: "02:00:00:00:01:03" }
            """);

        Assert.DoesNotContain(PolicyTestHelpers.Lines(result), l => l.Contains(": error: ", StringComparison.Ordinal));
        var g = result.Spec!.Site.DnsGuard;
        Assert.Equal(new DnsGuardSpec
        {
            Action = DnsGuardAction.Drop,
            QueriesPerMinute = 60,
            MaxLabelLength = 40,
            MaxNameLength = 100,
            MaxEntropy = 4.1,
            EntropyMinLength = 24,
            UniqueSubdomains = 20,
            Window = TimeSpan.FromSeconds(120),
            QueryTypes = g.QueryTypes,
        }, g);
        Assert.Equal([(ushort)1, (ushort)28, (ushort)33], g.QueryTypes);
        var cams = result.Spec.Cameras.ToDictionary(c => c.Name);
        Assert.Equal(DnsGuardAction.Report, cams["a"].DnsGuard);  // the strictest of its profiles'
        Assert.Equal(DnsGuardAction.Report, cams["b"].DnsGuard);  // its own
        Assert.Null(cams["c"].DnsGuard);                         // the site's, applied when compiled
        var compiled = CompiledPolicy.Compile(result.Spec, 1, new CameraSlotRegistry());
        Assert.Equal(DnsGuardAction.Drop, compiled.Cameras[2].DnsGuard);
    }

    [Fact]
    public void Load_NoGuardSettings_DefaultsReport()
    {
        var spec = PolicyTestHelpers.LoadOne("cameras:\n  cam1: { mac: 02:00:00:00:01:01 }\n").Spec!;
        Assert.Equal(new DnsGuardSpec(), spec.Site.DnsGuard);
        Assert.Equal(DnsGuardAction.Report, spec.Site.DnsGuard.Action);
        Assert.Equal(SiteSpec.DefaultDohResolvers, spec.Site.DohResolvers);
    }

    [Fact]
    public void Load_BadGuardSettings_ReportedWithFileLineColumn()
    {
        var result = PolicyTestHelpers.LoadOne("""
            site:
              dns_guard:
                action: block
                queries_per_minute: 0
                max_label: 64
                max_entropy: lots
                window: 1h
                query_types: [a, txtt]
                burst: 5
              dns: { guard: drop }
            cameras:
              cam1: { mac: "02:00:00:00:01:01", dns: { guard: maybe } }
            """);

        Assert.Null(result.Spec);
        var lines = PolicyTestHelpers.Lines(result);
        Assert.Contains("test.yaml:3:13: error: 'dns_guard.action' in site must be report, drop or off, not 'block'", lines);
        Assert.Contains("test.yaml:4:25: error: 'dns_guard.queries_per_minute' in site must be a whole number from 1 to 60000, not '0'", lines);
        Assert.Contains("test.yaml:5:16: error: 'dns_guard.max_label' in site must be a whole number from 1 to 63, not '64'", lines);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:6:18: error: 'dns_guard.max_entropy' in site must be a number", StringComparison.Ordinal));
        Assert.Contains("test.yaml:7:13: error: 'dns_guard.window' in site must be a whole number from 1 to 3600, not '1h'", lines);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:8:22: error: 'txtt' in 'dns_guard.query_types' in site is not a query type", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:9:5: error: unknown key 'burst' in 'dns_guard' in site", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:10:10: error: the site's tunnel guard action is 'dns_guard", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:12:51: error: 'dns.guard' in camera 'cam1' must be report, drop or off, not 'maybe'", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_DohResolversAndEncryptedDnsRule_ReachTheSpecAndShow()
    {
        var result = PolicyTestHelpers.LoadOne("""
            site:
              doh_resolvers: [198.51.100.53, "2001:db8::53", Doh.Site.Example, "*.doh.example"]
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                rules:
                  - { id: dot, direction: egress, protocol: tcp, ports: 853, peer: 198.51.100.53, encrypted_dns: true }
                  - { id: cloud, direction: egress, protocol: tcp, ports: 443, peer: any }
            """);

        Assert.DoesNotContain(PolicyTestHelpers.Lines(result), l => l.Contains(": error: ", StringComparison.Ordinal));
        Assert.Equal(["198.51.100.53", "2001:db8::53", "doh.site.example", "*.doh.example"], result.Spec!.Site.DohResolvers);
        Assert.True(result.Spec.Cameras[0].Rules[0].EncryptedDns);
        Assert.False(result.Spec.Cameras[0].Rules[1].EncryptedDns);

        var compiled = CompiledPolicy.Compile(result.Spec, 1, new CameraSlotRegistry());
        Assert.True(compiled.EffectiveRules("cam1")[0].EncryptedDns); // read back from the compiled rule
        using var writer = new StringWriter();
        PolicyFormatter.WriteShow(writer, compiled);
        var text = writer.ToString();
        Assert.Contains("  encrypted dns    refused (port 853; port 443 to a DoH resolver) unless a rule says encrypted_dns: true; DoH resolvers 198.51.100.53, 2001:db8::53, doh.site.example, *.doh.example", text, StringComparison.Ordinal);
        Assert.Contains("  dns guard        report; 120 queries/min; labels up to 52, names up to 120; entropy up to 4.3 bits/char from 32 chars; 30 subdomains per parent per 60 s; query types a,ns,soa,ptr,aaaa,srv,svcb,https", text, StringComparison.Ordinal);
        Assert.Contains(text.Split('\n'), l => l.Contains("dot ", StringComparison.Ordinal) && l.Contains("encrypted-dns", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_BadDohResolvers_ReportedWithFileLineColumn()
    {
        var result = PolicyTestHelpers.LoadOne("""
            site:
              doh_resolvers: [1.1.1.1, 198.51.100.0/24, "fw*.doh.example", 1.1.1.1]
            cameras:
              cam1: { mac: "02:00:00:00:01:01", rules: [{ id: x, direction: egress, protocol: tcp, ports: 853, peer: any, encrypted_dns: yes }] }
            """);

        Assert.Null(result.Spec);
        var lines = PolicyTestHelpers.Lines(result);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:2:28: error: 'doh_resolvers' in site: '198.51.100.0/24' is neither an address nor a DNS name", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:2:45: error: 'doh_resolvers' in site: 'fw*.doh.example' is neither", StringComparison.Ordinal));
        Assert.Contains("test.yaml:2:64: error: '1.1.1.1' is listed twice in 'doh_resolvers' in site", lines);
        Assert.Contains(lines, l => l.Contains("'encrypted_dns' of rule 'x' in camera 'cam1' must be true or false, not 'yes'", StringComparison.Ordinal));
    }
}
