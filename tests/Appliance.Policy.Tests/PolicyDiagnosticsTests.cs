namespace Appliance.Policy.Tests;

/// <summary>
/// Documents and the exact diagnostics they produce. Each expected line is what <c>camfw policy check</c> prints,
/// so a change to a message or a position shows up here.
/// </summary>
public class PolicyDiagnosticsTests
{
    public static TheoryData<string, string> Cases => new()
    {
        // A complete, valid camera: no diagnostics at all.
        {
            """
            networks:
              nvr: 198.51.100.10
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                ip: 192.0.2.11
                rules:
                  - id: rtsp
                    direction: ingress
                    protocol: tcp
                    ports: 554
                    peer: nvr
            """,
            ""
        },

        // A typo in a network name is an error at the name, with a suggestion.
        {
            """
            networks:
              nvr: 198.51.100.10
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                ip: 192.0.2.11
                rules:
                  - id: rtsp
                    direction: ingress
                    protocol: tcp
                    ports: 554
                    peer: nvrs
            """,
            "test.yaml:12:15: error: unknown network 'nvrs' in rule 'rtsp' in camera 'cam1'; did you mean 'nvr'?"
        },

        // An unknown profile, and a camera identified by IP alone (a warning).
        {
            """
            cameras:
              cam1:
                ip: 192.0.2.11
                profiles: [hikvison]
            """,
            """
            test.yaml:2:3: warning: camera 'cam1' is identified by IP alone: any device that takes 192.0.2.11 gets its rules (add its 'mac')
            test.yaml:4:16: error: unknown profile 'hikvison' in camera 'cam1'
            """
        },

        // Unknown keys at every level: a typo must never silently change a policy.
        {
            """
            camera:
              cam1: {}
            networks:
              nvr: 198.51.100.10
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                profile: [x]
                rules:
                  - id: rtsp
                    direction: ingress
                    protocol: tcp
                    prots: 554
                    peer: nvr
            """,
            """
            test.yaml:1:1: error: unknown key 'camera' in the file; did you mean 'cameras'?
            test.yaml:8:5: error: unknown key 'profile' in camera 'cam1'; did you mean 'profiles'?
            test.yaml:13:9: error: unknown key 'prots' in rule 'rtsp' in camera 'cam1'; did you mean 'ports'?
            """
        },

        // Bad identities: MAC syntax, multicast MAC, an IPv4 address with a missing part, a prefix instead of an address.
        {
            """
            cameras:
              a:
                mac: 02:00:00:00:01
              b:
                mac: 01:00:5e:00:00:01
              c:
                mac: 02:00:00:00:01:03
                ip: 192.0.2
              d:
                mac: 02:00:00:00:01:04
                ip: 192.0.2.0/24
            """,
            """
            test.yaml:3:10: error: '02:00:00:00:01' is not a valid MAC address for camera 'a' (write it like 02:00:00:00:01:01)
            test.yaml:5:10: error: 01:00:5e:00:00:01 is not a device's MAC address (multicast or broadcast) for camera 'b'
            test.yaml:8:9: error: camera 'c': '192.0.2' is not a valid IPv4 address (write all four parts, like 192.0.2.10)
            test.yaml:11:9: error: 'ip' in camera 'd' must be the camera's own address, not a prefix ('192.0.2.0/24')
            """
        },

        // Two cameras that share a MAC, two that share an IP.
        {
            """
            cameras:
              a: { mac: 02:00:00:00:01:01, ip: 192.0.2.11 }
              b: { mac: 02:00:00:00:01:01, ip: 192.0.2.12 }
              c: { mac: 02:00:00:00:01:03, ip: 192.0.2.11 }
            """,
            """
            test.yaml:2:3: warning: camera 'a' has no rules (no profiles, no rules of its own): it may only use ARP and DHCP
            test.yaml:3:3: warning: camera 'b' has no rules (no profiles, no rules of its own): it may only use ARP and DHCP
            test.yaml:3:13: error: cameras 'a' and 'b' overlap: both have MAC 02:00:00:00:01:01 (first at test.yaml:2:13)
            test.yaml:4:3: warning: camera 'c' has no rules (no profiles, no rules of its own): it may only use ARP and DHCP
            test.yaml:4:36: error: cameras 'a' and 'c' overlap: both have IP 192.0.2.11 (first at test.yaml:2:36)
            """
        },

        // Ports out of range, reversed, written as one string, not a number.
        {
            """
            networks: { nvr: 198.51.100.10 }
            profiles:
              p:
                rules:
                  - { id: a, direction: ingress, protocol: tcp, ports: 70000, peer: nvr }
                  - { id: b, direction: ingress, protocol: tcp, ports: 0, peer: nvr }
                  - { id: c, direction: ingress, protocol: tcp, ports: 8010-8000, peer: nvr }
                  - { id: d, direction: ingress, protocol: tcp, ports: "554, 80", peer: nvr }
                  - { id: e, direction: ingress, protocol: tcp, ports: [http], peer: nvr }
            """,
            """
            test.yaml:5:60: error: port 70000 is out of range (1-65535) in rule 'a' in profile 'p'
            test.yaml:6:60: error: port 0 is out of range (1-65535) in rule 'b' in profile 'p'
            test.yaml:7:60: error: port range 8010-8000 is reversed in rule 'c' in profile 'p' (write 8000-8010)
            test.yaml:8:60: error: 'ports' of rule 'd' in profile 'p': write several ports as a list, like [554, 80]
            test.yaml:9:61: error: 'http' is not a port or a port range like 8000-8010 in rule 'e' in profile 'p'
            """
        },

        // Rules that can never match: ports with icmp, ICMP types with tcp, icmp to IPv6 peers, icmpv6 to IPv4 peers.
        {
            """
            networks: { v6: "2001:db8::/32", v4: 198.51.100.0/24 }
            profiles:
              p:
                rules:
                  - { id: a, direction: ingress, protocol: icmp, ports: 7, peer: v4 }
                  - { id: b, direction: ingress, protocol: tcp, icmp_types: [8], peer: v4 }
                  - { id: c, direction: ingress, protocol: icmp, peer: v6 }
                  - { id: d, direction: ingress, protocol: icmpv6, icmp_types: [echo-request], peer: v4 }
            """,
            """
            test.yaml:5:61: error: rule 'a' in profile 'p' can never match: ports apply to tcp and udp, not icmp
            test.yaml:6:65: error: rule 'b' in profile 'p' can never match: 'icmp_types' needs protocol icmp or icmpv6, not tcp
            test.yaml:7:60: error: rule 'c' in profile 'p' can never match: icmp is IPv4 only but every peer is IPv6 (use icmpv6)
            test.yaml:8:90: error: rule 'd' in profile 'p' can never match: icmpv6 is IPv6 only but every peer is IPv4 (use icmp)
            """
        },

        // Bad peers: host bits set, a bad prefix length, an unknown ICMP type name.
        {
            """
            profiles:
              p:
                rules:
                  - { id: a, direction: egress, protocol: tcp, ports: 443, peer: 192.0.2.5/24 }
                  - { id: b, direction: egress, protocol: tcp, ports: 443, peer: "2001:db8::/129" }
                  - { id: c, direction: egress, protocol: icmp, icmp_types: [ping], peer: 192.0.2.1 }
            """,
            """
            test.yaml:4:70: error: rule 'a' in profile 'p': '192.0.2.5/24' has host bits set; did you mean 192.0.2.0/24?
            test.yaml:5:70: error: rule 'b' in profile 'p': '2001:db8::/129' has a bad prefix length (0-128 for IPv6)
            test.yaml:6:66: error: 'ping' is not an ICMP type (a number 0-255 or a name like echo-request) in rule 'c' in profile 'p'
            """
        },

        // An IPv4-mapped IPv6 peer is refused: IPv4 has one spelling.
        {
            """
            profiles:
              p: { rules: [ { id: a, direction: egress, protocol: udp, ports: 53, peer: "::ffff:198.51.100.2" } ] }
            """,
            "test.yaml:2:77: error: rule 'a' in profile 'p': '::ffff:198.51.100.2' is an IPv4-mapped IPv6 address; write it as IPv4 (198.51.100.2)"
        },

        // Wrong types and missing required keys.
        {
            """
            networks: { nvr: 198.51.100.10 }
            profiles:
              p:
                rules:
                  - id: a
                    direction: ingress
                    protocol: tcp
                    ports: { from: 1 }
                    peer: nvr
                    log: yes
                  - id: b
                    direction: egres
                  - just-a-string
            """,
            """
            test.yaml:8:16: error: 'ports' of rule 'a' in profile 'p' must be a value or a list of values, not a mapping
            test.yaml:10:14: error: 'log' of rule 'a' in profile 'p' must be true or false, not 'yes'
            test.yaml:11:9: error: rule 'b' in profile 'p' is missing 'protocol' (tcp, udp, icmp, icmpv6 or any)
            test.yaml:11:9: error: rule 'b' in profile 'p' is missing 'peer' (a network name, an address, a CIDR, a DNS name or *.wildcard; 'any' for anywhere)
            test.yaml:12:20: error: 'direction' of rule 'b' in profile 'p' must be egress or ingress, not 'egres'
            test.yaml:13:9: error: rule #3 in profile 'p' must be a mapping (id, direction, protocol, peer, ...), not a single value
            """
        },

        // Networks that include each other in a cycle.
        {
            """
            networks:
              a: [198.51.100.1, b]
              b: [c]
              c: [a]
            """,
            """
            test.yaml:4:7: error: network 'c' includes network 'a', which includes it: a cycle (a -> b -> c -> a); remove one of the includes
            """
        },

        // An empty network is reported once, not again at every rule that uses it.
        {
            """
            networks:
              nvr:
            profiles:
              p: { rules: [ { id: a, direction: ingress, protocol: tcp, ports: 554, peer: nvr } ] }
            """,
            "test.yaml:2:7: error: network 'nvr' must be a value or a list of values, not empty"
        },

        // A duplicate key inside one mapping.
        {
            """
            networks:
              nvr: 198.51.100.10
              nvr: 198.51.100.11
            """,
            "test.yaml:3:3: error: duplicate key 'nvr' (first at line 2, column 3)"
        },

        // Risky rules are warnings: egress to anywhere, ingress from anywhere.
        {
            """
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                rules:
                  - { id: out, direction: egress, protocol: tcp, ports: 443, peer: 0.0.0.0/0 }
                  - { id: in, direction: ingress, protocol: tcp, ports: 22, peer: any }
            """,
            """
            test.yaml:5:72: warning: rule 'out' in camera 'cam1' lets the camera open connections to anywhere (0.0.0.0/0)
            test.yaml:6:71: warning: rule 'in' in camera 'cam1' lets anyone open connections to the camera (0.0.0.0/0)
            """
        },

        // IPv6 is off by default: an IPv6 camera address and an IPv6-only rule of the camera's own are errors.
        {
            """
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                ip: ["192.0.2.11", "2001:db8:1::11"]
                rules:
                  - { id: v6, direction: egress, protocol: udp, ports: 123, peer: "2001:db8::123" }
            """,
            """
            test.yaml:4:24: error: camera 'cam1' has IPv6 address 2001:db8:1::11 but IPv6 is off for it; set 'ipv6: true' on the camera or one of its profiles
            test.yaml:6:9: error: rule 'v6' in camera 'cam1' can never match: it is IPv6 only and IPv6 is off for the camera
            """
        },

        // A profile rule that is IPv6 only on IPv6-off cameras is a warning once per rule, with a count.
        {
            """
            profiles:
              p:
                rules:
                  - { id: v4, direction: egress, protocol: udp, ports: 123, peer: 198.51.100.2 }
                  - { id: v6, direction: egress, protocol: udp, ports: 123, peer: "2001:db8::123" }
            cameras:
              a: { mac: 02:00:00:00:01:01, profiles: [p] }
              b: { mac: 02:00:00:00:01:02, profiles: [p] }
              c: { mac: 02:00:00:00:01:03, profiles: [p], ipv6: true }
            """,
            "test.yaml:5:9: warning: rule 'v6' in profile 'p' can never match on 2 camera(s) with IPv6 off (first: 'a'): it is IPv6 only"
        },

        // Rule ids must be unique per camera: between two profiles, and between a profile and the camera's own rules.
        {
            """
            networks: { ntp: 198.51.100.2 }
            profiles:
              p: { rules: [ { id: ntp, direction: egress, protocol: udp, ports: 123, peer: ntp } ] }
              q: { rules: [ { id: ntp, direction: egress, protocol: udp, ports: 123, peer: ntp } ] }
            cameras:
              a:
                mac: 02:00:00:00:01:01
                profiles: [p, q]
              b:
                mac: 02:00:00:00:01:02
                profiles: [p]
                rules: [ { id: ntp, direction: egress, protocol: udp, ports: 123, peer: ntp } ]
            """,
            """
            test.yaml:8:19: error: rule id 'ntp' is defined twice for camera 'a': in profile 'p' (test.yaml:3:23) and in profile 'q' (test.yaml:4:23)
            test.yaml:12:20: error: rule id 'ntp' is defined twice for camera 'b': in profile 'p' (test.yaml:3:23) and here
            """
        },

        // A camera needs an identity; a camera listed twice; one profile listed twice.
        {
            """
            profiles:
              p: { rules: [] }
            cameras:
              a: { comment: no identity }
              b: { mac: 02:00:00:00:01:02, profiles: [p, p] }
            """,
            """
            test.yaml:4:3: error: camera 'a' needs a 'mac', an 'ip' or both to be recognised
            test.yaml:5:46: error: profile 'p' is listed twice in camera 'b'
            """
        },

        // Wrong shapes for sections and settings.
        {
            """
            site:
              unknown_devices: allow
              discovery: [upnp]
              flow_quota: lots
            networks: [198.51.100.1]
            cameras:
              cam1: 02:00:00:00:01:01
            """,
            """
            test.yaml:2:20: error: 'unknown_devices' must be deny or monitor, not 'allow'
            test.yaml:3:15: error: unknown discovery protocol 'upnp' in site (expected ws-discovery, ssdp, mdns or none)
            test.yaml:4:15: error: 'flow_quota' in site must be a whole number from 1 to 1000000, not 'lots'
            test.yaml:5:11: error: 'networks' must be a mapping of names to definitions, not a list
            test.yaml:7:9: error: camera 'cam1' must be a mapping (mac, ip, profiles, ...), not a single value
            """
        },

        // YAML syntax errors are reported where the parser stopped.
        {
            """
            cameras:
              cam1:
                mac: [02:00:00:00:01:01
            """,
            "test.yaml:4:1: error: YAML syntax: While parsing a flow sequence, did not find expected ',' or ']'."
        },

        // Anchors, aliases and tags are refused outright.
        {
            """
            networks:
              nvr: &n 198.51.100.10
            """,
            "test.yaml:2:8: error: anchors (&n) are not allowed in policy files; write the value out"
        },
        {
            """
            networks:
              nvr: !!python/object:os.system 198.51.100.10
            """,
            "test.yaml:2:8: error: YAML tags (tag:yaml.org,2002:python/object:os.system) are not allowed in policy files"
        },

        // One document per file.
        {
            """
            networks: { a: 198.51.100.1 }
            ---
            networks: { b: 198.51.100.2 }
            """,
            "test.yaml:2:1: error: a policy file holds one YAML document; split it into several files instead of using '---'"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Load_Document_ProducesExactDiagnostics(string yaml, string expected)
    {
        var result = PolicyTestHelpers.LoadOne(yaml);

        Assert.Equal(expected.ReplaceLineEndings("\n"), string.Join('\n', PolicyTestHelpers.Lines(result)));
        Assert.Equal(result.Diagnostics.Any(d => d.Severity == Severity.Error), result.Spec is null);
    }
}
