using System.Net;
using System.Net.Sockets;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Policy;

/// <summary>
/// Turns the declarations of every file into one <see cref="PolicySpec"/>: names resolved, profiles flattened,
/// site defaults applied, and the checks that need the whole policy (clashes across files, unknown names, rules
/// that can never match) made. Each check reports at the place an admin would fix it.
/// </summary>
internal sealed class PolicyResolver(PolicyDeclarations decls, DiagnosticBag diagnostics)
{
    /// <summary>The built-in network meaning everywhere, both families.</summary>
    internal const string AnyNetwork = "any";

    private static readonly IPNetwork AnyV4 = new(IPAddress.Any, 0);
    private static readonly IPNetwork AnyV6 = new(IPAddress.IPv6Any, 0);

    private readonly Dictionary<string, NetworkDecl> _networks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProfileDecl> _profiles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<IPNetwork>?> _resolvedNetworks = new(StringComparer.Ordinal);
    private readonly List<string> _resolving = [];
    private readonly Dictionary<RuleDecl, RuleSpec?> _rules = [];
    private readonly Dictionary<string, (ProfileDecl? Profile, RuleDecl Rule)> _idScratch = new(StringComparer.Ordinal);

    /// <summary>Profile rules that cannot match on some IPv6-off cameras: reported once per rule, not per camera.</summary>
    private readonly Dictionary<RuleDecl, (int Count, string FirstCamera)> _deadOnIpv4Cameras = [];

    public PolicySpec? Resolve(string sha256, IReadOnlyList<string> sources)
    {
        var site = ResolveSite();
        IndexByName(decls.Networks, _networks, n => n.Name, n => n.At, "network");
        IndexByName(decls.Profiles, _profiles, p => p.Name, p => p.At, "profile");
        if (_networks.TryGetValue(AnyNetwork, out var reserved))
        {
            diagnostics.Error(reserved.At, "network name 'any' is built in (0.0.0.0/0 and ::/0); choose another name");
        }

        foreach (var network in decls.Networks)
        {
            _ = ResolveNetwork(network.Name, network.At, network.Name, depth: 0);
        }

        foreach (var profile in decls.Profiles)
        {
            CheckUniqueIds(profile.Rules);
            foreach (var rule in profile.Rules)
            {
                _ = ResolveRule(rule);
            }
        }

        var cameras = ResolveCameras(site);

        foreach (var (rule, (count, first)) in _deadOnIpv4Cameras)
        {
            diagnostics.Warning(rule.At, $"{rule.Describe()} can never match on {count} camera(s) with IPv6 off (first: '{first}'): it is IPv6 only");
        }

        if (cameras.Count == 0 && diagnostics.ErrorCount == 0)
        {
            var at = decls.Sites.Count > 0 ? decls.Sites[0].At : new SourceLocation(sources.Count > 0 ? sources[0] : "", 1, 1);
            diagnostics.Warning(at, "the policy lists no cameras: every device is unknown");
        }

        if (diagnostics.ErrorCount > 0)
        {
            return null;
        }

        return new PolicySpec
        {
            Cameras = cameras,
            Site = new SiteSpec { Mode = site.Mode, UnknownDevices = site.UnknownDevices, DhcpServers = [.. site.DhcpServers], Routers = [.. site.Routers], DnsMinTtl = site.DnsMinTtl ?? SiteSpec.DefaultDnsMinTtl, DnsGuard = site.DnsGuard, DohResolvers = site.DohResolvers ?? SiteSpec.DefaultDohResolvers },
            Sha256 = sha256,
            Sources = sources,
            Networks = new SortedDictionary<string, IReadOnlyList<IPNetwork>>(
                _resolvedNetworks.Where(n => n.Value is not null).ToDictionary(n => n.Key, n => (IReadOnlyList<IPNetwork>)n.Value!, StringComparer.Ordinal),
                StringComparer.Ordinal),
        };
    }

    private SiteDecl ResolveSite()
    {
        for (var i = 1; i < decls.Sites.Count; i++)
        {
            diagnostics.Error(decls.Sites[i].At, $"site settings are already given at {decls.Sites[0].At}; keep one 'site' section");
        }

        return decls.Sites.Count > 0 ? decls.Sites[0] : new SiteDecl(default);
    }

    private void IndexByName<T>(List<T> items, Dictionary<string, T> index, Func<T, string> name, Func<T, SourceLocation> at, string kind)
    {
        foreach (var item in items)
        {
            if (!index.TryAdd(name(item), item))
            {
                diagnostics.Error(at(item), $"{kind} '{name(item)}' is already defined at {at(index[name(item)])}");
            }
        }
    }

    /// <summary>Expands a network to prefixes; null when it (or something it includes) is in error, already reported.</summary>
    private List<IPNetwork>? ResolveNetwork(string name, SourceLocation usedAt, string usedBy, int depth)
    {
        if (_resolvedNetworks.TryGetValue(name, out var done))
        {
            return done;
        }

        var decl = _networks[name];
        var cycleStart = _resolving.IndexOf(name);
        if (cycleStart >= 0)
        {
            var cycle = string.Join(" -> ", _resolving.Skip(cycleStart).Append(name));
            diagnostics.Error(usedAt, $"network '{usedBy}' includes network '{name}', which includes it: a cycle ({cycle}); remove one of the includes");
            return null;
        }

        _resolving.Add(name);

        if (depth > PolicyLimits.MaxNetworkNesting)
        {
            diagnostics.Error(usedAt, $"networks include each other more than {PolicyLimits.MaxNetworkNesting} levels deep at network '{name}'");
            _resolving.RemoveAt(_resolving.Count - 1);
            return null;
        }

        var result = new List<IPNetwork>();
        var ok = !decl.Broken;
        foreach (var item in decl.Items)
        {
            var expanded = ResolvePeerToken(item, $"network '{name}'", depth + 1, name);
            if (expanded is null)
            {
                ok = false;
                continue;
            }

            AddDistinct(result, expanded);
        }

        _resolving.RemoveAt(_resolving.Count - 1);

        // A network in a cycle is reported once, where the cycle closes; its users are not blamed again.
        var final = ok ? result : null;
        _resolvedNetworks[name] = final;
        return final;
    }

    /// <summary>
    /// True when a peer token is meant as a DNS name: it has a dot (network names have none), no ':' or '/', and is
    /// no address (an address starts with a digit and has only digits and dots). <c>1password.example</c> is a name.
    /// </summary>
    internal static bool LooksLikeDnsName(string token)
        => token.Contains('.', StringComparison.Ordinal) && !token.Contains(':', StringComparison.Ordinal)
            && !token.Contains('/', StringComparison.Ordinal) && !token.All(c => char.IsAsciiDigit(c) || c == '.');

    /// <summary>One peer or network item: an address, a CIDR, <c>any</c> or the name of a network.</summary>
    private List<IPNetwork>? ResolvePeerToken(Token token, string where, int depth, string? inNetwork)
    {
        if (LooksLikeDnsName(token.Text))
        {
            diagnostics.Error(token.At, $"'{token.Text}' in {where} is a DNS name; names go directly in a rule's 'peer' (networks hold addresses only)");
            return null;
        }

        if (AddressText.LooksLikeAddress(token.Text))
        {
            if (AddressText.TryParseNetwork(token.Text, out var network, out var error))
            {
                return [network];
            }

            diagnostics.Error(token.At, $"{where}: {error}");
            return null;
        }

        if (token.Text == AnyNetwork)
        {
            return [AnyV4, AnyV6];
        }

        if (_networks.ContainsKey(token.Text))
        {
            return ResolveNetwork(token.Text, token.At, inNetwork ?? token.Text, depth);
        }

        var suggestion = PolicyReader.Suggest(token.Text, _networks.Keys);
        diagnostics.Error(token.At, $"unknown network '{token.Text}' in {where}{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}");
        return null;
    }

    private static void AddDistinct(List<IPNetwork> into, List<IPNetwork> items)
    {
        foreach (var n in items)
        {
            if (!into.Contains(n))
            {
                into.Add(n);
            }
        }
    }

    private void CheckUniqueIds(List<RuleDecl> rules)
    {
        var seen = new Dictionary<string, RuleDecl>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            if (rule.Id is not null && !seen.TryAdd(rule.Id, rule))
            {
                diagnostics.Error(rule.IdAt, $"rule id '{rule.Id}' is used twice in {rule.Owner} (first at {seen[rule.Id].IdAt})");
            }
        }
    }

    /// <summary>Resolves one rule once, however many cameras use it; null when it is in error (already reported).</summary>
    private RuleSpec? ResolveRule(RuleDecl rule)
    {
        if (_rules.TryGetValue(rule, out var cached))
        {
            return cached;
        }

        var what = rule.Describe();
        var peers = new List<IPNetwork>();
        var names = new List<string>();
        var ok = !rule.Broken;
        foreach (var token in rule.Peers)
        {
            if (LooksLikeDnsName(token.Text))
            {
                if (DnsNamePattern.TryParse(token.Text, out var pattern, out var error))
                {
                    if (!names.Contains(pattern!.Text))
                    {
                        names.Add(pattern.Text);
                    }
                }
                else
                {
                    diagnostics.Error(token.At, $"{what}: {error}");
                    ok = false;
                }

                continue;
            }

            var expanded = ResolvePeerToken(token, what, depth: 0, inNetwork: null);
            if (expanded is null)
            {
                ok = false;
            }
            else
            {
                AddDistinct(peers, expanded);
            }
        }

        var icmpTypes = ResolveIcmpTypes(rule, what, ref ok);
        ok &= CheckRuleCanMatch(rule, peers, what);

        RuleSpec? spec = null;
        if (ok && rule.Id is not null && rule.Direction is { } direction && rule.Protocol is { } protocol && (peers.Count > 0 || names.Count > 0))
        {
            spec = new RuleSpec
            {
                Id = rule.Id,
                Direction = direction,
                Protocol = protocol,
                Ports = rule.Ports.ToArray(),
                IcmpTypes = icmpTypes,
                Peers = peers,
                Names = names,
                Log = rule.Log,
                EncryptedDns = rule.EncryptedDns,
                Comment = rule.Comment,
                Origin = $"{rule.At} ({rule.Owner})",
            };

            if (peers.Contains(AnyV4) || peers.Contains(AnyV6))
            {
                diagnostics.Warning(rule.PeerAt, direction == Direction.Egress
                    ? $"{what} lets the camera open connections to anywhere ({(peers.Contains(AnyV4) ? "0.0.0.0/0" : "::/0")})"
                    : $"{what} lets anyone open connections to the camera ({(peers.Contains(AnyV4) ? "0.0.0.0/0" : "::/0")})");
            }
        }

        _rules[rule] = spec;
        return spec;
    }

    private byte[] ResolveIcmpTypes(RuleDecl rule, string what, ref bool ok)
    {
        if (rule.IcmpTypes.Count == 0)
        {
            return [];
        }

        if (rule.Protocol is not (RuleProtocol.Icmp or RuleProtocol.Icmpv6))
        {
            if (rule.Protocol is not null)
            {
                diagnostics.Error(rule.IcmpTypesAt!.Value, $"{what} can never match: 'icmp_types' needs protocol icmp or icmpv6, not {Name(rule.Protocol.Value)}");
            }

            ok = false;
            return [];
        }

        var v6 = rule.Protocol == RuleProtocol.Icmpv6;
        var types = new List<byte>();
        foreach (var token in rule.IcmpTypes)
        {
            if (IcmpTypeNames.TryParse(token.Text, v6, out var type))
            {
                if (!types.Contains(type))
                {
                    types.Add(type);
                }
            }
            else
            {
                diagnostics.Error(token.At, $"'{token.Text}' is not an {(v6 ? "ICMPv6" : "ICMP")} type (a number 0-255 or a name like echo-request) in {what}");
                ok = false;
            }
        }

        return types.ToArray();
    }

    private bool CheckRuleCanMatch(RuleDecl rule, List<IPNetwork> peers, string what)
    {
        var ok = true;
        if (rule.PortsAt is { } portsAt && rule.Protocol is { } p && p is not (RuleProtocol.Tcp or RuleProtocol.Udp))
        {
            diagnostics.Error(portsAt, $"{what} can never match: ports apply to tcp and udp, not {Name(p)}");
            ok = false;
        }

        if (peers.Count > 0 && rule.Protocol is RuleProtocol.Icmp or RuleProtocol.Icmpv6)
        {
            var v6 = rule.Protocol == RuleProtocol.Icmpv6;
            if (!peers.Exists(n => IsV6(n) == v6))
            {
                diagnostics.Error(rule.PeerAt, v6
                    ? $"{what} can never match: icmpv6 is IPv6 only but every peer is IPv4 (use icmp)"
                    : $"{what} can never match: icmp is IPv4 only but every peer is IPv6 (use icmpv6)");
                ok = false;
            }
        }

        return ok;
    }

    private List<CameraSpec> ResolveCameras(SiteDecl site)
    {
        var byName = new Dictionary<string, CameraDecl>(StringComparer.Ordinal);
        var byMac = new Dictionary<MacAddress, CameraDecl>();
        var byIp = new Dictionary<IPAddress, (CameraDecl Camera, SourceLocation At)>();
        var result = new List<CameraSpec>(decls.Cameras.Count);
        foreach (var camera in decls.Cameras)
        {
            var owner = $"camera '{camera.Name}'";
            if (!byName.TryAdd(camera.Name, camera))
            {
                diagnostics.Error(camera.At, $"{owner} is already defined at {byName[camera.Name].At}");
                continue;
            }

            if (camera.Mac is { } mac && !byMac.TryAdd(mac, camera))
            {
                var other = byMac[mac];
                diagnostics.Error(camera.MacAt, $"cameras '{other.Name}' and '{camera.Name}' overlap: both have MAC {mac} (first at {other.MacAt})");
            }

            foreach (var (address, at) in camera.Addresses)
            {
                if (!byIp.TryAdd(address, (camera, at)))
                {
                    var other = byIp[address];
                    diagnostics.Error(at, $"cameras '{other.Camera.Name}' and '{camera.Name}' overlap: both have IP {address} (first at {other.At})");
                }
            }

            if (camera.Mac is null && camera.Addresses.Count > 0)
            {
                diagnostics.Warning(camera.At, $"{owner} is identified by IP alone: any device that takes {camera.Addresses[0].Address} gets its rules (add its 'mac')");
            }

            if (ResolveCamera(camera, owner, site) is { } spec)
            {
                result.Add(spec);
            }
        }

        return result;
    }

    private CameraSpec? ResolveCamera(CameraDecl camera, string owner, SiteDecl site)
    {
        var ok = !camera.IdentityBroken;
        var profiles = new List<ProfileDecl>(camera.Profiles.Count);
        foreach (var token in camera.Profiles)
        {
            if (!_profiles.TryGetValue(token.Text, out var profile))
            {
                var suggestion = PolicyReader.Suggest(token.Text, _profiles.Keys);
                diagnostics.Error(token.At, $"unknown profile '{token.Text}' in {owner}{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}");
                ok = false;
            }
            else if (profiles.Contains(profile))
            {
                diagnostics.Error(token.At, $"profile '{token.Text}' is listed twice in {owner}");
                ok = false;
            }
            else
            {
                profiles.Add(profile);
            }
        }

        var d = site.Defaults;
        var allowIpv6 = Pick(camera.Allowances.Ipv6, profiles, a => a.Ipv6, d.Ipv6 ?? false);
        var allowArp = Pick(camera.Allowances.Arp, profiles, a => a.Arp, d.Arp ?? true);
        var allowDhcp = Pick(camera.Allowances.Dhcp, profiles, a => a.Dhcp, d.Dhcp ?? true);
        var discovery = camera.Allowances.Discovery ?? PickDiscovery(profiles) ?? d.Discovery ?? DiscoveryProtocols.None;
        var quota = camera.Allowances.FlowQuota ?? MaxQuota(profiles) ?? d.FlowQuota;
        var (mode, modeFrom) = PickMode(camera, profiles, site, owner, ref ok);
        var (dnsQueries, dnsAlso) = PickDnsQueries(camera, profiles, d);
        if (dnsQueries == DnsQueryScope.Any && camera.Allowances.DnsAlso.Count > 0)
        {
            diagnostics.Warning(camera.Allowances.DnsAlso[0].At, $"'dns.also' in {owner} has no effect: the camera may ask about any name (set 'queries: rules' to restrict it)");
        }

        if (!allowIpv6)
        {
            foreach (var (address, at) in camera.Addresses)
            {
                if (address.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    diagnostics.Error(at, $"{owner} has IPv6 address {address} but IPv6 is off for it; set 'ipv6: true' on the camera or one of its profiles");
                    ok = false;
                }
            }
        }

        // Effective rules: profiles in order, then the camera's own. Ids must be unique across all of them.
        // Where each id came from is kept as references; text is only built for an error.
        var rules = new List<RuleSpec>();
        var ids = _idScratch;
        ids.Clear();
        foreach (var profile in profiles)
        {
            foreach (var rule in profile.Rules)
            {
                var spec = ResolveRule(rule);
                if (spec is null)
                {
                    ok = false;
                    continue;
                }

                if (!ids.TryAdd(spec.Id, (profile, rule)))
                {
                    // A clash inside one profile was reported on the profile; a clash between profiles is the camera's.
                    var first = ids[spec.Id];
                    if (first.Profile != profile)
                    {
                        diagnostics.Error(ProfileTokenAt(camera, profile), $"rule id '{spec.Id}' is defined twice for {owner}: in {DescribeSource(first)} and in {DescribeSource((profile, rule))}");
                    }

                    ok = false;
                    continue;
                }

                if (!allowIpv6 && OnlyIpv6(spec))
                {
                    _deadOnIpv4Cameras[rule] = _deadOnIpv4Cameras.TryGetValue(rule, out var seen) ? (seen.Count + 1, seen.FirstCamera) : (1, camera.Name);
                }

                rules.Add(spec);
            }
        }

        CheckUniqueIds(camera.Rules);
        foreach (var rule in camera.Rules)
        {
            var spec = ResolveRule(rule);
            if (spec is null)
            {
                ok = false;
                continue;
            }

            if (!ids.TryAdd(spec.Id, (null, rule)))
            {
                var first = ids[spec.Id];
                if (first.Profile is not null)
                {
                    diagnostics.Error(rule.IdAt, $"rule id '{spec.Id}' is defined twice for {owner}: in {DescribeSource(first)} and here");
                }

                ok = false;
                continue;
            }

            if (!allowIpv6 && OnlyIpv6(spec))
            {
                diagnostics.Error(rule.At, $"{rule.Describe()} can never match: it is IPv6 only and IPv6 is off for the camera");
                ok = false;
            }

            rules.Add(spec);
        }

        var distinctNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in rules)
        {
            distinctNames.UnionWith(r.Names);
        }

        if (distinctNames.Count > PolicyLimits.MaxDnsNamesPerCamera)
        {
            diagnostics.Error(camera.At, $"{owner} has {distinctNames.Count} distinct DNS names in its rules; at most {PolicyLimits.MaxDnsNamesPerCamera}");
            ok = false;
        }

        if (dnsQueries == DnsQueryScope.Rules && distinctNames.Count == 0 && dnsAlso.Count == 0 && ok)
        {
            diagnostics.Warning(camera.At, $"{owner} may only ask DNS about its rules' names and 'dns.also', and names none: every DNS query it sends will be dropped");
        }

        if (rules.Count == 0 && ok)
        {
            diagnostics.Warning(camera.At, $"{owner} has no rules (no profiles, no rules of its own): it may only use ARP and DHCP");
        }

        if (!ok)
        {
            return null;
        }

        var addresses = new IPAddress[camera.Addresses.Count];
        for (var i = 0; i < addresses.Length; i++)
        {
            addresses[i] = camera.Addresses[i].Address;
        }

        var profileNames = new string[profiles.Count];
        for (var i = 0; i < profileNames.Length; i++)
        {
            profileNames[i] = profiles[i].Name;
        }

        return new CameraSpec
        {
            Name = camera.Name,
            Mac = camera.Mac,
            Addresses = addresses,
            Mode = mode,
            ModeFrom = modeFrom,
            Profiles = profileNames,
            Rules = rules,
            AllowArp = allowArp,
            AllowDhcp = allowDhcp,
            AllowIpv6 = allowIpv6,
            Discovery = discovery,
            FlowQuota = quota,
            DnsQueries = dnsQueries,
            DnsAlso = dnsAlso,
            DnsGuard = camera.Allowances.DnsGuard ?? StrictestGuard(profiles) ?? d.DnsGuard,
        };
    }

    /// <summary>The strictest guard action its profiles set (drop, then report, then off), or null when none sets one.</summary>
    private static DnsGuardAction? StrictestGuard(List<ProfileDecl> profiles)
    {
        DnsGuardAction? result = null;
        foreach (var p in profiles)
        {
            if (p.Allowances.DnsGuard is { } g && (result is null || Strictness(g) > Strictness(result.Value)))
            {
                result = g;
            }
        }

        return result;

        static int Strictness(DnsGuardAction a) => a switch { DnsGuardAction.Drop => 2, DnsGuardAction.Report => 1, _ => 0 };
    }

    /// <summary>
    /// Which names a camera may ask about: its own <c>dns.queries</c>; else <c>rules</c> when any of its profiles
    /// restricts (a profile restricts for the cameras that use it); else any profile's; else the site's; else any. The
    /// <c>also</c> names are the union of the site's, the profiles' and the camera's, in that order.
    /// </summary>
    private static (DnsQueryScope Scope, IReadOnlyList<string> Also) PickDnsQueries(CameraDecl camera, List<ProfileDecl> profiles, AllowanceDecl site)
    {
        DnsQueryScope? fromProfiles = null;
        foreach (var p in profiles)
        {
            if (p.Allowances.DnsQueries is { } q)
            {
                fromProfiles = fromProfiles == DnsQueryScope.Rules ? DnsQueryScope.Rules : q;
            }
        }

        var scope = camera.Allowances.DnsQueries ?? fromProfiles ?? site.DnsQueries ?? DnsQueryScope.Any;
        var also = new List<string>();
        foreach (var source in profiles.Select(p => p.Allowances).Prepend(site).Append(camera.Allowances))
        {
            foreach (var name in source.DnsAlso)
            {
                if (!also.Contains(name.Text))
                {
                    also.Add(name.Text);
                }
            }
        }

        return (scope, scope == DnsQueryScope.Rules ? also : []);
    }

    private static string DescribeSource((ProfileDecl? Profile, RuleDecl Rule) source)
        => source.Profile is { } p ? $"profile '{p.Name}' ({source.Rule.IdAt})" : $"{source.Rule.Owner} ({source.Rule.IdAt})";

    private static SourceLocation ProfileTokenAt(CameraDecl camera, ProfileDecl profile)
        => camera.Profiles.Find(t => t.Text == profile.Name)?.At ?? camera.At;

    /// <summary>The camera's own setting wins; else any profile that allows it; else any profile that forbids it; else the site.</summary>
    private static bool Pick(bool? own, List<ProfileDecl> profiles, Func<AllowanceDecl, bool?> get, bool site)
    {
        if (own is { } value)
        {
            return value;
        }

        bool? fromProfiles = null;
        foreach (var p in profiles)
        {
            if (get(p.Allowances) is { } v)
            {
                fromProfiles = (fromProfiles ?? false) || v;
            }
        }

        return fromProfiles ?? site;
    }

    /// <summary>
    /// The camera's mode: its own <c>mode</c> wins; else its profiles' (they must agree: which of two modes a camera
    /// is in is never guessed, least of all between enforce and not); else the site's; else enforce. Also says where
    /// it came from, for <c>policy show</c>.
    /// </summary>
    private (CameraMode Mode, string From) PickMode(CameraDecl camera, List<ProfileDecl> profiles, SiteDecl site, string owner, ref bool ok)
    {
        if (camera.Mode is { } own)
        {
            return (own, "camera");
        }

        ProfileDecl? from = null;
        foreach (var p in profiles)
        {
            if (p.Mode is not { } m)
            {
                continue;
            }

            if (from is null)
            {
                from = p;
            }
            else if (from.Mode!.Value.Mode != m.Mode)
            {
                diagnostics.Error(ProfileTokenAt(camera, p), $"{owner} gets mode '{PolicyFormatter.ModeWord(from.Mode.Value.Mode)}' from profile '{from.Name}' ({from.Mode.Value.At}) and mode '{PolicyFormatter.ModeWord(m.Mode)}' from profile '{p.Name}' ({m.At}); set 'mode' on the camera");
                ok = false;
            }
        }

        if (from is not null)
        {
            return (from.Mode!.Value.Mode, $"profile '{from.Name}'");
        }

        return site.Mode is { } siteMode ? (siteMode, "site") : (CameraMode.Enforce, "default");
    }


    private static DiscoveryProtocols? PickDiscovery(List<ProfileDecl> profiles)
    {
        DiscoveryProtocols? result = null;
        foreach (var p in profiles)
        {
            if (p.Allowances.Discovery is { } d)
            {
                result = (result ?? DiscoveryProtocols.None) | d;
            }
        }

        return result;
    }

    private static int? MaxQuota(List<ProfileDecl> profiles)
    {
        int? result = null;
        foreach (var p in profiles)
        {
            if (p.Allowances.FlowQuota is { } q && (result is null || q > result))
            {
                result = q;
            }
        }

        return result;
    }

    private static bool OnlyIpv6(RuleSpec rule)
    {
        if (rule.Names.Count > 0)
        {
            return false; // a name may resolve to either family
        }

        if (rule.Protocol == RuleProtocol.Icmpv6)
        {
            return true;
        }

        foreach (var n in rule.Peers)
        {
            if (!IsV6(n))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsV6(IPNetwork n) => n.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;

    internal static string Name(RuleProtocol protocol) => protocol switch
    {
        RuleProtocol.Tcp => "tcp",
        RuleProtocol.Udp => "udp",
        RuleProtocol.Icmp => "icmp",
        RuleProtocol.Icmpv6 => "icmpv6",
        _ => "any",
    };
}
