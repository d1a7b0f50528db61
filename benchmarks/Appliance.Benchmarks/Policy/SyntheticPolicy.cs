using System.Globalization;
using System.Text;
using Appliance.Policy;

namespace Appliance.Benchmarks.Policy;

/// <summary>
/// Generates a large, realistic policy as YAML text in memory: a few profiles, networks, and cameras spread over
/// files of at most 1,000 cameras (each well under the 1 MiB file cap). Shared by the compile benchmark and the
/// policy tests (linked there) so both measure and check the same input.
/// </summary>
public static class SyntheticPolicy
{
    public static IReadOnlyList<PolicySource> Generate(int cameras, int camerasPerFile = 1000)
    {
        var sources = new List<PolicySource>
        {
            new("site.yaml", "site:\n  unknown_devices: deny\n  dhcp: true\n"),
            new("networks.yaml", """
                networks:
                  nvr: [198.51.100.10, 198.51.100.11, "2001:db8:100::10"]
                  dns-ntp: 198.51.100.2
                  admins: [203.0.113.0/28, "2001:db8:200::/64"]
                  mail-relay: 198.51.100.25
                """),
            new("profiles.yaml", """
                profiles:
                  hikvision:
                    rules:
                      - { id: rtsp, direction: ingress, protocol: tcp, ports: 554, peer: nvr }
                      - { id: http, direction: ingress, protocol: tcp, ports: 80, peer: nvr }
                      - { id: sdk, direction: ingress, protocol: tcp, ports: 8000, peer: nvr }
                      - { id: https, direction: ingress, protocol: tcp, ports: 443, peer: admins, log: true }
                      - { id: dns, direction: egress, protocol: udp, ports: 53, peer: dns-ntp }
                      - { id: ntp, direction: egress, protocol: udp, ports: 123, peer: dns-ntp }
                  dahua:
                    rules:
                      - { id: rtsp, direction: ingress, protocol: tcp, ports: 554, peer: nvr }
                      - { id: dahua-sdk, direction: ingress, protocol: tcp, ports: 37777, peer: nvr }
                      - { id: dns-ntp, direction: egress, protocol: udp, ports: [53, 123], peer: dns-ntp }
                  onvif:
                    discovery: [ws-discovery]
                    rules:
                      - { id: onvif, direction: ingress, protocol: tcp, ports: [80, 554], peer: nvr }
                      - { id: rtp, direction: egress, protocol: udp, ports: 1024-65535, peer: nvr }
                """),
        };

        string[] profiles = ["hikvision", "dahua", "onvif"];
        var sb = new StringBuilder();
        for (var first = 0; first < cameras; first += camerasPerFile)
        {
            sb.Clear().Append("cameras:\n");
            for (var i = first; i < Math.Min(cameras, first + camerasPerFile); i++)
            {
                // 198.18.0.0/15 is the range RFC 2544 sets aside for benchmarks: room for 131,070 cameras.
                var n = i + 1;
                sb.Append(CultureInfo.InvariantCulture, $"  cam-{n:D6}:\n");
                sb.Append(CultureInfo.InvariantCulture, $"    mac: 02:00:{(n >> 24) & 0xFF:x2}:{(n >> 16) & 0xFF:x2}:{(n >> 8) & 0xFF:x2}:{n & 0xFF:x2}\n");
                sb.Append(CultureInfo.InvariantCulture, $"    ip: 198.{18 + ((n >> 16) & 1)}.{(n >> 8) & 0xFF}.{n & 0xFF}\n");
                sb.Append(CultureInfo.InvariantCulture, $"    profiles: [{profiles[i % profiles.Length]}]\n");
                if (i % 100 == 0)
                {
                    sb.Append("    rules:\n      - { id: smtp, direction: egress, protocol: tcp, ports: 25, peer: mail-relay }\n");
                }
            }

            sources.Add(new PolicySource(string.Create(CultureInfo.InvariantCulture, $"cameras/part-{first / camerasPerFile:D3}.yaml"), sb.ToString()));
        }

        return sources;
    }
}
