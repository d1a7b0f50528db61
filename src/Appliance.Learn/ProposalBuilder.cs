using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text;
using Appliance.Core;
using Appliance.Core.Policy;
using Appliance.Policy;

namespace Appliance.Learn;

/// <summary>What the proposal writer needs besides the findings.</summary>
public sealed record ProposalContext
{
    /// <summary>The site's current policy (<c>--policy</c> or the running one): camera names and named networks come from it. Null: none.</summary>
    public PolicySpec? Policy { get; init; }

    /// <summary>
    /// Addresses that belong to the site although they are not private (the lab and the docs use documentation
    /// ranges); with the private and special ranges and <see cref="Policy"/>'s networks they make up "not public".
    /// </summary>
    public IReadOnlyList<IPNetwork> SiteNetworks { get; init; } = [];

    /// <summary>Vendors by MAC prefix.</summary>
    public OuiRegistry Vendors { get; init; } = OuiRegistry.Empty;

    /// <summary>The thresholds (<see cref="LearnOptions.MinConnections"/>, <see cref="LearnOptions.MinPacketsForOneConnection"/>).</summary>
    public LearnOptions Options { get; init; } = new();

    /// <summary>What was learned from, for the header comments (capture file names, "the running appliance").</summary>
    public string Source { get; init; } = "observed traffic";
}

/// <summary>One file of a proposal: a name relative to the policy directory, and its text.</summary>
public sealed record ProposalFile(string Name, string Text);

/// <summary>How the proposal treats one learned service.</summary>
public enum ServiceOutcome
{
    /// <summary>Becomes (part of) a rule.</summary>
    Allowed,

    /// <summary>To a public address (or a public DNS resolver): listed, commented out, for the admin to decide.</summary>
    NeedsDecision,

    /// <summary>Opened from a public address to the camera: never learned.</summary>
    InboundFromPublic,

    /// <summary>No connection completed its handshake.</summary>
    NeverCompleted,

    /// <summary>Too few connections and packets: a one-off probe or try; listed, not allowed.</summary>
    BelowThreshold,
}

/// <summary>A proposed policy directory: its files, and what became of each learned service.</summary>
/// <param name="Files">site.yaml, profiles/*.yaml, cameras/*.yaml and REVIEW.md (which the policy reader ignores).</param>
/// <param name="Outcomes">Every learned service of a camera-side device and what the proposal did with it.</param>
public sealed record Proposal(IReadOnlyList<ProposalFile> Files, IReadOnlyList<(LearnedService Service, ServiceOutcome Outcome)> Outcomes)
{
    /// <summary>The files as policy sources (the <c>.yaml</c> ones), for <see cref="PolicyLoader.Load(IReadOnlyList{PolicySource})"/>.</summary>
    public IReadOnlyList<PolicySource> PolicySources
        => [.. Files.Where(f => f.Name.EndsWith(".yaml", StringComparison.Ordinal)).Select(f => new PolicySource(f.Name, f.Text))];
}

/// <summary>
/// Turns a <see cref="LearnSnapshot"/> into a least-privilege policy directory an admin can review and apply.
/// Nothing the devices did not do is allowed; nothing to a public address is allowed (it is listed for a decision);
/// inbound connections from public addresses, connections that never completed and one-off probes are listed, not
/// learned. Cameras of one vendor whose learned behaviour is identical share a generated profile. Output is a pure
/// function of the inputs (sorted throughout; no clock), so learning twice from the same traffic writes the same files.
/// </summary>
public static class ProposalBuilder
{
    private static readonly IPNetwork[] NotPublic =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
    ];

    /// <summary>Builds the proposal.</summary>
    public static Proposal Build(LearnSnapshot snapshot, ProposalContext context)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(context);
        var site = new SiteView(context);
        var cameras = new List<CameraPlan>();
        var outcomes = new List<(LearnedService, ServiceOutcome)>();
        var byDevice = snapshot.Services.GroupBy(s => s.Device).ToDictionary(g => g.Key, g => g.ToList());
        var takenIps = new HashSet<IPAddress>();
        var takenNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in snapshot.Devices)
        {
            var plan = PlanCamera(device, byDevice.GetValueOrDefault(device.Key) ?? [], site, context, takenIps, takenNames);
            cameras.Add(plan);
            outcomes.AddRange(plan.Outcomes);
        }

        var profiles = ShareProfiles(cameras);
        var files = new List<ProposalFile>
        {
            new("site.yaml", SiteFile(snapshot, context, cameras, site)),
        };
        foreach (var profile in profiles)
        {
            files.Add(new ProposalFile($"profiles/{profile.Name}.yaml", ProfileFile(profile)));
        }

        foreach (var camera in cameras)
        {
            files.Add(new ProposalFile($"cameras/{camera.Name}.yaml", CameraFile(camera)));
        }

        files.Add(new ProposalFile("REVIEW.md", Review(snapshot, context, cameras, profiles)));
        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new Proposal(files, outcomes);
    }

    /// <summary>True when <paramref name="address"/> is public: not private or special, not in the policy's networks, not a site network.</summary>
    public static bool IsPublic(IPAddress address, ProposalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new SiteView(context).IsPublic(address);
    }

    private static CameraPlan PlanCamera(LearnedDevice device, List<LearnedService> services, SiteView site, ProposalContext context, HashSet<IPAddress> takenIps, HashSet<string> takenNames)
    {
        var options = context.Options;
        var vendor = device.Key.HasMac ? context.Vendors.VendorOf(device.Key.Mac) : null;
        var existing = context.Policy?.Cameras.FirstOrDefault(c => device.Key.HasMac ? c.Mac == device.Key.Mac : c.Addresses.Contains(device.Key.Ip.ToIPAddress()));
        var name = existing?.Name ?? (device.Key.HasMac ? "cam-" + device.Key.Mac.ToString().Replace(":", "", StringComparison.Ordinal) : "cam-" + Slug(device.Key.Ip.ToString()));
        while (!takenNames.Add(name))
        {
            name += "-2";
        }

        var plan = new CameraPlan { Name = name, Device = device, Vendor = vendor, VendorSlug = vendor is null ? "unknown" : Slug(vendor) };
        var v4 = device.Addresses.Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork).ToList();
        var v6 = device.Addresses.Where(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6 && !a.Address.IsIPv6LinkLocal).ToList();
        if (!device.Key.HasMac)
        {
            plan.Addresses.Add(device.Key.Ip.ToIPAddress());
            plan.IdentityNotes.Add("known by address only (the capture has no MAC addresses): add its mac: before enforcing");
        }
        else if (device.UsedDhcp || v4.Count > 1 || v6.Count > 1)
        {
            plan.IdentityNotes.Add(device.UsedDhcp
                ? "used DHCP, so it is bound by MAC only (any address)"
                : "used several addresses (" + string.Join(", ", device.Addresses.Select(a => $"{a.Address} x{a.Frames}")) + "), so it is bound by MAC only");
        }
        else
        {
            foreach (var (address, _) in v4.Concat(v6))
            {
                if (takenIps.Add(address))
                {
                    plan.Addresses.Add(address);
                }
                else
                {
                    plan.IdentityNotes.Add($"{address} is also another device's: not bound to it (an address conflict or a spoof; check)");
                }
            }
        }

        plan.Ipv6 = device.UsedIpv6;
        plan.Dhcp = device.UsedDhcp;
        plan.Discovery = device.Discovery;

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            var outcome = Classify(service, site, options);
            plan.Outcomes.Add((service, outcome));
            if (outcome != ServiceOutcome.Allowed)
            {
                plan.Listed.Add((service, outcome));
                continue;
            }

            // Tied names: the bare address, not a name rule either (that would admit whatever the name comes to resolve to).
            var network = site.NetworkOf(service.Peer);
            var token = network.Name;
            if (token is null && network.Tied.Count == 0 && service.Name is { } dnsName && IsUsableName(dnsName) && (names.Contains(dnsName) || names.Count < PolicyLimits.MaxDnsNamesPerCamera))
            {
                names.Add(dnsName);
                token = dnsName;
            }

            token ??= service.Peer.ToString();
            var key = (service.Direction, service.Protocol, service.Port);
            if (!plan.Rules.TryGetValue(key, out var rule))
            {
                rule = new RulePlan(service.Direction, service.Protocol, service.Port);
                plan.Rules.Add(key, rule);
            }

            rule.Add(token, service);
            if (network.Tied.Count > 0)
            {
                rule.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{service.Peer} is in {Names(network.Tied)} ({network.Size:N0} addresses each, not the same ones): written as the address; {(network.Tied.Count == 2 ? "either name would admit an address the other does not" : "each name would admit addresses another does not")}, which the traffic never showed"));
            }

            if (service.Peer.AddressFamily == AddressFamily.InterNetworkV6)
            {
                plan.Ipv6 = true;
            }
        }

        return plan;
    }

    private static ServiceOutcome Classify(LearnedService service, SiteView site, LearnOptions options)
    {
        var isPublic = site.IsPublic(service.Peer);
        if (service.Direction == Direction.Ingress && isPublic)
        {
            return ServiceOutcome.InboundFromPublic;
        }

        if (service.Connections == 0)
        {
            return ServiceOutcome.NeverCompleted;
        }

        if (service.Connections < options.MinConnections && service.MaxPacketsPerConnection < options.MinPacketsForOneConnection
            && service.MaxDurationMs < options.MinDurationMsForOneConnection)
        {
            return ServiceOutcome.BelowThreshold;
        }

        return isPublic ? ServiceOutcome.NeedsDecision : ServiceOutcome.Allowed;
    }

    private static bool IsUsableName(string name)
        => name.Length <= 253 && !name.StartsWith("*.", StringComparison.Ordinal) && !IPAddress.TryParse(name, out _)
            && DnsNamePattern.TryParse(name, out _, out _);

    private static List<ProfilePlan> ShareProfiles(List<CameraPlan> cameras)
    {
        var profiles = new List<ProfilePlan>();
        var groups = cameras
            .Where(c => c.Rules.Count > 0)
            .GroupBy(c => (c.VendorSlug, Signature: c.Signature()))
            .Where(g => g.Count() > 1)
            .OrderBy(g => g.First().Device.Key);
        var perVendor = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var n = perVendor[group.Key.VendorSlug] = perVendor.GetValueOrDefault(group.Key.VendorSlug) + 1;
            var members = group.ToList();
            var profile = new ProfilePlan
            {
                Name = $"{group.Key.VendorSlug}-learned-{n}",
                Vendor = members[0].Vendor,
                Members = members,
            };
            foreach (var member in members)
            {
                member.Profile = profile;
            }

            profiles.Add(profile);
        }

        return profiles;
    }

    private static string SiteFile(LearnSnapshot snapshot, ProposalContext context, List<CameraPlan> cameras, SiteView site)
    {
        var sb = new StringBuilder();
        sb.Append("# Proposed by camfw learn from ").Append(OneLine(context.Source)).Append('\n');
        if (snapshot.Devices.Count > 0)
        {
            sb.Append("# Traffic from ").Append(Time(snapshot.Devices.Min(d => d.FirstMs))).Append(" to ").Append(Time(snapshot.Devices.Max(d => d.LastMs)))
                .Append(", ").Append(N(snapshot.Counters.Frames)).Append(" frames, ").Append(N(cameras.Count)).Append(" camera-side device(s).\n");
        }

        sb.Append("# Review every file (REVIEW.md lists what was left out and why), then apply with:\n");
        sb.Append("#   camfw apply DIR --confirm-within 120   (and camfw confirm once the cameras still work)\n");
        sb.Append("# Only what the devices were seen doing is allowed; flows to public addresses are in each camera's\n");
        sb.Append("# \"needs a decision\" section, commented out.\n");
        sb.Append("site:\n");
        sb.Append("  unknown_devices: deny\n");
        sb.Append("  arp: true          # cameras may ARP for their own MAC/IP pair\n");
        sb.Append("  dhcp: false        # on only for the cameras seen using it\n");
        sb.Append("  ipv6: false        # on only for the cameras seen using it\n");
        sb.Append("  discovery: none    # on only for the cameras seen using it\n");
        var used = cameras.SelectMany(c => c.Rules.Values).SelectMany(r => r.Peers.Keys).Where(site.IsNetworkName).Distinct().Order(StringComparer.Ordinal).ToList();
        if (used.Count > 0)
        {
            sb.Append("networks:           # from the current policy, expanded to addresses\n");
            foreach (var name in used)
            {
                sb.Append("  ").Append(name).Append(": [").Append(string.Join(", ", site.Prefixes(name).Select(Prefix))).Append("]\n");
            }
        }

        return sb.ToString();
    }

    private static string ProfileFile(ProfilePlan profile)
    {
        var sb = new StringBuilder();
        var first = profile.Members[0];
        sb.Append("# ").Append(N(profile.Members.Count)).Append(" cameras of ").Append(OneLine(profile.Vendor ?? "an unknown vendor (no IEEE assignment for their MAC prefix)"))
            .Append(" were seen doing exactly this: ").Append(string.Join(", ", profile.Members.Select(m => m.Name))).Append('\n');
        sb.Append("profiles:\n");
        sb.Append("  ").Append(profile.Name).Append(":\n");
        sb.Append("    comment: ").Append(Quote($"learned from {profile.Members.Count} cameras of {profile.Vendor ?? "an unknown vendor"}")).Append('\n');
        Allowances(sb, "    ", first);
        Rules(sb, "    ", profile.Members);
        return sb.ToString();
    }

    private static string CameraFile(CameraPlan camera)
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(camera.Device.Key.ToString()).Append(": ").Append(OneLine(camera.Vendor ?? (camera.Device.Key.HasMac && OuiRegistry.IsLocallyAdministered(camera.Device.Key.Mac) ? "locally administered MAC (no vendor)" : "vendor unknown")))
            .Append("; seen ").Append(Time(camera.Device.FirstMs)).Append(" to ").Append(Time(camera.Device.LastMs)).Append(", ")
            .Append(N(camera.Device.Frames)).Append(" frames sent\n");
        foreach (var note in camera.IdentityNotes)
        {
            sb.Append("# ").Append(OneLine(note)).Append('\n');
        }

        sb.Append("cameras:\n");
        sb.Append("  ").Append(camera.Name).Append(":\n");
        if (camera.Device.Key.HasMac)
        {
            sb.Append("    mac: ").Append(camera.Device.Key.Mac.ToString()).Append('\n');
        }

        if (camera.Addresses.Count == 1)
        {
            sb.Append("    ip: ").Append(Scalar(camera.Addresses[0].ToString())).Append('\n');
        }
        else if (camera.Addresses.Count > 1)
        {
            sb.Append("    ip: [").Append(string.Join(", ", camera.Addresses.Select(a => Scalar(a.ToString())))).Append("]\n");
        }

        if (camera.Profile is { } profile)
        {
            sb.Append("    profiles: [").Append(profile.Name).Append("]\n");
        }
        else
        {
            Allowances(sb, "    ", camera);
            Rules(sb, "    ", [camera]);
        }

        Listed(sb, camera);
        return sb.ToString();
    }

    private static void Allowances(StringBuilder sb, string indent, CameraPlan camera)
    {
        if (camera.Dhcp)
        {
            sb.Append(indent).Append("dhcp: true         # seen asking for an address\n");
        }

        if (camera.Ipv6)
        {
            sb.Append(indent).Append("ipv6: true         # seen using IPv6\n");
        }

        if (camera.Discovery != DiscoveryProtocols.None)
        {
            var list = new List<string>();
            if ((camera.Discovery & DiscoveryProtocols.WsDiscovery) != 0)
            {
                list.Add("ws-discovery");
            }

            if ((camera.Discovery & DiscoveryProtocols.Ssdp) != 0)
            {
                list.Add("ssdp");
            }

            if ((camera.Discovery & DiscoveryProtocols.Mdns) != 0)
            {
                list.Add("mdns");
            }

            sb.Append(indent).Append("discovery: [").Append(string.Join(", ", list)).Append("]   # seen sending it\n");
        }
    }

    private static void Rules(StringBuilder sb, string indent, List<CameraPlan> members)
    {
        var first = members[0];
        if (first.Rules.Count == 0)
        {
            sb.Append(indent).Append("rules: []          # nothing it did qualifies (see below and REVIEW.md)\n");
            return;
        }

        sb.Append(indent).Append("rules:\n");
        foreach (var (key, rule) in first.Rules.OrderBy(r => r.Key))
        {
            var all = members.Select(m => m.Rules[key]).ToList();
            var services = all.SelectMany(r => r.Services).ToList();
            sb.Append(indent).Append("  # learned: ").Append(Volume(services))
                .Append(members.Count > 1 ? $", over {members.Count} cameras" : string.Empty).Append('\n');
            sb.Append(indent).Append("  - id: ").Append(rule.Id).Append('\n');
            sb.Append(indent).Append("    direction: ").Append(rule.Direction == Direction.Egress ? "egress" : "ingress").Append('\n');
            sb.Append(indent).Append("    protocol: ").Append(Protocol(rule.Protocol)).Append('\n');
            if (rule.Protocol is RuleProtocol.Tcp or RuleProtocol.Udp)
            {
                sb.Append(indent).Append("    ports: ").Append(rule.Port.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            else
            {
                sb.Append(indent).Append("    icmp_types: [echo-request]\n");
            }

            var peers = rule.Peers.Keys.Order(StringComparer.Ordinal).ToList();
            sb.Append(indent).Append("    peer: ").Append(peers.Count == 1 ? Scalar(peers[0]) : "[" + string.Join(", ", peers.Select(Scalar)) + "]").Append('\n');
            var named = rule.Peers.Where(p => p.Value.Any(s => s.Name == p.Key)).Select(p => $"{p.Key} ({string.Join(", ", p.Value.Select(s => s.Peer.ToString()).Distinct().Order(StringComparer.Ordinal))})").ToList();
            if (named.Count > 0)
            {
                sb.Append(indent).Append("    # resolved by the camera: ").Append(OneLine(string.Join("; ", named))).Append('\n');
            }

            foreach (var note in all.SelectMany(r => r.Notes).Distinct().Order(StringComparer.Ordinal))
            {
                sb.Append(indent).Append("    # ").Append(OneLine(note)).Append('\n');
            }
        }
    }

    private static void Listed(StringBuilder sb, CameraPlan camera)
    {
        var decide = camera.Listed.Where(l => l.Outcome == ServiceOutcome.NeedsDecision).ToList();
        if (decide.Count > 0)
        {
            sb.Append("\n# Needs a decision: flows to public addresses, never allowed by a proposal. Uncomment under rules:\n");
            sb.Append("# (in the camera, or in a profile of its own) only what is meant to be allowed.\n");
            foreach (var (s, _) in decide)
            {
                var what = s.Port is 53 or 853 && s.Protocol is RuleProtocol.Udp or RuleProtocol.Tcp ? "a public DNS resolver used directly" : "a public address";
                var peer = s.Name is { } n && IsUsableName(n) ? n : s.Peer.ToString();
                sb.Append("#   ").Append(what).Append(": ").Append(s.Peer.ToString()).Append(s.Name is null ? " (no DNS name seen)" : $" ({OneLine(s.Name)})").Append(' ')
                    .Append(Protocol(s.Protocol)).Append(' ').Append(s.Port.ToString(CultureInfo.InvariantCulture)).Append("; ").Append(Volume([s])).Append('\n');
                sb.Append("#   - { id: ").Append(RulePlan.IdOf(s.Direction, s.Protocol, s.Port)).Append("-public, direction: egress, protocol: ").Append(Protocol(s.Protocol))
                    .Append(s.Protocol is RuleProtocol.Tcp or RuleProtocol.Udp ? $", ports: {s.Port}" : ", icmp_types: [echo-request]")
                    .Append(", peer: ").Append(Scalar(peer)).Append(" }\n");
            }
        }

        var rest = camera.Listed.Where(l => l.Outcome != ServiceOutcome.NeedsDecision).ToList();
        if (rest.Count > 0)
        {
            sb.Append("\n# Seen, not learned:\n");
            foreach (var (s, outcome) in rest)
            {
                sb.Append("#   ").Append(Describe(s)).Append(": ").Append(Why(outcome, s)).Append('\n');
            }
        }
    }

    private static string Review(LearnSnapshot snapshot, ProposalContext context, List<CameraPlan> cameras, List<ProfilePlan> profiles)
    {
        var sb = new StringBuilder();
        sb.Append("# Policy proposal (camfw learn)\n\n");
        sb.Append("Learned from ").Append(OneLine(context.Source)).Append(": ").Append(N(snapshot.Counters.Frames)).Append(" frames, ")
            .Append(N(cameras.Count)).Append(" camera-side device(s), ").Append(N(snapshot.Services.Count)).Append(" distinct services.\n");
        if (snapshot.Counters.DevicesNotTracked + snapshot.Counters.ConnectionsNotTracked + snapshot.Counters.ServicesNotKept > 0)
        {
            sb.Append("\n**Bounds reached:** ").Append(N(snapshot.Counters.DevicesNotTracked)).Append(" devices, ")
                .Append(N(snapshot.Counters.ConnectionsNotTracked)).Append(" connections and ").Append(N(snapshot.Counters.ServicesNotKept))
                .Append(" services were not tracked; the proposal may miss what they did.\n");
        }

        if (snapshot.Counters.ServicesEvicted + snapshot.Counters.DevicesEvicted + snapshot.Counters.NotesLost > 0)
        {
            sb.Append("\n**Summary bounds:** ").Append(N(snapshot.Counters.ServicesEvicted)).Append(" never-completed services and ")
                .Append(N(snapshot.Counters.DevicesEvicted)).Append(" idle devices were evicted; ").Append(N(snapshot.Counters.NotesLost))
                .Append(" flow notes were lost (the engines' note rings were full); the proposal may miss what they did.\n");
        }

        sb.Append("\nNothing here is applied by itself. Review, then `camfw apply DIR --confirm-within 120`.\n");
        foreach (var camera in cameras)
        {
            sb.Append("\n## ").Append(camera.Name).Append(" (").Append(camera.Device.Key.ToString()).Append(", ").Append(camera.Vendor ?? "vendor unknown").Append(")\n\n");
            if (camera.Profile is { } p)
            {
                sb.Append("Shares profile `").Append(p.Name).Append("` with ").Append(string.Join(", ", p.Members.Where(m => m != camera).Select(m => m.Name))).Append(".\n\n");
            }

            foreach (var rule in camera.Rules.OrderBy(r => r.Key).Select(r => r.Value))
            {
                sb.Append("- allowed: ").Append(rule.Direction == Direction.Egress ? "egress" : "ingress").Append(' ').Append(Protocol(rule.Protocol)).Append(' ')
                    .Append(rule.Port.ToString(CultureInfo.InvariantCulture)).Append(rule.Direction == Direction.Egress ? " to " : " from ")
                    .Append(string.Join(", ", rule.Peers.Keys.Order(StringComparer.Ordinal))).Append(" (").Append(Volume(rule.Services)).Append(")\n");
                foreach (var note in rule.Notes)
                {
                    sb.Append("  - ").Append(OneLine(note)).Append('\n');
                }
            }

            foreach (var (s, outcome) in camera.Listed)
            {
                sb.Append("- ").Append(outcome == ServiceOutcome.NeedsDecision ? "**needs a decision**" : "not learned").Append(": ").Append(Describe(s)).Append(": ").Append(Why(outcome, s)).Append('\n');
            }
        }

        _ = profiles;
        return sb.ToString();
    }

    private static string Describe(LearnedService s)
        => string.Create(CultureInfo.InvariantCulture, $"{(s.Direction == Direction.Egress ? "egress" : "ingress")} {Protocol(s.Protocol)} {s.Port} {(s.Direction == Direction.Egress ? "to" : "from")} {s.Peer}{(s.Name is null ? string.Empty : " (" + OneLine(s.Name) + ")")}");

    private static string Why(ServiceOutcome outcome, LearnedService s) => outcome switch
    {
        ServiceOutcome.InboundFromPublic => "opened from a public address; " + Attempts(s),
        ServiceOutcome.NeverCompleted => "never completed a handshake; " + Attempts(s),
        ServiceOutcome.BelowThreshold => "below the threshold (a one-off probe or try); " + Volume([s]),
        ServiceOutcome.NeedsDecision => (s.Port is 53 or 853 ? "public DNS resolver used directly; " : "public address; ") + Volume([s]),
        _ => Volume([s]),
    };

    private static string Attempts(LearnedService s)
        => string.Create(CultureInfo.InvariantCulture, $"{N(s.Connections + s.Incomplete)} attempt(s), first {Time(s.FirstMs)}, last {Time(s.LastMs)}");

    private static string Volume(IReadOnlyCollection<LearnedService> services)
    {
        var connections = services.Sum(s => s.Connections);
        var mid = services.Sum(s => s.MidStream);
        var packets = services.Sum(s => s.Packets);
        var bytes = services.Sum(s => s.Bytes);
        var first = services.Min(s => s.FirstMs);
        var last = services.Max(s => s.LastMs);
        var incomplete = services.Sum(s => s.Incomplete);
        var volume = packets == 0 && connections > 0 ? "volume not measured (learned from the flow table)" : $"{Bytes(bytes)} in {N(packets)} packets";
        return string.Create(CultureInfo.InvariantCulture,
            $"{N(connections)} connection(s){(mid > 0 ? $" ({N(mid)} joined mid-way)" : string.Empty)}{(incomplete > 0 ? $" and {N(incomplete)} that never completed" : string.Empty)}, {volume}; first seen {Time(first)}, last seen {Time(last)}");
    }

    /// <summary>"a and b", "a, b and c".</summary>
    private static string Names(IReadOnlyList<string> names)
        => names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[^1];

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.0} GiB"),
    };

    private static string Time(long ms)
        => ms <= 0 || ms > 253_402_300_799_999L ? "(no time)" : DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Protocol(RuleProtocol protocol) => protocol switch
    {
        RuleProtocol.Tcp => "tcp",
        RuleProtocol.Udp => "udp",
        RuleProtocol.Icmp => "icmp",
        RuleProtocol.Icmpv6 => "icmpv6",
        _ => "any",
    };

    private static string Prefix(IPNetwork network)
        => network.PrefixLength == (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128) ? Scalar(network.BaseAddress.ToString()) : Scalar(network.ToString());

    /// <summary>A YAML plain scalar when safe, else double-quoted (IPv6 in flow lists, anything with ':' or '#').</summary>
    private static string Scalar(string text)
        => text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '/') && !text.StartsWith('-') ? text : Quote(text);

    private static string Quote(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text)
        {
            if (c is '"' or '\\')
            {
                sb.Append('\\').Append(c);
            }
            else if (c < ' ' || c == '\u007f')
            {
                sb.Append(' ');
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Comment text on one line: names from DNS answers and vendor strings are data, never YAML.</summary>
    private static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(char.IsControl(c) ? ' ' : c);
        }

        return sb.ToString();
    }

    private static string Slug(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != '-')
            {
                sb.Append('-');
            }

            if (sb.Length >= 32)
            {
                break;
            }
        }

        var slug = sb.ToString().Trim('-');
        return slug.Length == 0 || !char.IsAsciiLetter(slug[0]) ? "v-" + slug : slug;
    }

    private sealed class SiteView(ProposalContext context)
    {
        private readonly List<(string Name, IPNetwork Network)> _named = context.Policy is { } p
            ? [.. p.Networks.SelectMany(n => n.Value.Where(net => net.PrefixLength > 0).Select(net => (n.Key, net)))]
            : [];

        public bool IsPublic(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            return !NotPublic.Any(n => n.Contains(address)) && !context.SiteNetworks.Any(n => n.Contains(address))
                && !_named.Any(n => n.Network.Contains(address));
        }

        // What each named network admits (its prefixes merged, both families): a network may include others
        // (`management: [nvr, admins]`) or list overlapping prefixes, so neither the prefix that holds an address nor the
        // sum of the name's prefixes says how much the name admits.
        private readonly Dictionary<string, AddressSet> _sets = context.Policy is { } policy
            ? policy.Networks.ToDictionary(n => n.Key, n => AddressSet.Of(n.Value), StringComparer.Ordinal)
            : [];

        /// <summary>
        /// How the proposal names the address: by the smallest named network holding it, counting every address the
        /// whole name admits, or by none. Least privilege: where the recorder is both <c>nvr</c> and part of
        /// <c>management: [nvr, admins]</c>, the proposal says <c>nvr</c>; <c>management</c> would let the admins' range
        /// pull the streams too, which the traffic never showed. Several smallest names are used only when they admit
        /// the same addresses (then the ordinal first: they mean the same); where they differ (<c>a: [A, C]</c> and
        /// <c>b: [A, D]</c>, the address in A) each would admit an address the other does not and the traffic never
        /// showed, and nothing says which of C or D the site meant, so none is used and the choice says which tied.
        /// </summary>
        public NetworkChoice NetworkOf(IPAddress address)
        {
            var holders = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var (name, network) in _named)
            {
                if (network.Contains(address))
                {
                    holders.Add(name);
                }
            }

            if (holders.Count == 0)
            {
                return NetworkChoice.None;
            }

            var least = holders.Min(n => _sets[n].Count);
            var smallest = holders.Where(n => _sets[n].Count == least).ToList();
            return smallest.All(n => _sets[n].SetEquals(_sets[smallest[0]]))
                ? new NetworkChoice(smallest[0], [], least)
                : new NetworkChoice(null, smallest, least);
        }

        public bool IsNetworkName(string token) => context.Policy?.Networks.ContainsKey(token) == true;

        public IReadOnlyList<IPNetwork> Prefixes(string name) => context.Policy!.Networks[name];
    }

    private sealed class CameraPlan
    {
        public required string Name { get; init; }

        public required LearnedDevice Device { get; init; }

        public string? Vendor { get; init; }

        public required string VendorSlug { get; init; }

        public List<IPAddress> Addresses { get; } = [];

        public List<string> IdentityNotes { get; } = [];

        public bool Dhcp { get; set; }

        public bool Ipv6 { get; set; }

        public DiscoveryProtocols Discovery { get; set; }

        public SortedDictionary<(Direction, RuleProtocol, ushort), RulePlan> Rules { get; } = [];

        public List<(LearnedService Service, ServiceOutcome Outcome)> Outcomes { get; } = [];

        public List<(LearnedService Service, ServiceOutcome Outcome)> Listed { get; } = [];

        public ProfilePlan? Profile { get; set; }

        /// <summary>What the camera is allowed, independent of who it is: equal signatures share a profile.</summary>
        public string Signature()
            => string.Create(CultureInfo.InvariantCulture, $"dhcp={Dhcp};ipv6={Ipv6};discovery={(int)Discovery};")
                + string.Join(";", Rules.Select(r => $"{r.Value.Id}>{string.Join(",", r.Value.Peers.Keys.Order(StringComparer.Ordinal))}"));
    }

    private sealed class ProfilePlan
    {
        public required string Name { get; init; }

        public string? Vendor { get; init; }

        public required List<CameraPlan> Members { get; init; }
    }

    /// <summary>
    /// The named network an address is written as (<see cref="Name"/>), or none: then <see cref="Tied"/> lists the
    /// equally small names that hold it but admit different addresses (empty when no name holds it), each of
    /// <see cref="Size"/> addresses.
    /// </summary>
    private readonly record struct NetworkChoice(string? Name, IReadOnlyList<string> Tied, BigInteger Size)
    {
        public static NetworkChoice None { get; } = new(null, [], BigInteger.Zero);
    }

    private sealed class RulePlan(Direction direction, RuleProtocol protocol, ushort port)
    {
        public Direction Direction => direction;

        public RuleProtocol Protocol => protocol;

        public ushort Port => port;

        public string Id => IdOf(direction, protocol, port);

        public SortedDictionary<string, List<LearnedService>> Peers { get; } = new(StringComparer.Ordinal);

        public List<LearnedService> Services { get; } = [];

        /// <summary>Why a peer is written as it is where that is not plain (tied names), one comment each.</summary>
        public SortedSet<string> Notes { get; } = new(StringComparer.Ordinal);

        public static string IdOf(Direction direction, RuleProtocol protocol, ushort port)
            => (direction == Direction.Egress ? "out-" : "in-") + Protocol(protocol) + "-"
                + (protocol is RuleProtocol.Tcp or RuleProtocol.Udp ? port.ToString(CultureInfo.InvariantCulture) : "echo");

        public void Add(string token, LearnedService service)
        {
            if (!Peers.TryGetValue(token, out var list))
            {
                list = [];
                Peers.Add(token, list);
            }

            list.Add(service);
            Services.Add(service);
        }
    }
}
