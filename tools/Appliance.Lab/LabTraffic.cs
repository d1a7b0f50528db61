using System.Globalization;
using System.Text.Json;

namespace Appliance.Lab;

/// <summary>What one traffic role reported last: its counters (see lab/traffic.py).</summary>
internal sealed record TrafficStatus(string Host, IReadOnlyDictionary<string, long> Counters)
{
    public long this[string key] => Counters.GetValueOrDefault(key);
}

/// <summary>
/// Starts the small traffic roles in the hosts' namespaces (lab/traffic.py, one per host) and reads back what each
/// device experienced. The roles write their counters to <c>status/HOST.json</c> in the lab's work directory.
/// </summary>
internal sealed class LabTraffic
{
    private readonly string _statusDirectory;

    public LabTraffic(string workDirectory) => _statusDirectory = Path.Combine(workDirectory, "status");

    /// <summary>The python roles, one per host, each inside its host's namespace.</summary>
    public IReadOnlyList<LabProcess> Start(LabSite site, string script, string logDirectory, bool flood = false)
    {
        var python = Shell.Find("python3") ?? throw new LabException("'python3' not found: run scripts/install-deps.sh");
        Directory.CreateDirectory(_statusDirectory);
        foreach (var stale in Directory.EnumerateFiles(_statusDirectory))
        {
            File.Delete(stale);
        }

        var started = new List<LabProcess>();
        foreach (var host in site.Hosts)
        {
            List<string> args = [script, RoleOf(host.Role), "--name", host.Name, "--status", StatusPath(host),
                "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)];
            switch (host.Role)
            {
                case LabRole.Camera:
                    args.AddRange(["--dns", site.DnsNtp.Address.ToString(), "--ntp", site.DnsNtp.Address.ToString()]);
                    if (host == site.PhoningCamera)
                    {
                        args.AddRange(["--phone-home", site.Cloud.Address.ToString(), "--phone-home-name", LabSite.PhoneHomeName]);
                    }

                    if (host == site.NameRuleCamera)
                    {
                        args.AddRange(["--cloud-name", LabSite.CloudName]);
                    }

                    break;
                case LabRole.Nvr:
                    foreach (var camera in site.Cameras)
                    {
                        args.AddRange(["--camera", $"{camera.Name}={camera.Address}"]);
                    }

                    if (flood)
                    {
                        // New connections, as an NVR makes after a restart, counted apart while a flood is on.
                        args.AddRange(["--probe", $"{site.FloodedCamera.Name}={site.FloodedCamera.Address}", "--flood-status", StatusPath(FloodId)]);
                    }

                    break;
                case LabRole.Cloud:
                    args.AddRange(["--tcp", "443", "--udp", "443"]);
                    break;
                case LabRole.Internet:
                    args.AddRange(["--tcp", "80", "--poke", $"{site.PokedCamera.Address}:80"]);
                    break;
                case LabRole.Admin:
                    foreach (var camera in site.Cameras)
                    {
                        args.AddRange(["--poke", $"{camera.Address}:443"]);
                    }

                    args.AddRange(["--interval", "5"]);
                    break;
                case LabRole.Rogue:
                    args.AddRange(["--poke", $"{site.Nvr.Address}:80", "--poke", $"{site.Internet.Address}:80"]);
                    break;
                case LabRole.DnsNtp:
                    break;
            }

            started.Add(LabProcess.Start("traffic " + host.Id, host.Namespace, python, args, Path.Combine(logDirectory, $"traffic-{host.Id}.log")));
        }

        if (flood)
        {
            // The attacker sits on the uplink side (the internet host's namespace and port) and claims to be the NVR,
            // which the flooded camera's policy lets open TCP 554.
            var target = site.FloodedCamera;
            List<string> args = [script, "flood", "--name", FloodId, "--status", StatusPath(FloodId),
                "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                "--target", $"{target.Address}:554", "--spoof", site.Nvr.Address.ToString(), "--dst-mac", target.Mac,
                "--count", FloodSyns.ToString(CultureInfo.InvariantCulture)];
            started.Add(LabProcess.Start("traffic " + FloodId, site.Internet.Namespace, python, args, Path.Combine(logDirectory, $"traffic-{FloodId}.log")));
        }

        return started;
    }

    private static string RoleOf(LabRole role) => role switch
    {
        LabRole.Camera => "camera",
        LabRole.Nvr => "nvr",
        LabRole.DnsNtp => "dnsntp",
        LabRole.Cloud => "listener",
        LabRole.Internet => "listener",
        _ => "prober",
    };

    /// <summary>The flood role's status name (<c>status/flood.json</c>); it is no host of its own.</summary>
    public const string FloodId = "flood";

    /// <summary>SYNs per flood burst: the figure of the attack that locked the NVR out (issue 12.6).</summary>
    public const int FloodSyns = 5000;

    private string StatusPath(LabHost host) => StatusPath(host.Id);

    private string StatusPath(string id) => Path.Combine(_statusDirectory, id + ".json");

    /// <summary>The latest counters of every host that has reported (hosts not yet reporting are left out).</summary>
    public IReadOnlyDictionary<string, TrafficStatus> Read(LabSite site)
    {
        var result = new Dictionary<string, TrafficStatus>(StringComparer.Ordinal);
        foreach (var id in site.Hosts.Select(h => h.Id).Append(FloodId))
        {
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(StatusPath(id)));
                var counters = new Dictionary<string, long>(StringComparer.Ordinal);
                if (document.RootElement.TryGetProperty("counters", out var element) && element.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in element.EnumerateObject())
                    {
                        if (property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt64(out var value))
                        {
                            counters[property.Name] = value;
                        }
                    }
                }

                result[id] = new TrafficStatus(id, counters);
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
            {
                // Not written yet, or being replaced this instant (the roles rename atomically, but a missing file is normal).
            }
        }

        return result;
    }
}
