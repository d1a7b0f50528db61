using System.Net;
using System.Text;
using Appliance.Benchmarks.Policy;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Policy.Tests;

public class PolicyLoaderTests
{
    private static readonly PolicySource Networks = new("networks.yaml", """
        networks:
          nvr: [198.51.100.10, "2001:db8:100::10"]
          admins: 203.0.113.0/28
          management: [nvr, admins, 198.51.100.99]
        """);

    private static readonly PolicySource Profiles = new("profiles/cams.yaml", """
        profiles:
          base:
            dhcp: false
            rules:
              - { id: rtsp, direction: ingress, protocol: tcp, ports: [554, 8000-8010], peer: management }
          v6:
            ipv6: true
            discovery: [mdns]
            flow_quota: 64
            rules:
              - { id: ping6, direction: ingress, protocol: icmpv6, icmp_types: [echo-request, 1], peer: nvr }
        """);

    [Fact]
    public void Load_SeveralFiles_MergedAndResolved()
    {
        var cameras = new PolicySource("cameras/a.yaml", """
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                ip: 192.0.2.11
                profiles: [base]
                rules:
                  - { id: smtp, direction: egress, protocol: tcp, ports: 25, peer: 198.51.100.25, log: true, comment: alerts }
            """);

        var result = PolicyLoader.Load([cameras, Networks, Profiles]);

        Assert.Equal([], PolicyTestHelpers.Lines(result));
        var spec = result.Spec!;
        Assert.Equal(["cameras/a.yaml", "networks.yaml", "profiles/cams.yaml"], spec.Sources);
        var cam = Assert.Single(spec.Cameras);
        Assert.Equal(MacAddress.TryParse("02:00:00:00:01:01", out var mac) ? mac : default, cam.Mac);
        Assert.Equal([IPAddress.Parse("192.0.2.11")], cam.Addresses);
        Assert.Equal(["base"], cam.Profiles);
        Assert.Equal(["rtsp", "smtp"], cam.Rules.Select(r => r.Id));

        var rtsp = cam.Rules[0];
        Assert.Equal(Direction.Ingress, rtsp.Direction);
        Assert.Equal(RuleProtocol.Tcp, rtsp.Protocol);
        Assert.Equal([new PortRange(554, 554), new PortRange(8000, 8010)], rtsp.Ports);
        Assert.Equal(
            ["198.51.100.10/32", "2001:db8:100::10/128", "203.0.113.0/28", "198.51.100.99/32"],
            rtsp.Peers.Select(p => p.ToString()));
        Assert.Equal("profiles/cams.yaml:5:9 (profile 'base')", rtsp.Origin);

        var smtp = cam.Rules[1];
        Assert.True(smtp.Log);
        Assert.Equal("alerts", smtp.Comment);
        Assert.Equal("cameras/a.yaml:7:9 (camera 'cam1')", smtp.Origin);

        // The profile turned DHCP off; the rest are site defaults.
        Assert.False(cam.AllowDhcp);
        Assert.True(cam.AllowArp);
        Assert.False(cam.AllowIpv6);
        Assert.Equal(DiscoveryProtocols.None, cam.Discovery);
        Assert.Null(cam.FlowQuota);
        Assert.Equal(CameraMode.Enforce, cam.Mode);
    }

    [Fact]
    public void Load_Allowances_CameraBeatsProfilesBeatSite()
    {
        var site = new PolicySource("site.yaml", """
            site:
              unknown_devices: monitor
              dhcp: false
              discovery: [ssdp]
              flow_quota: 500
            """);
        var cameras = new PolicySource("cameras.yaml", """
            cameras:
              plain: { mac: 02:00:00:00:01:01, rules: [ { id: r, direction: egress, protocol: any, peer: nvr } ] }
              six: { mac: 02:00:00:00:01:02, ip: "2001:db8:1::2", profiles: [v6] }
              six-off: { mac: 02:00:00:00:01:03, profiles: [base, v6], ipv6: false, flow_quota: 9, dhcp: true, mode: monitor }
            """);

        var result = PolicyLoader.Load([site, Networks, Profiles, cameras]);

        Assert.False(result.HasErrors, string.Join('\n', PolicyTestHelpers.Lines(result)));
        var spec = result.Spec!;
        Assert.Equal(UnknownDeviceMode.Monitor, spec.Site.UnknownDevices);
        var plain = spec.Cameras.Single(c => c.Name == "plain");
        Assert.Equal((false, false, DiscoveryProtocols.Ssdp, (int?)500), (plain.AllowDhcp, plain.AllowIpv6, plain.Discovery, plain.FlowQuota));
        var six = spec.Cameras.Single(c => c.Name == "six");
        Assert.Equal((true, DiscoveryProtocols.Mdns, (int?)64), (six.AllowIpv6, six.Discovery, six.FlowQuota));
        Assert.Equal([(byte)128, (byte)1], six.Rules[0].IcmpTypes);
        var off = spec.Cameras.Single(c => c.Name == "six-off");
        Assert.Equal((false, true, (int?)9, CameraMode.Monitor), (off.AllowIpv6, off.AllowDhcp, off.FlowQuota, off.Mode));

        // The v6 profile's ICMPv6 rule cannot match on six-off: one warning at the rule.
        Assert.Equal(
            ["profiles/cams.yaml:11:9: warning: rule 'ping6' in profile 'v6' can never match on 1 camera(s) with IPv6 off (first: 'six-off'): it is IPv6 only"],
            PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void Load_ClashesAcrossFiles_ReportedWithBothLocations()
    {
        var north = new PolicySource("cameras/north.yaml", """
            site: { unknown_devices: deny }
            networks: { nvr: 198.51.100.10 }
            profiles: { base: { rules: [] } }
            cameras:
              gate: { mac: 02:00:00:00:01:01, ip: 192.0.2.11, profiles: [base] }
            """);
        var south = new PolicySource("cameras/south.yaml", """
            site: { unknown_devices: monitor }
            networks: { nvr: 198.51.100.11 }
            profiles: { base: { rules: [] } }
            cameras:
              gate: { mac: 02:00:00:00:01:09, ip: 192.0.2.19, profiles: [base] }
              yard: { mac: 02:00:00:00:01:01, ip: 192.0.2.11, profiles: [base] }
            """);

        var result = PolicyLoader.Load([south, north]);

        Assert.Null(result.Spec);
        Assert.Equal(
            [
                "cameras/north.yaml:5:3: warning: camera 'gate' has no rules (no profiles, no rules of its own): it may only use ARP and DHCP",
                "cameras/south.yaml:1:1: error: site settings are already given at cameras/north.yaml:1:1; keep one 'site' section",
                "cameras/south.yaml:2:13: error: network 'nvr' is already defined at cameras/north.yaml:2:13",
                "cameras/south.yaml:3:13: error: profile 'base' is already defined at cameras/north.yaml:3:13",
                "cameras/south.yaml:5:3: error: camera 'gate' is already defined at cameras/north.yaml:5:3",
                "cameras/south.yaml:6:3: warning: camera 'yard' has no rules (no profiles, no rules of its own): it may only use ARP and DHCP",
                "cameras/south.yaml:6:16: error: cameras 'gate' and 'yard' overlap: both have MAC 02:00:00:00:01:01 (first at cameras/north.yaml:5:16)",
                "cameras/south.yaml:6:39: error: cameras 'gate' and 'yard' overlap: both have IP 192.0.2.11 (first at cameras/north.yaml:5:39)",
            ],
            PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void Load_SourceOrder_DoesNotChangeResultOrHash()
    {
        var cameras = new PolicySource("cameras.yaml", "cameras:\n  c: { mac: 02:00:00:00:01:01, profiles: [base] }\n");

        var one = PolicyLoader.Load([Networks, Profiles, cameras]);
        var two = PolicyLoader.Load([cameras, Profiles, Networks]);

        Assert.Equal(64, one.Spec!.Sha256.Length);
        Assert.Equal(one.Spec.Sha256, two.Spec!.Sha256);
        Assert.Equal(one.Spec.Sources, two.Spec.Sources);
    }

    [Fact]
    public void Load_BadEntries_EachReportedWithoutThrowing()
    {
        // Two-byte characters: over the cap in UTF-8 bytes, under it in chars.
        var big = new string('\u00E9', (PolicyLimits.MaxFileBytes / 2) + 1);

        var result = PolicyLoader.Load(
        [
            null!,
            new("../x.yaml", ""),
            new("a.yaml", "networks: { nvr: 198.51.100.10 }\n"),
            new("a.yaml", ""),
            new("big.yaml", big),
            new("empty.yaml", null!),
        ]);

        Assert.Null(result.Spec);
        Assert.Equal(
            [
                "(policy):1:1: error: a policy file entry is empty (null)",
                "../x.yaml:1:1: error: a policy file name must be a relative path ending in .yaml or .yml, without '..'",
                "a.yaml:1:1: error: two policy files have this name",
                $"big.yaml:1:1: error: file is {PolicyLimits.MaxFileBytes + 2} bytes, more than the limit of {PolicyLimits.MaxFileBytes}; the file is not read",
            ],
            PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void ComputeSha256_AnyByteOrNameChange_ChangesHash()
    {
        var baseline = PolicyLoader.ComputeSha256([new("a.yaml", "x: 1\n"), new("b.yaml", "")]);

        Assert.NotEqual(baseline, PolicyLoader.ComputeSha256([new("a.yaml", "x: 2\n"), new("b.yaml", "")]));
        Assert.NotEqual(baseline, PolicyLoader.ComputeSha256([new("a.yml", "x: 1\n"), new("b.yaml", "")]));

        // Framing: moving bytes from one file's end to the next file's name must not collide.
        Assert.NotEqual(
            PolicyLoader.ComputeSha256([new("a.yaml", "b"), new("c.yaml", "")]),
            PolicyLoader.ComputeSha256([new("a.yaml", ""), new("bc.yaml", "")]));
    }

    [Fact]
    public void LoadDirectory_ReadsYamlRecursivelySkippingHiddenAndOtherFiles()
    {
        var dir = Directory.CreateTempSubdirectory("camfw-policy-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "cameras", "north"));
            Directory.CreateDirectory(Path.Combine(dir.FullName, ".git"));
            File.WriteAllText(Path.Combine(dir.FullName, "networks.yaml"), Networks.Text);
            File.WriteAllText(Path.Combine(dir.FullName, "profiles.yml"), Profiles.Text);
            File.WriteAllText(Path.Combine(dir.FullName, "cameras", "north", "gate.yaml"), "cameras:\n  gate: { mac: 02:00:00:00:01:01, profiles: [base] }\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

            // None of these may be read: an editor's lock file, a hidden folder, notes.
            File.WriteAllText(Path.Combine(dir.FullName, "cameras", ".#gate.yaml"), "garbage: [");
            File.WriteAllText(Path.Combine(dir.FullName, ".git", "x.yaml"), "garbage: [");
            File.WriteAllText(Path.Combine(dir.FullName, "README.txt"), "garbage: [");

            var result = PolicyLoader.LoadDirectory(dir.FullName);

            Assert.Equal([], PolicyTestHelpers.Lines(result));
            Assert.Equal(["cameras/north/gate.yaml", "networks.yaml", "profiles.yml"], result.Spec!.Sources);

            // The same text through the in-memory API gives the same hash; a byte-order mark (on gate.yaml on disk,
            // on networks.yaml here) is not part of the policy.
            var inMemory = PolicyLoader.Load(
            [
                new("networks.yaml", "\uFEFF" + Networks.Text),
                new("profiles.yml", Profiles.Text),
                new("cameras/north/gate.yaml", "cameras:\n  gate: { mac: 02:00:00:00:01:01, profiles: [base] }\n"),
            ]);
            Assert.Equal(inMemory.Spec!.Sha256, result.Spec.Sha256);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void LoadDirectory_BadFiles_EachReportedByName()
    {
        var dir = Directory.CreateTempSubdirectory("camfw-policy-");
        try
        {
            File.WriteAllBytes(Path.Combine(dir.FullName, "latin1.yaml"), [(byte)'a', (byte)':', (byte)' ', 0xE9, (byte)'\n']);
            File.WriteAllText(Path.Combine(dir.FullName, "huge.yaml"), new string('#', PolicyLimits.MaxFileBytes + 1));
            File.WriteAllText(Path.Combine(dir.FullName, "ok.yaml"), "networks: { nvr: 198.51.100.10 }\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

            var result = PolicyLoader.LoadDirectory(dir.FullName);

            Assert.Equal(
                [
                    $"huge.yaml:1:1: error: file is {PolicyLimits.MaxFileBytes + 1} bytes, more than the limit of {PolicyLimits.MaxFileBytes}; the file is not read",
                    "latin1.yaml:1:1: error: file is not valid UTF-8",
                ],
                PolicyTestHelpers.Lines(result));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void LoadDirectory_MissingOrEmpty_IsAnError()
    {
        var dir = Directory.CreateTempSubdirectory("camfw-policy-");
        try
        {
            var empty = PolicyLoader.LoadDirectory(dir.FullName);
            var missing = PolicyLoader.LoadDirectory(Path.Combine(dir.FullName, "nope"));

            Assert.Equal([$"{dir.FullName}:1:1: error: no policy files (*.yaml) in the policy directory"], PolicyTestHelpers.Lines(empty));
            Assert.Equal([$"{Path.Combine(dir.FullName, "nope")}:1:1: error: policy directory not found"], PolicyTestHelpers.Lines(missing));
            Assert.True(empty.HasErrors);
            Assert.True(missing.HasErrors);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_LongChainOfNetworks_StopsAtNestingLimit()
    {
        // n0 includes n1, which includes n2, ... 200 levels: bounded, reported, never a deep recursion. Line 1 is
        // "networks:", so network nK is on line K + 2 and its value ("n(K+1)") starts after "  nK: ".
        var sb = new StringBuilder("networks:\n");
        for (var i = 0; i < 200; i++)
        {
            sb.Append("  n").Append(i).Append(": n").Append(i + 1).Append('\n');
        }

        sb.Append("  n200: 198.51.100.1\n");

        var result = PolicyTestHelpers.LoadOne(sb.ToString());

        Assert.Null(result.Spec);
        Assert.Equal(
            $"test.yaml:{PolicyLimits.MaxNetworkNesting + 2}:{6 + PolicyLimits.MaxNetworkNesting.ToString(System.Globalization.CultureInfo.InvariantCulture).Length}: error: networks include each other more than {PolicyLimits.MaxNetworkNesting} levels deep at network 'n{PolicyLimits.MaxNetworkNesting + 1}'",
            PolicyTestHelpers.Lines(result)[0]);
    }

    [Fact]
    public void Load_TenThousandCameras_LoadsWithoutDiagnostics()
    {
        var result = PolicyLoader.Load(SyntheticPolicy.Generate(10_000));

        Assert.Equal([], PolicyTestHelpers.Lines(result).Take(5));
        Assert.Equal(10_000, result.Spec!.Cameras.Count);
        Assert.Equal(["rtsp", "dahua-sdk", "dns-ntp", "smtp"], result.Spec.Cameras[100].Rules.Select(r => r.Id));
    }
}
