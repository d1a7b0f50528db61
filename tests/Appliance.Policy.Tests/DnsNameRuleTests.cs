using System.Net;
using Appliance.Core.Policy;

namespace Appliance.Policy.Tests;

/// <summary>DNS names and wildcards as rule peers, and <c>dns_min_ttl</c> (issue 15: names in rules).</summary>
public class DnsNameRuleTests
{
    private const string Policy = """
        site:
          dns_min_ttl: 60
        networks:
          nvr: 198.51.100.10
        profiles:
          vendor:
            rules:
              - { id: ntp, direction: egress, protocol: udp, ports: [123], peer: [Time.Vendor.Example] }
              - { id: firmware, direction: egress, protocol: tcp, ports: [443], peer: ["*.fw.vendor.example", nvr, 1password.example.] }
        cameras:
          cam1:
            mac: 02:00:00:00:01:01
            profiles: [vendor]
            rules:
              - { id: cloud, direction: egress, protocol: tcp, ports: [8443], peer: [p2p.vendor.example] }
        """;

    [Fact]
    public void Load_NamesInProfilesAndCameras_MixedWithAddresses_ReachTheSpec()
    {
        var result = PolicyTestHelpers.LoadOne(Policy);

        Assert.DoesNotContain(PolicyTestHelpers.Lines(result), l => l.Contains(": error: ", StringComparison.Ordinal));
        var rules = result.Spec!.Cameras[0].Rules;
        Assert.Equal(["time.vendor.example"], rules[0].Names);
        Assert.Empty(rules[0].Peers);
        Assert.Equal(["*.fw.vendor.example", "1password.example"], rules[1].Names);
        Assert.Equal([IPNetwork.Parse("198.51.100.10/32")], rules[1].Peers);
        Assert.Equal(["p2p.vendor.example"], rules[2].Names);
        Assert.Equal(TimeSpan.FromSeconds(60), result.Spec.Site.DnsMinTtl);
    }

    [Fact]
    public void Load_NoDnsMinTtl_DefaultsToAtMostFiveMinutes()
    {
        var result = PolicyTestHelpers.LoadOne("cameras:\n  cam1: { mac: 02:00:00:00:01:01 }\n");
        Assert.Equal(SiteSpec.DefaultDnsMinTtl, result.Spec!.Site.DnsMinTtl);
        Assert.True(SiteSpec.DefaultDnsMinTtl <= TimeSpan.FromSeconds(300));
    }

    [Fact]
    public void Compile_NameRules_SurviveDecompilationWithTheirPorts()
    {
        var spec = PolicyTestHelpers.LoadOne(Policy).Spec!;
        var compiled = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry());

        var rules = compiled.EffectiveRules("cam1");
        Assert.Equal(["time.vendor.example"], rules[0].Names);
        Assert.Equal([new PortRange(123, 123)], rules[0].Ports);
        Assert.Equal(RuleProtocol.Udp, rules[0].Protocol);
        Assert.Equal([new PortRange(443, 443)], rules[1].Ports);
        Assert.Equal(["*.fw.vendor.example", "1password.example"], rules[1].Names);
        Assert.Contains("to 198.51.100.10,*.fw.vendor.example,1password.example [firmware]", PolicyFormatter.FormatRule(rules[1]), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BadNames_ReportedWithFileLineColumn()
    {
        var result = PolicyTestHelpers.LoadOne("""
            networks:
              cloud: [198.51.100.0/24, cloud.vendor.example]
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                rules:
                  - { id: a, direction: egress, protocol: tcp, peer: [time..vendor.example] }
                  - { id: b, direction: egress, protocol: tcp, peer: [fw*.vendor.example] }
                  - { id: c, direction: egress, protocol: tcp, peer: [vendor.123] }
                  - { id: d, direction: egress, protocol: tcp, peer: ["*.example"] }
                  - { id: e, direction: egress, protocol: tcp, peer: [bad_char!.example] }
            site:
              dns_min_ttl: 5m
            """);

        Assert.Null(result.Spec);
        var lines = PolicyTestHelpers.Lines(result);
        Assert.Contains("test.yaml:2:28: error: 'cloud.vendor.example' in network 'cloud' is a DNS name; names go directly in a rule's 'peer' (networks hold addresses only)", lines);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:7:59: error: ", StringComparison.Ordinal) && l.Contains("empty label", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:8:59: error: ", StringComparison.Ordinal) && l.Contains("'*' may only be the whole first label", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:9:59: error: ", StringComparison.Ordinal) && l.Contains("does not start with a letter", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:10:59: error: ", StringComparison.Ordinal) && l.Contains("single label", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:11:59: error: ", StringComparison.Ordinal) && l.Contains("has '!'", StringComparison.Ordinal));
        Assert.Contains("test.yaml:13:16: error: 'dns_min_ttl' in site must be a whole number of seconds from 0 to 86400, not '5m'", lines);
    }

    [Fact]
    public void Load_TooManyNamesForOneCamera_Refused()
    {
        var names = string.Join(", ", Enumerable.Range(0, 65).Select(i => $"h{i}.vendor.example"));
        var result = PolicyTestHelpers.LoadOne($$"""
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                rules:
                  - { id: many, direction: egress, protocol: tcp, peer: [{{names}}] }
            """);

        Assert.Null(result.Spec);
        Assert.Contains(PolicyTestHelpers.Lines(result), l => l.StartsWith("test.yaml:2:3: error: camera 'cam1' has 65 distinct DNS names", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("time.vendor.example", "time.vendor.example", true)]
    [InlineData("time.vendor.example", "xtime.vendor.example", false)]
    [InlineData("*.fw.vendor.example", "a.fw.vendor.example", true)]
    [InlineData("*.fw.vendor.example", "a.b.fw.vendor.example", true)]
    [InlineData("*.fw.vendor.example", "fw.vendor.example", false)]
    [InlineData("*.fw.vendor.example", "afw.vendor.example", false)]
    public void DnsNamePattern_Matches_ExactOrAtLeastOneMoreLabel(string pattern, string name, bool expected)
    {
        Assert.Equal(expected, DnsNamePattern.Parse(pattern).Matches(System.Text.Encoding.ASCII.GetBytes(name)));
    }
}
