using System.Net;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Lab;

/// <summary>
/// Checks that the policy the lab loads still describes the hosts the lab plays: the example site's cameras with
/// their MACs and addresses, an NVR that may pull their streams, the DNS/NTP server and admins they allow, and a
/// vendor cloud, internet host and rogue device that no rule covers. A policy edited away from that (or another
/// site given with <c>--policies</c>) still runs, but the lab says which of its expectations no longer hold.
/// </summary>
internal static class LabSiteCheck
{
    public static IReadOnlyList<string> Mismatches(LabSite site, PolicySpec policy)
    {
        var problems = new List<string>();
        foreach (var host in site.Cameras)
        {
            var camera = policy.Cameras.FirstOrDefault(c => c.Name == host.Name);
            if (camera is null)
            {
                problems.Add($"camera {host.Name} is not in the policy");
                continue;
            }

            if (camera.Mac is not { } mac || !MacAddress.TryParse(host.Mac, out var expected) || mac != expected)
            {
                problems.Add($"camera {host.Name}: the policy has MAC {camera.Mac?.ToString() ?? "(none)"}, the lab uses {host.Mac}");
            }

            if (!camera.Addresses.Contains(host.Address))
            {
                problems.Add($"camera {host.Name}: the policy does not list {host.Address}");
            }

            if (camera.Mode != CameraMode.Enforce)
            {
                problems.Add($"camera {host.Name} is in monitor mode: nothing it does is dropped");
            }

            Expect(problems, camera, Direction.Ingress, RuleProtocol.Tcp, 554, site.Nvr.Address, true, "the NVR's stream");
            Expect(problems, camera, Direction.Egress, RuleProtocol.Udp, 53, site.DnsNtp.Address, true, "DNS");
            Expect(problems, camera, Direction.Egress, RuleProtocol.Udp, 123, site.DnsNtp.Address, true, "NTP");
            Expect(problems, camera, Direction.Ingress, RuleProtocol.Tcp, 443, site.Admin.Address, true, "the admins' HTTPS");
            Expect(problems, camera, Direction.Ingress, RuleProtocol.Tcp, 80, site.Internet.Address, false, "the internet host's web request");
            if (host == site.PhoningCamera)
            {
                Expect(problems, camera, Direction.Egress, RuleProtocol.Tcp, 443, site.Cloud.Address, false, "the phone-home");
            }
        }

        if (policy.Cameras.Any(c => c.Addresses.Contains(site.Rogue.Address) || (MacAddress.TryParse(site.Rogue.Mac, out var rogue) && c.Mac == rogue)))
        {
            problems.Add($"the rogue device {site.Rogue.Mac} {site.Rogue.Address} is listed in the policy");
        }

        if (policy.Site.UnknownDevices != UnknownDeviceMode.Deny)
        {
            problems.Add("unknown devices are monitored, not denied: the rogue device gets through");
        }

        return problems;
    }

    private static void Expect(List<string> problems, CameraSpec camera, Direction direction, RuleProtocol protocol, ushort port, IPAddress peer, bool allowed, string what)
    {
        var match = camera.Rules.FirstOrDefault(r => r.Direction == direction
            && (r.Protocol == protocol || r.Protocol == RuleProtocol.Any)
            && (r.Ports.Count == 0 || r.Ports.Any(p => p.Contains(port)))
            && r.Peers.Any(n => n.Contains(peer)));
        if (allowed && match is null)
        {
            problems.Add($"camera {camera.Name}: no rule allows {what} ({direction.ToString().ToLowerInvariant()} {protocol.ToString().ToLowerInvariant()} {port} with {peer})");
        }
        else if (!allowed && match is not null)
        {
            problems.Add($"camera {camera.Name}: rule {match.Id} allows {what} ({peer} port {port})");
        }
    }
}
