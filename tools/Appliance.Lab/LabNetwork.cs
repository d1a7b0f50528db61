using System.Net;

namespace Appliance.Lab;

/// <summary>
/// Builds and removes the lab's network namespaces:
/// <code>
///  cfwlab-cam1..3, cfwlab-rogue            cfwlab-fw (the appliance)          cfwlab-nvr, -dns, -admin, -cloud, -inet
///    eth0 ── cfwlab-camsw (bridge br0) ── to-fw ═ fw-cam [camfw] fw-up ═ to-fw ── cfwlab-upsw (bridge br0) ── eth0
/// </code>
/// Every host gets on-link routes to the other lab addresses and nothing else: no default route, no link to the
/// host's own namespace, so no lab packet can leave the lab. IPv6 is off in every namespace (no DAD, RS or MLD
/// frames muddying the counts) and offloads are off on every veth, so the appliance sees and forwards real frames.
/// </summary>
internal static class LabNetwork
{
    /// <summary>Every namespace the lab makes starts with this; cleanup removes whatever carries it.</summary>
    public const string Prefix = "cfwlab-";

    public const string ApplianceNamespace = Prefix + "fw";
    public const string CameraSwitchNamespace = Prefix + "camsw";
    public const string UplinkSwitchNamespace = Prefix + "upsw";

    /// <summary>The appliance's camera-side port, in <see cref="ApplianceNamespace"/>.</summary>
    public const string CameraPort = "fw-cam";

    /// <summary>The appliance's uplink port, in <see cref="ApplianceNamespace"/>.</summary>
    public const string UplinkPort = "fw-up";

    private const string Bridge = "br0";
    private const string SwitchSideOfAppliance = "to-fw";
    private const string HostInterface = "eth0";

    private static string Ip => Shell.Find("ip") ?? throw new LabException("'ip' not found: install iproute2 (scripts/install-deps.sh)");

    /// <summary>Creates the whole topology. On failure the caller removes what exists with <see cref="RemoveAll"/>.</summary>
    public static void Build(LabSite site, Action<string> progress)
    {
        var ip = Ip;
        var ethtool = Shell.Find("ethtool") ?? throw new LabException("'ethtool' not found: run scripts/install-deps.sh");

        progress("namespaces");
        string[] infrastructure = [CameraSwitchNamespace, UplinkSwitchNamespace, ApplianceNamespace];
        foreach (var ns in infrastructure.Concat(site.Hosts.Select(h => h.Namespace)))
        {
            AddNamespace(ip, ns);
        }

        progress("switches");
        foreach (var ns in new[] { CameraSwitchNamespace, UplinkSwitchNamespace })
        {
            Shell.Run(ip, "-n", ns, "link", "add", Bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0");
            Shell.Run(ip, "-n", ns, "link", "set", Bridge, "up");
        }

        progress("appliance ports");
        Cable(ip, ethtool, ApplianceNamespace, CameraPort, CameraSwitchNamespace, SwitchSideOfAppliance);
        Cable(ip, ethtool, ApplianceNamespace, UplinkPort, UplinkSwitchNamespace, SwitchSideOfAppliance);

        progress("hosts");
        foreach (var host in site.Hosts)
        {
            var switchNs = host.Side == LabSide.Camera ? CameraSwitchNamespace : UplinkSwitchNamespace;
            Cable(ip, ethtool, host.Namespace, HostInterface, switchNs, host.Id);
            Shell.Run(ip, "-n", host.Namespace, "link", "set", HostInterface, "down");
            Shell.Run(ip, "-n", host.Namespace, "link", "set", HostInterface, "address", host.Mac);
            Shell.Run(ip, "-n", host.Namespace, "addr", "add", $"{host.Address}/{host.PrefixLength}", "dev", HostInterface);
            Shell.Run(ip, "-n", host.Namespace, "link", "set", HostInterface, "up");

            // A flat L2 lab with no router: every other lab address is on-link, and there is no default route.
            var own = new IPNetwork(Masked(host.Address, host.PrefixLength), host.PrefixLength);
            foreach (var peer in site.Hosts.Where(p => p != host && !own.Contains(p.Address)))
            {
                Shell.Run(ip, "-n", host.Namespace, "route", "add", $"{peer.Address}/32", "dev", HostInterface);
            }
        }

        // The rogue knows its targets' MACs (an intruder who sniffed a little would), so it sends real IP frames
        // the appliance must judge, instead of ARP requests alone.
        var rogue = site.Rogue;
        foreach (var target in new[] { site.Nvr, site.Internet })
        {
            Shell.Run(ip, "-n", rogue.Namespace, "neigh", "replace", target.Address.ToString(), "lladdr", target.Mac, "dev", HostInterface, "nud", "permanent");
        }
    }

    /// <summary>The lab namespaces that exist now (a crashed run's leftovers, or this run's).</summary>
    public static IReadOnlyList<string> Existing()
    {
        var result = Shell.TryRun(Ip, "netns", "list");
        if (!result.Succeeded)
        {
            return [];
        }

        return result.StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2)[0])
            .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>
    /// Kills every process still inside a lab namespace, then deletes the namespaces (which takes their veths
    /// and bridges with them). Safe to call at any time, any number of times. Returns what it removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveAll()
    {
        var namespaces = Existing();
        if (namespaces.Count == 0)
        {
            return namespaces;
        }

        var ip = Ip;
        foreach (var ns in namespaces)
        {
            foreach (var pid in PidsIn(ip, ns))
            {
                LabNative.Signal(pid, LabNative.SigKill);
            }
        }

        foreach (var ns in namespaces)
        {
            // Deleting only unlinks the name; a namespace with a (dying) process in it lives on until it exits,
            // which is harmless: it has no name, no route and will be gone in a moment.
            Shell.TryRun(ip, "netns", "del", ns);
        }

        return namespaces;
    }

    private static IEnumerable<int> PidsIn(string ip, string ns)
    {
        var result = Shell.TryRun(ip, "netns", "pids", ns);
        if (!result.Succeeded)
        {
            yield break;
        }

        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, out var pid) && pid != Environment.ProcessId)
            {
                yield return pid;
            }
        }
    }

    private static void AddNamespace(string ip, string ns)
    {
        Shell.Run(ip, "netns", "add", ns);

        // Before any interface exists, so none ever gets an IPv6 address (no DAD, RS, MLD frames). The sysctls of
        // a fresh namespace start from kernel defaults, not from the host's, so they are set in each one.
        Shell.Run(ip, "netns", "exec", ns, "sysctl", "-q", "-w",
            "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        Shell.Run(ip, "-n", ns, "link", "set", "lo", "up");
    }

    /// <summary>A veth pair from <paramref name="ns"/> to a switch's bridge, both ends up, offloads off.</summary>
    private static void Cable(string ip, string ethtool, string ns, string name, string switchNs, string switchPort)
    {
        Shell.Run(ip, "-n", switchNs, "link", "add", switchPort, "type", "veth", "peer", "name", name, "netns", ns);
        Shell.Run(ip, "-n", switchNs, "link", "set", switchPort, "master", Bridge, "up");
        Shell.Run(ip, "-n", ns, "link", "set", name, "up");

        // Veths hand over TSO super-frames and checksum-less frames (CHECKSUM_PARTIAL) otherwise; the appliance would
        // capture frames bigger than the MTU or with blank checksums and forward them to hosts that drop them.
        foreach (var (where, port) in new[] { (ns, name), (switchNs, switchPort) })
        {
            Shell.TryRun(ip, "netns", "exec", where, ethtool, "-K", port, "rx", "off", "tx", "off", "tso", "off", "gso", "off", "gro", "off");
        }
    }

    private static IPAddress Masked(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }

        return new IPAddress(bytes);
    }
}
