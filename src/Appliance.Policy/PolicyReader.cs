using System.Globalization;
using System.Text.RegularExpressions;
using Appliance.Core;
using Appliance.Core.Policy;
using Appliance.Policy.Yaml;

namespace Appliance.Policy;

/// <summary>
/// Reads one file's tree into declarations, checking shape only: known keys, value types, required keys, value
/// syntax. Every problem is reported and reading goes on, so one run shows every mistake in the file.
/// </summary>
internal sealed partial class PolicyReader(string file, DiagnosticBag diagnostics, PolicyDeclarations into)
{
    internal static readonly string[] FileKeys = ["site", "networks", "profiles", "cameras"];
    internal static readonly string[] SiteKeys = ["mode", "unknown_devices", "dhcp_servers", "routers", "dns_min_ttl", "arp", "dhcp", "ipv6", "discovery", "flow_quota", "dns", "dns_guard", "doh_resolvers"];
    internal static readonly string[] ProfileKeys = ["comment", "mode", "rules", "arp", "dhcp", "ipv6", "discovery", "flow_quota", "dns"];
    internal static readonly string[] CameraKeys = ["mac", "ip", "profiles", "rules", "mode", "comment", "arp", "dhcp", "ipv6", "discovery", "flow_quota", "dns"];
    internal static readonly string[] DnsKeys = ["queries", "also", "guard"];
    internal static readonly string[] DnsGuardKeys = ["action", "queries_per_minute", "max_label", "max_name", "max_entropy", "entropy_min_length", "unique_subdomains", "window", "query_types"];

    /// <summary>Query type names <c>dns_guard.query_types</c> accepts (numbers 1-65535 too).</summary>
    internal static readonly Dictionary<string, ushort> QueryTypeNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["a"] = 1,
        ["ns"] = 2,
        ["cname"] = 5,
        ["soa"] = 6,
        ["null"] = 10,
        ["ptr"] = 12,
        ["mx"] = 15,
        ["txt"] = 16,
        ["aaaa"] = 28,
        ["srv"] = 33,
        ["naptr"] = 35,
        ["svcb"] = 64,
        ["https"] = 65,
        ["any"] = 255,
        ["caa"] = 257,
    };

    /// <summary>Most names in one <c>dns: { also: [...] }</c> list.</summary>
    internal const int MaxDnsAlso = 64;
    internal static readonly string[] RuleKeys = ["id", "direction", "protocol", "ports", "icmp_types", "peer", "log", "comment", "encrypted_dns"];

    /// <summary>Largest per-camera flow quota a policy may ask for.</summary>
    internal const int MaxFlowQuota = 1_000_000;

    /// <summary>Longest <c>dns_min_ttl</c>: a day. Longer would keep a moved name's old address open for days.</summary>
    internal const int MaxDnsMinTtl = 86400;

    /// <summary>Most addresses in <c>dhcp_servers</c> or <c>routers</c>: the data path checks them one by one.</summary>
    internal const int MaxSiteServers = 32;

    private SourceLocation At(YNode node) => new(file, node.Line, node.Column);

    public void ReadFile(YNode? root)
    {
        if (root is null || root is YScalar { IsNull: true })
        {
            return;
        }

        if (root is not YMapping map)
        {
            diagnostics.Error(At(root), "a policy file must be a mapping of sections (site, networks, profiles, cameras), not " + root.Kind);
            return;
        }

        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "site":
                    ReadSite(key, value);
                    break;
                case "networks":
                    ForEachNamed(value, "networks", ReadNetwork);
                    break;
                case "profiles":
                    ForEachNamed(value, "profiles", ReadProfile);
                    break;
                case "cameras":
                    ForEachNamed(value, "cameras", ReadCamera);
                    break;
                default:
                    UnknownKey(key, "the file", FileKeys);
                    break;
            }
        }
    }

    private void ForEachNamed(YNode section, string what, Action<YScalar, YNode> read)
    {
        if (section is YScalar { IsNull: true })
        {
            return;
        }

        if (section is not YMapping map)
        {
            diagnostics.Error(At(section), $"'{what}' must be a mapping of names to definitions, not {section.Kind}");
            return;
        }

        foreach (var (key, value) in map.Entries)
        {
            read(key, value);
        }
    }

    private void ReadSite(YScalar key, YNode node)
    {
        var site = new SiteDecl(At(key));
        into.Sites.Add(site);
        if (node is YScalar { IsNull: true })
        {
            return;
        }

        if (node is not YMapping map)
        {
            diagnostics.Error(At(node), "'site' must be a mapping of settings, not " + node.Kind);
            return;
        }

        foreach (var (k, v) in map.Entries)
        {
            if (k.Value == "unknown_devices")
            {
                if (Word(v, "'unknown_devices'", ["deny", "monitor"]) is { } mode)
                {
                    site.UnknownDevices = mode == "monitor" ? UnknownDeviceMode.Monitor : UnknownDeviceMode.Deny;
                }
            }
            else if (k.Value == "mode")
            {
                site.Mode = Mode(v, "site") ?? site.Mode;
            }
            else if (k.Value == "dhcp_servers")
            {
                ReadServers(v, "'dhcp_servers' in site", site.DhcpServers, ipv6: false);
            }
            else if (k.Value == "routers")
            {
                ReadServers(v, "'routers' in site", site.Routers, ipv6: true);
            }
            else if (k.Value == "dns_min_ttl")
            {
                if (Scalar(v, "'dns_min_ttl' in site") is { } t)
                {
                    if (int.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0 and <= MaxDnsMinTtl)
                    {
                        site.DnsMinTtl = TimeSpan.FromSeconds(seconds);
                    }
                    else
                    {
                        diagnostics.Error(At(t), $"'dns_min_ttl' in site must be a whole number of seconds from 0 to {MaxDnsMinTtl}, not '{t.Value}'");
                    }
                }
            }
            else if (k.Value == "doh_resolvers")
            {
                ReadDohResolvers(v, site);
            }
            else if (k.Value == "dns_guard")
            {
                site.DnsGuard = ReadDnsGuard(v, site.DnsGuard);
            }
            else if (!ReadAllowance(k, v, site.Defaults, "site"))
            {
                UnknownKey(k, "'site'", SiteKeys);
            }
        }
    }

    /// <summary>
    /// Reads the addresses of the site's DHCP servers (IPv4 hosts) or IPv6 routers (the link-local address a router
    /// advertises from: RFC 4861 6.1.2 has hosts discard advertisements from any other source).
    /// </summary>
    private void ReadServers(YNode node, string what, List<System.Net.IPAddress> into, bool ipv6)
    {
        var items = ScalarList(node, what, allowEmpty: true);
        if (items is null)
        {
            return;
        }

        if (items.Count > MaxSiteServers)
        {
            diagnostics.Error(At(items[MaxSiteServers]), $"{what} lists {items.Count} addresses; at most {MaxSiteServers} are allowed");
            return;
        }

        foreach (var item in items)
        {
            var text = item.Value.Trim();
            if (!AddressText.TryParseAddress(text, out var address, out var error))
            {
                diagnostics.Error(At(item), $"{what}: {error}");
            }
            else if (!ipv6 && (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || !AddressText.IsUnicastHost(address)))
            {
                diagnostics.Error(At(item), $"{what} must list IPv4 host addresses (DHCP servers answer over IPv4), not '{text}'");
            }
            else if (ipv6 && !address.IsIPv6LinkLocal)
            {
                diagnostics.Error(At(item), $"{what} must list the link-local address (fe80::/10) each router advertises from, not '{text}'");
            }
            else if (into.Contains(address))
            {
                diagnostics.Error(At(item), $"{address} is listed twice in {what}");
            }
            else
            {
                into.Add(address);
            }
        }
    }

    /// <summary>Reads a <c>mode</c> value (site, profile or camera); null when it is not one (reported).</summary>
    private CameraMode? Mode(YNode value, string owner)
        => Word(value, $"'mode' in {owner}", ["enforce", "monitor", "learn"]) switch
        {
            "enforce" => CameraMode.Enforce,
            "monitor" => CameraMode.Monitor,
            "learn" => CameraMode.Learn,
            _ => null,
        };

    /// <summary>Reads one of the shared allowance keys; false when <paramref name="key"/> is not one.</summary>
    private bool ReadAllowance(YScalar key, YNode value, AllowanceDecl into, string owner)
    {
        switch (key.Value)
        {
            case "arp":
                into.Arp = Bool(value, $"'arp' in {owner}");
                return true;
            case "dhcp":
                into.Dhcp = Bool(value, $"'dhcp' in {owner}");
                return true;
            case "ipv6":
                into.Ipv6 = Bool(value, $"'ipv6' in {owner}");
                return true;
            case "discovery":
                into.Discovery = Discovery(value, owner);
                return true;
            case "dns":
                ReadDns(value, into, owner);
                return true;
            case "flow_quota":
                if (Scalar(value, $"'flow_quota' in {owner}") is { } q)
                {
                    if (int.TryParse(q.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var quota) && quota is >= 1 and <= MaxFlowQuota)
                    {
                        into.FlowQuota = quota;
                    }
                    else
                    {
                        diagnostics.Error(At(q), $"'flow_quota' in {owner} must be a whole number from 1 to {MaxFlowQuota}, not '{q.Value}'");
                    }
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// <c>dns: { queries: rules | any, also: [names] }</c>: which names the cameras may ask their resolver about. Every
    /// name in <c>also</c> is checked like a rule's name (<see cref="DnsNamePattern"/>), each error at its own place.
    /// </summary>
    private void ReadDns(YNode node, AllowanceDecl into, string owner)
    {
        if (node is not YMapping map)
        {
            diagnostics.Error(At(node), $"'dns' in {owner} must be a mapping (queries, also, guard), not {node.Kind}");
            return;
        }

        foreach (var (k, v) in map.Entries)
        {
            switch (k.Value)
            {
                case "queries":
                    if (Word(v, $"'dns.queries' in {owner}", ["rules", "any"]) is { } scope)
                    {
                        into.DnsQueries = scope == "rules" ? DnsQueryScope.Rules : DnsQueryScope.Any;
                    }

                    break;
                case "also":
                    var items = ScalarList(v, $"'dns.also' in {owner}", allowEmpty: true);
                    if (items is null)
                    {
                        break;
                    }

                    if (items.Count > MaxDnsAlso)
                    {
                        diagnostics.Error(At(items[MaxDnsAlso]), $"'dns.also' in {owner} lists {items.Count} names; at most {MaxDnsAlso} are allowed");
                        break;
                    }

                    foreach (var item in items)
                    {
                        var text = item.Value.Trim();
                        if (!DnsNamePattern.TryParse(text, out var pattern, out var error))
                        {
                            diagnostics.Error(At(item), $"'dns.also' in {owner}: {error}");
                        }
                        else if (into.DnsAlso.Exists(t => t.Text == pattern!.Text))
                        {
                            diagnostics.Error(At(item), $"'{pattern!.Text}' is listed twice in 'dns.also' in {owner}");
                        }
                        else
                        {
                            into.DnsAlso.Add(new Token(pattern!.Text, At(item)));
                        }
                    }

                    break;
                case "guard" when owner == "site":
                    diagnostics.Error(At(k), "the site's tunnel guard action is 'dns_guard: { action: ... }'; 'dns.guard' is for profiles and cameras");
                    break;
                case "guard":
                    if (Word(v, $"'dns.guard' in {owner}", ["report", "drop", "off"]) is { } action)
                    {
                        into.DnsGuard = action switch { "drop" => DnsGuardAction.Drop, "off" => DnsGuardAction.Off, _ => DnsGuardAction.Report };
                    }

                    break;
                default:
                    UnknownKey(k, $"'dns' in {owner}", DnsKeys);
                    break;
            }
        }
    }

    /// <summary>Most entries in <c>doh_resolvers</c>: the data path checks the addresses one by one.</summary>
    internal const int MaxDohResolvers = 64;

    /// <summary>
    /// The site's <c>doh_resolvers</c>: addresses (not prefixes) and names or wildcards of DNS-over-HTTPS resolvers. It
    /// replaces the default list as a whole (an empty list refuses DoH by nothing but port 853's rule).
    /// </summary>
    private void ReadDohResolvers(YNode node, SiteDecl site)
    {
        var items = ScalarList(node, "'doh_resolvers' in site", allowEmpty: true);
        if (items is null)
        {
            return;
        }

        if (items.Count > MaxDohResolvers)
        {
            diagnostics.Error(At(items[MaxDohResolvers]), $"'doh_resolvers' in site lists {items.Count} entries; at most {MaxDohResolvers} are allowed");
            return;
        }

        var list = new List<string>();
        foreach (var item in items)
        {
            var text = item.Value.Trim();
            string? entry = null;
            if (AddressText.TryParseAddress(text, out var address, out _))
            {
                entry = address.ToString();
            }
            else if (DnsNamePattern.TryParse(text, out var pattern, out var error))
            {
                entry = pattern!.Text;
            }
            else
            {
                diagnostics.Error(At(item), $"'doh_resolvers' in site: '{text}' is neither an address nor a DNS name ({error})");
            }

            if (entry is not null && list.Contains(entry))
            {
                diagnostics.Error(At(item), $"'{entry}' is listed twice in 'doh_resolvers' in site");
            }
            else if (entry is not null)
            {
                list.Add(entry);
            }
        }

        site.DohResolvers = list;
    }

    /// <summary>The site's <c>dns_guard</c> mapping: the action and the thresholds, each checked against its range.</summary>
    private DnsGuardSpec ReadDnsGuard(YNode node, DnsGuardSpec guard)
    {
        if (node is not YMapping map)
        {
            diagnostics.Error(At(node), $"'dns_guard' in site must be a mapping (action, queries_per_minute, ...), not {node.Kind}");
            return guard;
        }

        int? Whole(YNode v, string key, int min, int max)
        {
            if (Scalar(v, $"'dns_guard.{key}' in site") is not { } t)
            {
                return null;
            }

            if (int.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
            {
                return n;
            }

            diagnostics.Error(At(t), $"'dns_guard.{key}' in site must be a whole number from {min} to {max}, not '{t.Value}'");
            return null;
        }

        foreach (var (k, v) in map.Entries)
        {
            switch (k.Value)
            {
                case "action":
                    if (Word(v, "'dns_guard.action' in site", ["report", "drop", "off"]) is { } action)
                    {
                        guard = guard with { Action = action switch { "drop" => DnsGuardAction.Drop, "off" => DnsGuardAction.Off, _ => DnsGuardAction.Report } };
                    }

                    break;
                case "queries_per_minute":
                    guard = Whole(v, k.Value, 1, 60_000) is { } qpm ? guard with { QueriesPerMinute = qpm } : guard;
                    break;
                case "max_label":
                    guard = Whole(v, k.Value, 1, 63) is { } label ? guard with { MaxLabelLength = label } : guard;
                    break;
                case "max_name":
                    guard = Whole(v, k.Value, 1, 253) is { } name ? guard with { MaxNameLength = name } : guard;
                    break;
                case "entropy_min_length":
                    guard = Whole(v, k.Value, 1, 253) is { } min ? guard with { EntropyMinLength = min } : guard;
                    break;
                case "unique_subdomains":
                    guard = Whole(v, k.Value, 1, 200) is { } unique ? guard with { UniqueSubdomains = unique } : guard;
                    break;
                case "window":
                    guard = Whole(v, k.Value, 1, 3600) is { } seconds ? guard with { Window = TimeSpan.FromSeconds(seconds) } : guard;
                    break;
                case "max_entropy":
                    if (Scalar(v, "'dns_guard.max_entropy' in site") is { } e)
                    {
                        if (double.TryParse(e.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var bits) && bits is > 0 and <= 8)
                        {
                            guard = guard with { MaxEntropy = bits };
                        }
                        else
                        {
                            diagnostics.Error(At(e), $"'dns_guard.max_entropy' in site must be a number of bits per character above 0 and at most 8, not '{e.Value}'");
                        }
                    }

                    break;
                case "query_types":
                    var items = ScalarList(v, "'dns_guard.query_types' in site", allowEmpty: false);
                    if (items is null)
                    {
                        break;
                    }

                    var types = new List<ushort>();
                    foreach (var item in items)
                    {
                        var text = item.Value.Trim();
                        if (QueryTypeNames.TryGetValue(text, out var type)
                            || (ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out type) && type > 0))
                        {
                            if (!types.Contains(type))
                            {
                                types.Add(type);
                            }
                        }
                        else
                        {
                            diagnostics.Error(At(item), $"'{item.Value}' in 'dns_guard.query_types' in site is not a query type (a name such as a, aaaa, ptr, srv, https, or a number from 1 to 65535)");
                        }
                    }

                    guard = guard with { QueryTypes = types };
                    break;
                default:
                    UnknownKey(k, "'dns_guard' in site", DnsGuardKeys);
                    break;
            }
        }

        return guard;
    }

    private DiscoveryProtocols? Discovery(YNode node, string owner)
    {
        var items = ScalarList(node, $"'discovery' in {owner}", allowEmpty: true);
        if (items is null)
        {
            return null;
        }

        var result = DiscoveryProtocols.None;
        foreach (var item in items)
        {
            switch (item.Value.ToLowerInvariant())
            {
                case "ws-discovery":
                    result |= DiscoveryProtocols.WsDiscovery;
                    break;
                case "ssdp":
                    result |= DiscoveryProtocols.Ssdp;
                    break;
                case "mdns":
                    result |= DiscoveryProtocols.Mdns;
                    break;
                case "none" when items.Count == 1:
                    break;
                default:
                    diagnostics.Error(At(item), $"unknown discovery protocol '{item.Value}' in {owner} (expected ws-discovery, ssdp, mdns or none)");
                    break;
            }
        }

        return result;
    }

    private void ReadNetwork(YScalar key, YNode value)
    {
        if (!CheckName(key, "network", NetworkName()))
        {
            return;
        }

        var network = new NetworkDecl(key.Value, At(key));
        into.Networks.Add(network);
        var items = ScalarList(value, $"network '{key.Value}'", allowEmpty: false);
        if (items is null)
        {
            network.Broken = true;
            return;
        }

        foreach (var item in items)
        {
            network.Items.Add(new Token(item.Value.Trim(), At(item)));
        }
    }

    private void ReadProfile(YScalar key, YNode value)
    {
        if (!CheckName(key, "profile", NetworkName()))
        {
            return;
        }

        var profile = new ProfileDecl(key.Value, At(key));
        into.Profiles.Add(profile);
        var owner = $"profile '{key.Value}'";
        if (value is not YMapping map)
        {
            diagnostics.Error(At(value), $"{owner} must be a mapping (rules, ipv6, ...), not {value.Kind}");
            return;
        }

        foreach (var (k, v) in map.Entries)
        {
            switch (k.Value)
            {
                case "comment":
                    _ = Scalar(v, $"'comment' in {owner}");
                    break;
                case "rules":
                    ReadRules(v, owner, profile.Rules);
                    break;
                case "mode":
                    if (Mode(v, owner) is { } mode)
                    {
                        profile.Mode = (mode, At(k));
                    }

                    break;
                default:
                    if (!ReadAllowance(k, v, profile.Allowances, owner))
                    {
                        UnknownKey(k, owner, ProfileKeys);
                    }

                    break;
            }
        }
    }

    private void ReadCamera(YScalar key, YNode value)
    {
        if (!CheckName(key, "camera", DottedName()))
        {
            return;
        }

        var camera = new CameraDecl(key.Value, At(key));
        var owner = $"camera '{key.Value}'";
        if (value is not YMapping map)
        {
            diagnostics.Error(At(value), $"{owner} must be a mapping (mac, ip, profiles, ...), not {value.Kind}");
            camera.IdentityBroken = true;
            into.Cameras.Add(camera);
            return;
        }

        foreach (var (k, v) in map.Entries)
        {
            switch (k.Value)
            {
                case "mac":
                    ReadMac(v, camera, owner);
                    break;
                case "ip":
                    ReadCameraAddresses(v, camera, owner);
                    break;
                case "profiles":
                    foreach (var p in ScalarList(v, $"'profiles' in {owner}", allowEmpty: true) ?? [])
                    {
                        camera.Profiles.Add(new Token(p.Value, At(p)));
                    }

                    break;
                case "rules":
                    ReadRules(v, owner, camera.Rules);
                    break;
                case "mode":
                    camera.Mode = Mode(v, owner) ?? camera.Mode;
                    break;
                case "comment":
                    _ = Scalar(v, $"'comment' in {owner}");
                    break;
                default:
                    if (!ReadAllowance(k, v, camera.Allowances, owner))
                    {
                        UnknownKey(k, owner, CameraKeys);
                    }

                    break;
            }
        }

        if (camera.Mac is null && camera.Addresses.Count == 0 && !camera.IdentityBroken)
        {
            diagnostics.Error(camera.At, $"{owner} needs a 'mac', an 'ip' or both to be recognised");
            camera.IdentityBroken = true;
        }

        into.Cameras.Add(camera);
    }

    private void ReadMac(YNode v, CameraDecl camera, string owner)
    {
        if (Scalar(v, $"'mac' in {owner}") is not { } s)
        {
            camera.IdentityBroken = true;
            return;
        }

        camera.MacAt = At(s);
        if (!MacAddress.TryParse(s.Value.Trim(), out var mac))
        {
            diagnostics.Error(At(s), $"'{s.Value}' is not a valid MAC address for {owner} (write it like 02:00:00:00:01:01)");
            camera.IdentityBroken = true;
        }
        else if (mac.IsMulticast || mac.Value == 0)
        {
            diagnostics.Error(At(s), $"{mac} is not a device's MAC address ({(mac.Value == 0 ? "all zero" : "multicast or broadcast")}) for {owner}");
            camera.IdentityBroken = true;
        }
        else
        {
            camera.Mac = mac;
        }
    }

    private void ReadCameraAddresses(YNode v, CameraDecl camera, string owner)
    {
        var items = ScalarList(v, $"'ip' in {owner}", allowEmpty: false);
        if (items is null)
        {
            camera.IdentityBroken = true;
            return;
        }

        foreach (var item in items)
        {
            var text = item.Value.Trim();
            if (text.Contains('/', StringComparison.Ordinal))
            {
                diagnostics.Error(At(item), $"'ip' in {owner} must be the camera's own address, not a prefix ('{text}')");
                camera.IdentityBroken = true;
            }
            else if (!AddressText.TryParseAddress(text, out var address, out var error))
            {
                diagnostics.Error(At(item), $"{owner}: {error}");
                camera.IdentityBroken = true;
            }
            else if (!AddressText.IsUnicastHost(address))
            {
                diagnostics.Error(At(item), $"{address} cannot identify {owner}: it is not a unicast host address");
                camera.IdentityBroken = true;
            }
            else if (camera.Addresses.Exists(a => a.Address.Equals(address)))
            {
                diagnostics.Error(At(item), $"{address} is listed twice in 'ip' of {owner}");
            }
            else
            {
                camera.Addresses.Add((address, At(item)));
            }
        }
    }

    private void ReadRules(YNode node, string owner, List<RuleDecl> into)
    {
        if (node is YScalar { IsNull: true })
        {
            return;
        }

        if (node is not YSequence seq)
        {
            diagnostics.Error(At(node), $"'rules' in {owner} must be a list of rules (each starting with '- id: ...'), not {node.Kind}");
            return;
        }

        foreach (var item in seq.Items)
        {
            var rule = new RuleDecl(At(item), owner) { Ordinal = into.Count + 1 };
            into.Add(rule);
            if (item is not YMapping map)
            {
                diagnostics.Error(At(item), $"rule #{rule.Ordinal} in {owner} must be a mapping (id, direction, protocol, peer, ...), not {item.Kind}");
                rule.Broken = true;
                continue;
            }

            // The id first, so every later message can name the rule.
            if (map.TryGet("id", out var idNode) && Scalar(idNode, $"'id' of rule #{rule.Ordinal} in {owner}") is { } id)
            {
                rule.IdAt = At(id);
                if (DottedName().IsMatch(id.Value))
                {
                    rule.Id = id.Value;
                }
                else
                {
                    diagnostics.Error(At(id), $"rule id '{id.Value}' in {owner} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
                    rule.Broken = true;
                }
            }

            ReadRule(map, rule);
        }
    }

    private void ReadRule(YMapping map, RuleDecl rule)
    {
        var what = rule.Describe();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Entries)
        {
            seen.Add(k.Value);
            switch (k.Value)
            {
                case "id":
                    break;
                case "direction":
                    if (Word(v, $"'direction' of {what}", ["egress", "ingress"]) is { } dir)
                    {
                        rule.Direction = dir == "egress" ? Direction.Egress : Direction.Ingress;
                    }
                    else
                    {
                        rule.Broken = true;
                    }

                    break;
                case "protocol":
                    rule.Protocol = Word(v, $"'protocol' of {what}", ["tcp", "udp", "icmp", "icmpv6", "any"]) switch
                    {
                        "tcp" => RuleProtocol.Tcp,
                        "udp" => RuleProtocol.Udp,
                        "icmp" => RuleProtocol.Icmp,
                        "icmpv6" => RuleProtocol.Icmpv6,
                        "any" => RuleProtocol.Any,
                        _ => null,
                    };
                    rule.Broken |= rule.Protocol is null;
                    break;
                case "ports":
                    rule.PortsAt = At(v);
                    ReadPorts(v, rule, what);
                    break;
                case "icmp_types":
                    rule.IcmpTypesAt = At(v);
                    foreach (var t in ScalarList(v, $"'icmp_types' of {what}", allowEmpty: false) ?? [])
                    {
                        rule.IcmpTypes.Add(new Token(t.Value.Trim(), At(t)));
                    }

                    break;
                case "peer":
                    rule.PeerAt = At(v);
                    var peers = ScalarList(v, $"'peer' of {what}", allowEmpty: false);
                    rule.Broken |= peers is null;
                    foreach (var p in peers ?? [])
                    {
                        rule.Peers.Add(new Token(p.Value.Trim(), At(p)));
                    }

                    break;
                case "log":
                    rule.Log = Bool(v, $"'log' of {what}") ?? false;
                    break;
                case "encrypted_dns":
                    rule.EncryptedDns = Bool(v, $"'encrypted_dns' of {what}") ?? false;
                    break;
                case "comment":
                    rule.Comment = Scalar(v, $"'comment' of {what}")?.Value;
                    break;
                default:
                    UnknownKey(k, what, RuleKeys);
                    rule.Broken = true;
                    break;
            }
        }

        foreach (var required in (ReadOnlySpan<string>)["id", "direction", "protocol", "peer"])
        {
            if (!seen.Contains(required))
            {
                diagnostics.Error(new SourceLocation(file, map.Line, map.Column), $"{what} is missing '{required}'{RequiredHint(required)}");
                rule.Broken = true;
            }
        }
    }

    private static string RequiredHint(string key) => key switch
    {
        "id" => " (a short name that logs and counters repeat)",
        "direction" => " (egress: the camera opens the connection; ingress: the peer does)",
        "protocol" => " (tcp, udp, icmp, icmpv6 or any)",
        "peer" => " (a network name, an address, a CIDR, a DNS name or *.wildcard; 'any' for anywhere)",
        _ => "",
    };

    private void ReadPorts(YNode node, RuleDecl rule, string what)
    {
        var items = ScalarList(node, $"'ports' of {what}", allowEmpty: false);
        if (items is null)
        {
            rule.Broken = true;
            return;
        }

        foreach (var item in items)
        {
            var text = item.Value.Trim();
            if (text == "any" && items.Count == 1)
            {
                return;
            }

            if (text.Contains(',', StringComparison.Ordinal))
            {
                diagnostics.Error(At(item), $"'ports' of {what}: write several ports as a list, like [{text}]");
                rule.Broken = true;
                continue;
            }

            var dash = text.IndexOf('-', StringComparison.Ordinal);
            var lowText = (dash < 0 ? text : text[..dash]).Trim();
            var highText = (dash < 0 ? text : text[(dash + 1)..]).Trim();
            if (!TryPort(lowText, out var low) || !TryPort(highText, out var high))
            {
                var bad = !TryPort(lowText, out _) ? lowText : highText;
                diagnostics.Error(At(item), bad.Length > 0 && bad.All(char.IsAsciiDigit)
                    ? $"port {bad} is out of range (1-65535) in {what}"
                    : $"'{text}' is not a port or a port range like 8000-8010 in {what}");
                rule.Broken = true;
                continue;
            }

            if (low > high)
            {
                diagnostics.Error(At(item), $"port range {text} is reversed in {what} (write {high}-{low})");
                rule.Broken = true;
                continue;
            }

            rule.Ports.Add(new PortRange(low, high));
        }
    }

    private static bool TryPort(string text, out ushort port)
        => ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port != 0 && text.Length <= 5;

    private bool CheckName(YScalar key, string kind, Regex pattern)
    {
        if (pattern.IsMatch(key.Value))
        {
            return true;
        }

        diagnostics.Error(At(key), kind == "camera"
            ? $"camera name '{key.Value}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            : $"{kind} name '{key.Value}' must be 1-64 letters, digits, '_' or '-', starting with a letter");
        return false;
    }

    private YScalar? Scalar(YNode node, string what)
    {
        if (node is YScalar { IsNull: false } s)
        {
            return s;
        }

        diagnostics.Error(At(node), $"{what} must be a single value, not {node.Kind}");
        return null;
    }

    private bool? Bool(YNode node, string what)
    {
        if (Scalar(node, what) is not { } s)
        {
            return null;
        }

        if (string.Equals(s.Value, "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (string.Equals(s.Value, "false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        diagnostics.Error(At(s), $"{what} must be true or false, not '{s.Value}'");
        return null;
    }

    private string? Word(YNode node, string what, string[] allowed)
    {
        if (Scalar(node, what) is not { } s)
        {
            return null;
        }

        var word = s.Value.Trim().ToLowerInvariant();
        if (Array.IndexOf(allowed, word) >= 0)
        {
            return word;
        }

        diagnostics.Error(At(s), $"{what} must be {JoinOr(allowed)}, not '{s.Value}'");
        return null;
    }

    /// <summary>A single value or a list of single values.</summary>
    private List<YScalar>? ScalarList(YNode node, string what, bool allowEmpty)
    {
        switch (node)
        {
            case YScalar { IsNull: true } when allowEmpty:
                return [];
            case YScalar { IsNull: false } s:
                return [s];
            case YSequence seq when seq.Items.Count > 0 || allowEmpty:
                var list = new List<YScalar>(seq.Items.Count);
                var ok = true;
                foreach (var item in seq.Items)
                {
                    if (item is YScalar { IsNull: false } s)
                    {
                        list.Add(s);
                    }
                    else
                    {
                        diagnostics.Error(At(item), $"each entry of {what} must be a single value, not {item.Kind}");
                        ok = false;
                    }
                }

                return ok ? list : null;
            default:
                diagnostics.Error(At(node), $"{what} must be a value or a list of values, not {(node is YSequence ? "an empty list" : node.Kind)}");
                return null;
        }
    }

    private void UnknownKey(YScalar key, string where, string[] allowed)
    {
        var suggestion = Suggest(key.Value, allowed);
        diagnostics.Error(At(key), suggestion is null
            ? $"unknown key '{key.Value}' in {where} (expected {JoinOr(allowed)})"
            : $"unknown key '{key.Value}' in {where}; did you mean '{suggestion}'?");
    }

    internal static string JoinOr(IReadOnlyList<string> words)
        => words.Count == 1 ? words[0] : string.Join(", ", words.Take(words.Count - 1)) + " or " + words[^1];

    /// <summary>The closest known word within two edits, for typos.</summary>
    internal static string? Suggest(string word, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = 3;
        foreach (var candidate in known)
        {
            var d = Distance(word.ToLowerInvariant(), candidate);
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }

        return best;
    }

    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2 || a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (prev, cur) = (cur, prev);
        }

        return prev[b.Length];
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    internal static partial Regex NetworkName();

    /// <summary>Camera names and rule ids: they appear in logs and counters, where '.' is useful (<c>gate.north</c>).</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    internal static partial Regex DottedName();
}
