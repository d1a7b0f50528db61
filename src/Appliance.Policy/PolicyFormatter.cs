using System.Globalization;
using System.Net;
using System.Text;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Policy;

/// <summary>One name a camera learned from its DNS answers, as <c>policy show</c> prints it under the name rules it matches.</summary>
/// <param name="Name">The name (lower case).</param>
/// <param name="Address">An address the camera's answers gave for it.</param>
/// <param name="RemainingSeconds">Seconds until it lapses (negative: lapsed, kept while a flow with the address lives).</param>
public sealed record LearnedNameLine(string Name, string Address, double RemainingSeconds);

/// <summary>
/// Renders resolved or decompiled policy for people: <c>camfw policy show</c>, the management API and the UI share
/// these so a rule reads the same everywhere. The rule line reads like the YAML it came from:
/// <c>ingress tcp 554,8000 from 198.51.100.10 [rtsp-from-nvr]</c>.
/// </summary>
public static class PolicyFormatter
{
    /// <summary>A camera mode as the policy language spells it (and the API, the console and `policy show` print it).</summary>
    public static string ModeWord(CameraMode mode) => mode switch { CameraMode.Monitor => "monitor", CameraMode.Learn => "learn", _ => "enforce" };

    /// <summary>A rule on one line: direction, protocol, ports or ICMP types, peers, id, and whether it logs.</summary>
    public static string FormatRule(RuleSpec rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var sb = new StringBuilder();
        sb.Append(FormatDirection(rule.Direction)).Append(' ').Append(FormatProtocol(rule.Protocol));
        var what = FormatMatch(rule);
        if (what.Length > 0)
        {
            sb.Append(' ').Append(what);
        }

        sb.Append(rule.Direction == Direction.Egress ? " to " : " from ").Append(FormatPeers(rule));
        sb.Append(" [").Append(rule.Id).Append(']');
        if (rule.Log)
        {
            sb.Append(" log");
        }

        if (rule.EncryptedDns)
        {
            sb.Append(" encrypted-dns");
        }

        return sb.ToString();
    }

    /// <summary><c>egress</c> or <c>ingress</c>, as written in policy files.</summary>
    public static string FormatDirection(Direction direction) => direction == Direction.Egress ? "egress" : "ingress";

    /// <summary><c>tcp</c>, <c>udp</c>, <c>icmp</c>, <c>icmpv6</c> or <c>any</c>, as written in policy files.</summary>
    public static string FormatProtocol(RuleProtocol protocol) => PolicyResolver.Name(protocol);

    /// <summary>Ports for tcp/udp (<c>554,8000-8010</c>, or <c>any-port</c>), ICMP types for icmp/icmpv6, else empty.</summary>
    public static string FormatMatch(RuleSpec rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.Protocol switch
        {
            RuleProtocol.Tcp or RuleProtocol.Udp => rule.Ports.Count == 0 ? "any-port" : FormatPorts(rule.Ports),
            RuleProtocol.Icmp or RuleProtocol.Icmpv6 => rule.IcmpTypes.Count == 0 ? "any-type" : FormatIcmpTypes(rule.IcmpTypes, rule.Protocol == RuleProtocol.Icmpv6),
            _ => "",
        };
    }

    /// <summary><c>554,8000-8010</c>; empty input reads <c>any</c>.</summary>
    public static string FormatPorts(IReadOnlyList<PortRange> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        return ports.Count == 0 ? "any" : string.Join(',', ports.Select(p => p.ToString()));
    }

    /// <summary><c>echo-request,3</c>: names where the type has one.</summary>
    public static string FormatIcmpTypes(IReadOnlyList<byte> types, bool v6)
    {
        ArgumentNullException.ThrowIfNull(types);
        return types.Count == 0 ? "any" : string.Join(',', types.Select(t => IcmpTypeNames.Format(t, v6)));
    }

    /// <summary>A rule's peers: its networks (see the other overload) followed by its DNS names.</summary>
    public static string FormatPeers(RuleSpec rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.Names.Count == 0)
        {
            return FormatPeers(rule.Peers);
        }

        var names = string.Join(',', rule.Names);
        return rule.Peers.Count == 0 ? names : FormatPeers(rule.Peers) + "," + names;
    }

    /// <summary>Peers, host prefixes as plain addresses; empty or both /0 prefixes read <c>any</c>.</summary>
    public static string FormatPeers(IReadOnlyList<IPNetwork> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        if (peers.Count == 0 || (peers.Count == 2 && peers.All(p => p.PrefixLength == 0) && peers[0] != peers[1]))
        {
            return "any";
        }

        return string.Join(',', peers.Select(AddressText.Format));
    }

    /// <summary>How a camera is recognised: <c>mac 02:00:00:00:01:01 ip 192.0.2.21 (bound)</c>.</summary>
    public static string FormatIdentity(CameraSpec camera)
    {
        ArgumentNullException.ThrowIfNull(camera);
        var parts = new List<string>();
        if (camera.Mac is { } mac)
        {
            parts.Add("mac " + mac);
        }

        if (camera.Addresses.Count > 0)
        {
            parts.Add("ip " + string.Join(',', camera.Addresses.Select(a => a.ToString())));
        }

        var how = camera.Mac is not null && camera.Addresses.Count > 0 ? "(bound: MAC and IP must match)"
            : camera.Mac is not null ? "(by MAC)" : "(by IP alone)";
        return string.Join(' ', parts) + " " + how;
    }

    /// <summary>The allowances that are not rules: <c>arp, dhcp; ipv6 off; discovery none; flow quota default</c>.</summary>
    public static string FormatAllowances(CameraSpec camera)
    {
        ArgumentNullException.ThrowIfNull(camera);
        var l2 = new List<string>();
        if (camera.AllowArp)
        {
            l2.Add("arp");
        }

        if (camera.AllowDhcp)
        {
            l2.Add("dhcp");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(l2.Count == 0 ? "no arp, no dhcp" : string.Join(", ", l2))}; ipv6 {(camera.AllowIpv6 ? "on" : "off")}; discovery {FormatDiscovery(camera.Discovery)}; flow quota {(camera.FlowQuota is { } q ? q.ToString(CultureInfo.InvariantCulture) : "default")}");
    }

    /// <summary>
    /// Which names the camera may ask its resolver about: <c>queries any</c>, or <c>queries only
    /// time.vendor.example, *.fw.vendor.example (rules), ntp.example (also)</c>.
    /// </summary>
    public static string FormatDnsQueries(CameraSpec camera, IReadOnlyList<RuleSpec> rules)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(rules);
        var guard = "; tunnel guard " + FormatGuardAction(camera.DnsGuard ?? DnsGuardAction.Report);
        if (camera.DnsQueries == DnsQueryScope.Any)
        {
            return "queries any" + guard;
        }

        var fromRules = rules.SelectMany(r => r.Names).Distinct(StringComparer.Ordinal).ToList();
        var also = camera.DnsAlso.Where(n => !fromRules.Contains(n)).ToList();
        var parts = new List<string>();
        if (fromRules.Count > 0)
        {
            parts.Add(string.Join(", ", fromRules) + " (rules)");
        }

        if (also.Count > 0)
        {
            parts.Add(string.Join(", ", also) + " (also)");
        }

        return (parts.Count == 0 ? "queries none (no rule names a DNS name; every query is dropped)" : "queries only " + string.Join(", ", parts)) + guard;
    }

    /// <summary><c>report</c>, <c>drop</c> or <c>off</c>.</summary>
    public static string FormatGuardAction(DnsGuardAction action) => action switch { DnsGuardAction.Drop => "drop", DnsGuardAction.Off => "off", _ => "report" };

    /// <summary>
    /// The tunnel guard's site settings on one line: <c>report; 120 queries/min; labels up to 52, names up to 120;
    /// entropy up to 4.3 bits/char from 32 chars; 30 subdomains per parent per 60 s; query types a,ns,...</c>.
    /// </summary>
    public static string FormatDnsGuard(DnsGuardSpec guard)
    {
        ArgumentNullException.ThrowIfNull(guard);
        var names = PolicyReader.QueryTypeNames.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);
        var types = string.Join(',', guard.QueryTypes.Select(t => names.TryGetValue(t, out var n) ? n : t.ToString(CultureInfo.InvariantCulture)));
        return string.Create(CultureInfo.InvariantCulture, $"{FormatGuardAction(guard.Action)}; {guard.QueriesPerMinute} queries/min; labels up to {guard.MaxLabelLength}, names up to {guard.MaxNameLength}; entropy up to {guard.MaxEntropy:0.0#} bits/char from {guard.EntropyMinLength} chars; {guard.UniqueSubdomains} subdomains per parent per {guard.Window.TotalSeconds:0} s; query types {types}");
    }

    /// <summary><c>ws-discovery,mdns</c> or <c>none</c>.</summary>
    public static string FormatDiscovery(DiscoveryProtocols discovery)
    {
        var names = new List<string>();
        if (discovery.HasFlag(DiscoveryProtocols.WsDiscovery))
        {
            names.Add("ws-discovery");
        }

        if (discovery.HasFlag(DiscoveryProtocols.Ssdp))
        {
            names.Add("ssdp");
        }

        if (discovery.HasFlag(DiscoveryProtocols.Mdns))
        {
            names.Add("mdns");
        }

        return names.Count == 0 ? "none" : string.Join(',', names);
    }

    /// <summary>
    /// Writes one camera's block for <c>policy show</c>: identity, mode, profiles, allowances, then one aligned line
    /// per rule (with where it was written when <paramref name="showOrigin"/>).
    /// </summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="camera">The camera.</param>
    /// <param name="rules">Its effective rules.</param>
    /// <param name="showOrigin">Print where each rule was written.</param>
    /// <param name="learned">
    /// What the camera learned from its DNS answers on a running appliance: each name rule is followed by the learned
    /// names it matches and their addresses (what it admits now). Null when offline: name rules read <c>none learned</c>.
    /// </param>
    public static void WriteCamera(TextWriter writer, CameraSpec camera, IReadOnlyList<RuleSpec> rules, bool showOrigin = true, IReadOnlyList<LearnedNameLine>? learned = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(rules);
        writer.WriteLine($"camera {camera.Name}");
        writer.WriteLine($"  identity  {FormatIdentity(camera)}");
        writer.WriteLine($"  mode      {camera.Mode switch { CameraMode.Monitor => "monitor (decisions reported, nothing dropped)", CameraMode.Learn => "learn (as monitor; what it does feeds the proposal)", _ => "enforce" }}{(camera.ModeFrom is "camera" or "default" ? "" : $", from {camera.ModeFrom}")}");
        writer.WriteLine($"  profiles  {(camera.Profiles.Count == 0 ? "(none)" : string.Join(", ", camera.Profiles))}");
        writer.WriteLine($"  allows    {FormatAllowances(camera)}");
        writer.WriteLine($"  dns       {FormatDnsQueries(camera, rules)}");
        if (rules.Count == 0)
        {
            writer.WriteLine("  rules     (none)");
            return;
        }

        writer.WriteLine("  rules");
        var rows = new List<string[]>(rules.Count);
        foreach (var rule in rules)
        {
            var peers = (rule.Direction == Direction.Egress ? "to " : "from ") + FormatPeers(rule);
            var notes = new List<string>();
            if (showOrigin && rule.Origin is { } origin)
            {
                notes.Add(origin);
            }

            if (rule.Comment is { } comment)
            {
                notes.Add("# " + comment);
            }

            rows.Add([rule.Id, FormatDirection(rule.Direction), FormatProtocol(rule.Protocol), FormatMatch(rule), peers, string.Join(',', new[] { rule.Log ? "log" : "", rule.EncryptedDns ? "encrypted-dns" : "" }.Where(f => f.Length > 0)), string.Join("  ", notes)]);
        }

        var widths = new int[6];
        foreach (var row in rows)
        {
            for (var i = 0; i < widths.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in rows)
        {
            var sb = new StringBuilder("    ");
            for (var i = 0; i < widths.Length; i++)
            {
                sb.Append(row[i].PadRight(widths[i])).Append("  ");
            }

            sb.Append(row[6]);
            writer.WriteLine(sb.ToString().TrimEnd());
        }

        WriteAdmits(writer, rules, learned);
    }

    /// <summary>Per name rule, what it admits now: the camera's learned names that match it, with their addresses.</summary>
    private static void WriteAdmits(TextWriter writer, IReadOnlyList<RuleSpec> rules, IReadOnlyList<LearnedNameLine>? learned)
    {
        var first = true;
        foreach (var rule in rules)
        {
            if (rule.Names.Count == 0)
            {
                continue;
            }

            if (first)
            {
                writer.WriteLine(learned is null ? "  name rules admit (offline: nothing asked of a running appliance)" : "  name rules admit now");
                first = false;
            }

            var patterns = rule.Names.Select(DnsNamePattern.Parse).ToList();
            var matched = learned is null
                ? []
                : learned.Where(l => patterns.Any(p => p.Matches(Encoding.ASCII.GetBytes(l.Name))))
                    .OrderBy(l => l.Name, StringComparer.Ordinal).ThenBy(l => l.Address, StringComparer.Ordinal).ToList();
            if (matched.Count == 0)
            {
                writer.WriteLine($"    {rule.Id}  none learned");
                continue;
            }

            writer.WriteLine($"    {rule.Id}");
            foreach (var l in matched)
            {
                var left = l.RemainingSeconds >= 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(l.RemainingSeconds):0} s left")
                    : "lapsed, kept while a flow lives";
                writer.WriteLine($"      {l.Name} {l.Address} ({left})");
            }
        }
    }

    /// <summary>
    /// Writes <c>policy show</c>: a header naming the policy, then every camera (or only <paramref name="cameraName"/>)
    /// with the rules decompiled from the compiled tables, so what is printed is what the data path enforces.
    /// Returns false when <paramref name="cameraName"/> is not in the policy.
    /// </summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="policy">The compiled policy.</param>
    /// <param name="cameraName">Only this camera (null: all).</param>
    /// <param name="learned">
    /// Per camera, what it learned from its DNS answers on a running appliance (null when offline); see
    /// <see cref="WriteCamera"/>.
    /// </param>
    public static bool WriteShow(TextWriter writer, CompiledPolicy policy, string? cameraName = null, IReadOnlyDictionary<string, IReadOnlyList<LearnedNameLine>>? learned = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(policy);
        if (cameraName is not null && !policy.TryGetCamera(cameraName, out _))
        {
            return false;
        }

        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"policy sha256 {policy.Sha256}"));
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  sources          {string.Join(", ", policy.Spec.Sources)}"));
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  cameras          {policy.Cameras.Count}"));
        if (policy.Spec.Site.Mode is { } siteMode)
        {
            writer.WriteLine($"  mode             {ModeWord(siteMode)} (cameras that do not set their own)");
        }

        writer.WriteLine($"  unknown devices  {(policy.UnknownDevices == UnknownDeviceMode.Monitor ? "monitor (pass and report)" : "deny")}");
        writer.WriteLine($"  dns guard        {FormatDnsGuard(policy.Spec.Site.DnsGuard)}");
        writer.WriteLine($"  encrypted dns    refused (port 853; port 443 to a DoH resolver) unless a rule says encrypted_dns: true; DoH resolvers {(policy.Spec.Site.DohResolvers.Count == 0 ? "none" : string.Join(", ", policy.Spec.Site.DohResolvers))}");
        foreach (var camera in policy.Cameras)
        {
            if (cameraName is not null && !string.Equals(camera.Name, cameraName, StringComparison.Ordinal))
            {
                continue;
            }

            writer.WriteLine();
            WriteCamera(writer, ToSpec(camera), camera.EffectiveRules(), learned: learned is null ? null : learned.TryGetValue(camera.Name, out var mine) ? mine : []);
        }

        return true;
    }

    private static CameraSpec ToSpec(CompiledCamera camera) => new()
    {
        Name = camera.Name,
        Mac = camera.Mac,
        Addresses = camera.Addresses,
        Mode = camera.Mode,
        ModeFrom = camera.ModeFrom,
        Profiles = camera.Profiles,
        AllowArp = camera.AllowArp,
        AllowDhcp = camera.AllowDhcp,
        AllowIpv6 = camera.AllowIpv6,
        Discovery = camera.Discovery,
        FlowQuota = camera.FlowQuota,

        // Read back from the compiled filter: its names that no rule names are the camera's 'also' list.
        DnsQueries = camera.DnsQueries,
        DnsGuard = camera.DnsGuard,
        DnsAlso = [.. camera.DnsQueryNames.Except(camera.EffectiveRules().SelectMany(r => r.Names), StringComparer.Ordinal)],
    };

    /// <summary>The summary line of a load: <c>policy: 7 files, 9 cameras, 0 errors, 2 warnings</c>.</summary>
    public static string FormatSummary(PolicyLoadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var fileCount = result.Sources.Count;
        var cameras = result.Spec is { } spec ? $"{spec.Cameras.Count} camera(s)" : "not loaded";
        return string.Create(CultureInfo.InvariantCulture, $"policy: {fileCount} file(s), {cameras}, {result.ErrorCount} error(s), {result.WarningCount} warning(s)");
    }
}
