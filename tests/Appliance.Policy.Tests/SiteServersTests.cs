using System.Net;

namespace Appliance.Policy.Tests;

/// <summary>The site's <c>dhcp_servers</c> and <c>routers</c> (issue 12: DHCP server pinning, RA guard).</summary>
public class SiteServersTests
{
    [Fact]
    public void Load_DhcpServersAndRouters_ReachTheSpec()
    {
        var result = PolicyTestHelpers.LoadOne("""
            site:
              dhcp_servers: [198.51.100.2, 198.51.100.3]
              routers:
                - fe80::1
                - fe80::2
            cameras:
              cam1: { mac: 02:00:00:00:01:01 }
            """);

        Assert.DoesNotContain(PolicyTestHelpers.Lines(result), l => l.Contains(": error: ", StringComparison.Ordinal));
        Assert.Equal([IPAddress.Parse("198.51.100.2"), IPAddress.Parse("198.51.100.3")], result.Spec!.Site.DhcpServers);
        Assert.Equal([IPAddress.Parse("fe80::1"), IPAddress.Parse("fe80::2")], result.Spec.Site.Routers);
    }

    [Fact]
    public void Load_NoServersNamed_EmptyListsMeanAny()
    {
        var result = PolicyTestHelpers.LoadOne("""
            site:
              dhcp_servers:
            cameras:
              cam1: { mac: 02:00:00:00:01:01 }
            """);

        Assert.DoesNotContain(PolicyTestHelpers.Lines(result), l => l.Contains(": error: ", StringComparison.Ordinal));
        Assert.Empty(result.Spec!.Site.DhcpServers);
        Assert.Empty(result.Spec.Site.Routers);
    }

    [Fact]
    public void Load_BadServerAddresses_ReportedWithFileLineColumn()
    {
        var result = PolicyTestHelpers.LoadOne("""
            site:
              dhcp_servers: [198.51.100.2, "2001:db8::2", 255.255.255.255, 198.51.100.2, dhcp-host]
              routers: ["2001:db8::1", "fe80::1", "fe80::1"]
            cameras:
              cam1: { mac: 02:00:00:00:01:01 }
            """);

        Assert.Null(result.Spec);
        Assert.Equal(
            [
                "test.yaml:2:32: error: 'dhcp_servers' in site must list IPv4 host addresses (DHCP servers answer over IPv4), not '2001:db8::2'",
                "test.yaml:2:47: error: 'dhcp_servers' in site must list IPv4 host addresses (DHCP servers answer over IPv4), not '255.255.255.255'",
                "test.yaml:2:64: error: 198.51.100.2 is listed twice in 'dhcp_servers' in site",
            ],
            PolicyTestHelpers.Lines(result).Take(3));
        var lines = PolicyTestHelpers.Lines(result);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:2:78: error: 'dhcp_servers' in site: ", StringComparison.Ordinal));
        Assert.Contains("test.yaml:3:13: error: 'routers' in site must list the link-local address (fe80::/10) each router advertises from, not '2001:db8::1'", lines);
        Assert.Contains("test.yaml:3:39: error: fe80::1 is listed twice in 'routers' in site", lines);
        Assert.Equal(6, lines.Count(l => l.Contains(": error: ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Load_TooManyServers_Refused()
    {
        var many = string.Join(", ", Enumerable.Range(1, 33).Select(i => $"198.51.100.{i}"));
        var result = PolicyTestHelpers.LoadOne($$"""
            site:
              dhcp_servers: [{{many}}]
            """);

        var line = Assert.Single(PolicyTestHelpers.Lines(result));
        Assert.Contains("'dhcp_servers' in site lists 33 addresses; at most 32 are allowed", line, StringComparison.Ordinal);
    }
}
