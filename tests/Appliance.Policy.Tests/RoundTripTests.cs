using System.Net;
using System.Net.Sockets;
using Appliance.Benchmarks.Policy;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Policy.Tests;

/// <summary>
/// Policy text -> spec -> compiled tables -> rules read back from the tables. What <c>policy show</c> prints comes
/// from the tables, so these tests prove the tables say what the files say.
/// </summary>
public class RoundTripTests
{
    [Fact]
    public void Compile_ExampleSite_TablesSayWhatTheFilesSay()
    {
        var spec = PolicyLoader.LoadDirectory(PolicyTestHelpers.ExamplePolicyDirectory).Spec!;

        var compiled = CompiledPolicy.Compile(spec, 7, new CameraSlotRegistry());

        Assert.Equal(spec.Sha256, compiled.Sha256);
        Assert.Equal(spec.Cameras.Select(c => c.Name), compiled.Cameras.Select(c => c.Name));
        foreach (var camera in spec.Cameras)
        {
            AssertSameRules(camera.Name, camera.Rules, compiled.EffectiveRules(camera.Name));
        }
    }

    [Fact]
    public void Compile_SyntheticPolicy_TablesSayWhatTheFilesSay()
    {
        var spec = PolicyLoader.Load(SyntheticPolicy.Generate(300)).Spec!;

        var compiled = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry());

        foreach (var camera in spec.Cameras)
        {
            AssertSameRules(camera.Name, camera.Rules, compiled.EffectiveRules(camera.Name));
        }
    }

    [Fact]
    public void WriteShow_OneCamera_PrintsItsEffectiveAllowlist()
    {
        var spec = PolicyLoader.LoadDirectory(PolicyTestHelpers.ExamplePolicyDirectory).Spec!;
        var compiled = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry());
        using var writer = new StringWriter();

        var found = PolicyFormatter.WriteShow(writer, compiled, "north-dock");

        Assert.True(found);
        var expected = $"""
            policy sha256 {spec.Sha256}
              sources          cameras/north.yaml, cameras/south.yaml, networks.yaml, profiles/dahua.yaml, profiles/hikvision.yaml, profiles/onvif.yaml, site.yaml
              cameras          9
              unknown devices  deny
              dns guard        report; 120 queries/min; labels up to 52, names up to 120; entropy up to 4.3 bits/char from 32 chars; 30 subdomains per parent per 60 s; query types a,ns,soa,ptr,aaaa,srv,svcb,https
              encrypted dns    refused (port 853; port 443 to a DoH resolver) unless a rule says encrypted_dns: true; DoH resolvers 1.1.1.1, 1.0.0.1, 2606:4700:4700::1111, 2606:4700:4700::1001, cloudflare-dns.com, *.cloudflare-dns.com, 8.8.8.8, 8.8.4.4, 2001:4860:4860::8888, 2001:4860:4860::8844, dns.google, dns.google.com, 9.9.9.9, 149.112.112.112, 2620:fe::fe, 2620:fe::9, dns.quad9.net, *.quad9.net, 208.67.222.222, 208.67.220.220, 2620:119:35::35, 2620:119:53::53, doh.opendns.com, 94.140.14.14, 94.140.15.15, dns.adguard-dns.com, *.adguard-dns.com, dns.nextdns.io, *.nextdns.io, doh.cleanbrowsing.org

            camera north-dock
              identity  mac 02:00:00:00:01:02 ip 192.0.2.12 (bound: MAC and IP must match)
              mode      enforce
              profiles  hikvision
              allows    arp, dhcp; ipv6 off; discovery none; flow quota default
              dns       queries any; tunnel guard report
              rules
                rtsp-from-nvr      ingress  tcp   554           from 198.51.100.10,2001:db8:100::10         profiles/hikvision.yaml:6:9 (profile 'hikvision')  # the NVR pulls the video stream
                http-from-nvr      ingress  tcp   80            from 198.51.100.10,2001:db8:100::10         profiles/hikvision.yaml:12:9 (profile 'hikvision')
                sdk-from-nvr       ingress  tcp   8000          from 198.51.100.10,2001:db8:100::10         profiles/hikvision.yaml:17:9 (profile 'hikvision')  # Hikvision SDK (device management, events)
                https-from-admins  ingress  tcp   443           from 203.0.113.0/28,2001:db8:200::/64  log  profiles/hikvision.yaml:23:9 (profile 'hikvision')
                ping-from-admins   ingress  icmp  echo-request  from 203.0.113.0/28,2001:db8:200::/64       profiles/hikvision.yaml:29:9 (profile 'hikvision')
                dns                egress   udp   53            to 198.51.100.2                             profiles/hikvision.yaml:34:9 (profile 'hikvision')
                ntp                egress   udp   123           to 198.51.100.2                             profiles/hikvision.yaml:39:9 (profile 'hikvision')
                smtp-alerts        egress   tcp   25            to 198.51.100.25                       log  cameras/north.yaml:13:9 (camera 'north-dock')  # motion alerts by e-mail (ticket SEC-1432)

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), writer.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void WriteShow_UnknownCamera_ReturnsFalse()
    {
        var spec = PolicyLoader.LoadDirectory(PolicyTestHelpers.ExamplePolicyDirectory).Spec!;
        var compiled = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry());
        using var writer = new StringWriter();

        Assert.False(PolicyFormatter.WriteShow(writer, compiled, "north-gat"));
        Assert.Equal("", writer.ToString());
        Assert.True(PolicyFormatter.WriteShow(writer, compiled));
        Assert.Equal(9, writer.ToString().Split('\n').Count(l => l.StartsWith("camera ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("ingress tcp 554,8000-8010 from 198.51.100.10 [rtsp]", "rtsp", Direction.Ingress, RuleProtocol.Tcp, "554,8000-8010", "198.51.100.10/32")] // ports and a host
    [InlineData("egress udp any-port to any [any-udp] log", "any-udp", Direction.Egress, RuleProtocol.Udp, "", "0.0.0.0/0,::/0")] // anywhere, logged
    [InlineData("egress any to 2001:db8::/32 [v6]", "v6", Direction.Egress, RuleProtocol.Any, "", "2001:db8::/32")] // protocol any
    public void FormatRule_Rule_ReadsLikeThePolicy(string expected, string id, Direction direction, RuleProtocol protocol, string ports, string peers)
    {
        var rule = new RuleSpec
        {
            Id = id,
            Direction = direction,
            Protocol = protocol,
            Ports = ports.Length == 0 ? [] : ports.Split(',').Select(p => p.Split('-')).Select(p => new PortRange(ushort.Parse(p[0]), ushort.Parse(p[^1]))).ToArray(),
            Peers = peers.Split(',').Select(IPNetwork.Parse).ToArray(),
            Log = expected.EndsWith(" log", StringComparison.Ordinal),
        };

        Assert.Equal(expected, PolicyFormatter.FormatRule(rule));
    }

    private static void AssertSameRules(string camera, IReadOnlyList<RuleSpec> expected, IReadOnlyList<RuleSpec> actual)
    {
        Assert.True(expected.Count == actual.Count, $"camera {camera}: {expected.Count} rules in the spec, {actual.Count} in the tables");
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            var where = $"camera {camera}, rule {e.Id}";
            Assert.Equal((e.Id, e.Direction, e.Protocol, e.Log, e.Comment, e.Origin), (a.Id, a.Direction, a.Protocol, a.Log, a.Comment, a.Origin));
            Assert.True(PortSet(e.Ports).SetEquals(PortSet(a.Ports)), $"{where}: ports {PolicyFormatter.FormatPorts(e.Ports)} became {PolicyFormatter.FormatPorts(a.Ports)}");
            Assert.True(TypeSet(e).SetEquals(TypeSet(a)), $"{where}: ICMP types differ");
            Assert.True(Ranges(e.Peers).SequenceEqual(Ranges(a.Peers)), $"{where}: peers {PolicyFormatter.FormatPeers(e.Peers)} became {PolicyFormatter.FormatPeers(a.Peers)}");
        }
    }

    private static HashSet<int> PortSet(IReadOnlyList<PortRange> ports)
        => ports.Count == 0 ? [.. Enumerable.Range(0, 65536)] : [.. ports.SelectMany(p => Enumerable.Range(p.Low, p.High - p.Low + 1))];

    private static HashSet<int> TypeSet(RuleSpec rule)
        => rule.Protocol is RuleProtocol.Icmp or RuleProtocol.Icmpv6 && rule.IcmpTypes.Count == 0 ? [.. Enumerable.Range(0, 256)] : [.. rule.IcmpTypes.Select(t => (int)t)];

    /// <summary>The address ranges a peer list covers, merged, as (first, last) on the core's 128-bit scale.</summary>
    private static List<(UInt128 First, UInt128 Last)> Ranges(IReadOnlyList<IPNetwork> peers)
    {
        IEnumerable<IPNetwork> list = peers.Count == 0 ? [new IPNetwork(IPAddress.Any, 0), new IPNetwork(IPAddress.IPv6Any, 0)] : peers;
        var ranges = new List<(UInt128 First, UInt128 Last)>();
        foreach (var n in list)
        {
            var first = IpAddr.FromIPAddress(n.BaseAddress).Value;
            var hostBits = (n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128) - n.PrefixLength;
            var size = hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
            ranges.Add((first, first + size));
        }

        ranges.Sort();
        var merged = new List<(UInt128 First, UInt128 Last)>();
        foreach (var r in ranges)
        {
            if (merged.Count > 0 && (merged[^1].Last == UInt128.MaxValue || r.First <= merged[^1].Last + 1))
            {
                merged[^1] = (merged[^1].First, UInt128.Max(merged[^1].Last, r.Last));
            }
            else
            {
                merged.Add(r);
            }
        }

        return merged;
    }
}
