using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Core.Policy;

public sealed partial class CompiledPolicy
{
    /// <summary>
    /// Compiles a validated spec into lookup tables. Off the hot path (allocates freely). Throws
    /// <see cref="PolicyCompileException"/> only for what validation should have caught: duplicate camera names,
    /// MACs or addresses, or more cameras than <paramref name="slots"/> can number.
    /// </summary>
    public static CompiledPolicy Compile(PolicySpec spec, uint version, CameraSlotRegistry slots)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(slots);

        var cameraCount = spec.Cameras.Count;
        var records = new CameraRecord[cameraCount];
        var cameras = new CompiledCamera[cameraCount];
        var macs = new List<(MacAddress, int)>(cameraCount);
        var addresses = new List<(IpAddr, int)>(cameraCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var rules = new List<RuleInfo>();
        var ruleSets = new Dictionary<string, RuleSetIndex>(StringComparer.Ordinal);
        var queryFilters = new Dictionary<string, DnsQueryFilter>(StringComparer.Ordinal);
        var maxSlot = -1;
        bool anyDhcp = false, anyIpv6 = false;
        var anyDiscovery = DiscoveryProtocols.None;

        for (var i = 0; i < cameraCount; i++)
        {
            var c = spec.Cameras[i];
            if (!names.Add(c.Name))
            {
                PolicyCompileException.Throw($"camera '{c.Name}' is defined twice");
            }

            if (c.Mac is null && c.Addresses.Count == 0)
            {
                PolicyCompileException.Throw($"camera '{c.Name}' has neither a MAC nor an address");
            }

            if (!slots.TryGetOrAdd(c.Name, out var slot))
            {
                PolicyCompileException.Throw(
                    $"camera '{c.Name}': the slot registry is full ({slots.Capacity} cameras); restart to renumber");
            }

            maxSlot = Math.Max(maxSlot, slot);

            // Identical effective rule sets (cameras built from the same profiles) compile once and share tables.
            var key = RuleSetKey(c.Rules);
            if (!ruleSets.TryGetValue(key, out var ruleSet))
            {
                ruleSet = BuildRuleSet(c.Rules, rules);
                ruleSets.Add(key, ruleSet);
            }

            if (c.Mac is { } mac)
            {
                macs.Add((mac, i));
            }

            foreach (var a in c.Addresses)
            {
                addresses.Add((IpAddr.FromIPAddress(a), i));
            }

            records[i] = new CameraRecord
            {
                Slot = slot,
                Mac = c.Mac ?? default,
                HasMac = c.Mac is not null,
                HasAddresses = c.Addresses.Count > 0,
                Monitor = c.Mode != CameraMode.Enforce, // learn passes like monitor
                Learn = c.Mode == CameraMode.Learn,
                AllowArp = c.AllowArp,
                AllowDhcp = c.AllowDhcp,
                AllowIpv6 = c.AllowIpv6,
                Discovery = c.Discovery,
                FlowQuota = c.FlowQuota is > 0 ? c.FlowQuota.Value : 0,
                Rules = ruleSet,
                Queries = c.DnsQueries == DnsQueryScope.Rules ? QueryFilter(ruleSet, c, queryFilters) : null,
                Guard = c.DnsGuard ?? spec.Site.DnsGuard.Action,
            };
            anyDhcp |= c.AllowDhcp;
            anyIpv6 |= c.AllowIpv6;
            anyDiscovery |= c.Discovery;
        }

        var bySlot = new int[maxSlot + 1];
        Array.Fill(bySlot, -1);
        for (var i = 0; i < cameraCount; i++)
        {
            bySlot[records[i].Slot] = i;
        }

        var ruleArray = rules.ToArray();
        for (var i = 0; i < cameraCount; i++)
        {
            cameras[i] = new CompiledCamera(spec.Cameras[i], records[i].Slot, records[i].Rules, ruleArray, records[i].Queries) { DnsGuard = records[i].Guard };
        }

        return new CompiledPolicy(records, cameras, bySlot, new MacIndex(macs), new IpIndex(addresses), ruleArray, ruleSets.Count)
        {
            Version = version,
            Sha256 = spec.Sha256,
            CompiledAt = DateTimeOffset.UtcNow,
            Spec = spec,
            UnknownDevices = spec.Site.UnknownDevices,
            LearnsUnknownDevices = spec.Site.Mode == CameraMode.Learn,
            AnyDhcp = anyDhcp,
            DhcpServers = [.. spec.Site.DhcpServers.Select(IpAddr.FromIPAddress)],
            Routers = [.. spec.Site.Routers.Select(IpAddr.FromIPAddress)],
            AnyIpv6 = anyIpv6,
            AnyDiscovery = anyDiscovery,
            DnsMinTtlMs = (long)Math.Max(0, spec.Site.DnsMinTtl.TotalMilliseconds),
            Guard = new DnsGuardSettings(spec.Site.DnsGuard),
            DohAddresses = DohAddressesOf(spec.Site.DohResolvers),
            DohNames = DohNamesOf(spec.Site.DohResolvers),
        };
    }

    private static IpAddr[] DohAddressesOf(IReadOnlyList<string> resolvers)
        => [.. resolvers.Where(r => IPAddress.TryParse(r, out _)).Select(r => IpAddr.FromIPAddress(IPAddress.Parse(r)))];

    private static DnsQueryFilter? DohNamesOf(IReadOnlyList<string> resolvers)
    {
        var patterns = new List<DnsNamePattern>();
        foreach (var r in resolvers)
        {
            if (IPAddress.TryParse(r, out _))
            {
                continue;
            }

            if (!DnsNamePattern.TryParse(r, out var pattern, out var error))
            {
                PolicyCompileException.Throw($"doh_resolvers: {error}");
            }

            patterns.Add(pattern!);
        }

        return patterns.Count == 0 ? null : new DnsQueryFilter([.. patterns]);
    }

    /// <summary>
    /// The names camera <paramref name="c"/> may ask about: its rule set's names, then its <c>also</c> list (duplicates
    /// dropped). Cameras with the same set share one filter.
    /// </summary>
    private static DnsQueryFilter QueryFilter(RuleSetIndex ruleSet, CameraSpec c, Dictionary<string, DnsQueryFilter> cache)
    {
        var patterns = new List<DnsNamePattern>(ruleSet.Patterns.ToArray());
        foreach (var text in c.DnsAlso)
        {
            if (!DnsNamePattern.TryParse(text, out var pattern, out var error))
            {
                PolicyCompileException.Throw($"camera '{c.Name}': dns also: {error}");
            }

            if (!patterns.Exists(p => p.Text == pattern!.Text))
            {
                patterns.Add(pattern!);
            }
        }

        var key = string.Join('\n', patterns.Select(p => p.Text));
        if (!cache.TryGetValue(key, out var filter))
        {
            filter = new DnsQueryFilter([.. patterns]);
            cache.Add(key, filter);
        }

        return filter;
    }

    private static RuleSetIndex BuildRuleSet(IReadOnlyList<RuleSpec> specs, List<RuleInfo> rules)
    {
        var first = rules.Count;
        foreach (var r in specs)
        {
            rules.Add(new RuleInfo(r.Id, r.Direction, r.Protocol, r.Log, r.Comment, r.Origin) { Names = r.Names, EncryptedDns = r.EncryptedDns });
        }

        var maps = new KeyMap[RuleSetIndex.Families * RuleSetIndex.Directions * RuleSetIndex.Classes];
        for (var family = 0; family < RuleSetIndex.Families; family++)
        {
            // A peer map depends only on which rules cover the interval and on the family (each rule's peers of
            // that family), so intervals of any direction and protocol covered by the same rules share one.
            var peerMapCache = new Dictionary<string, PeerMap>(StringComparer.Ordinal);
            for (var direction = 0; direction < RuleSetIndex.Directions; direction++)
            {
                for (var cls = 0; cls < RuleSetIndex.Classes; cls++)
                {
                    var members = new List<Member>();
                    for (var r = 0; r < specs.Count; r++)
                    {
                        var spec = specs[r];
                        if ((int)spec.Direction != direction)
                        {
                            continue;
                        }

                        var keys = KeyRanges(spec, (ProtocolClass)cls);
                        var peers = PeerRanges(spec, family == 1);
                        if (keys.Count > 0 && peers.Count > 0)
                        {
                            members.Add(new Member(first + r, keys, peers));
                        }
                    }

                    var index = RuleSetIndex.MapIndex(family == 1, (Direction)direction, (ProtocolClass)cls);
                    maps[index] = members.Count == 0 ? KeyMap.Empty : BuildKeyMap(members, peerMapCache);
                }
            }
        }

        var (patterns, nameRules) = BuildNameRules(specs, first);
        return new RuleSetIndex(maps, first, specs.Count, patterns, nameRules);
    }

    /// <summary>
    /// The rules with DNS names, in policy order, each with the bit mask of the set's distinct name patterns it
    /// names. At most <see cref="RuleSetIndex.MaxNamePatterns"/> patterns per set, so a mask is one word.
    /// </summary>
    private static (DnsNamePattern[] Patterns, NameRule[] Rules) BuildNameRules(IReadOnlyList<RuleSpec> specs, int first)
    {
        var patterns = new List<DnsNamePattern>();
        var nameRules = new List<NameRule>();
        for (var r = 0; r < specs.Count; r++)
        {
            var spec = specs[r];
            if (spec.Names.Count == 0)
            {
                continue;
            }

            ulong mask = 0;
            foreach (var text in spec.Names)
            {
                if (!DnsNamePattern.TryParse(text, out var pattern, out var error))
                {
                    PolicyCompileException.Throw($"rule '{spec.Id}': {error}");
                }

                var at = patterns.FindIndex(p => p.Text == pattern!.Text);
                if (at < 0)
                {
                    if (patterns.Count == RuleSetIndex.MaxNamePatterns)
                    {
                        PolicyCompileException.Throw($"rule '{spec.Id}': a camera's rules may name at most {RuleSetIndex.MaxNamePatterns} distinct DNS names");
                    }

                    at = patterns.Count;
                    patterns.Add(pattern!);
                }

                mask |= 1UL << at;
            }

            var keys = new (int Low, int High)[RuleSetIndex.Classes][];
            for (var cls = 0; cls < RuleSetIndex.Classes; cls++)
            {
                keys[cls] = [.. KeyRanges(spec, (ProtocolClass)cls)];
            }

            nameRules.Add(new NameRule(first + r, spec.Direction, mask, keys));
        }

        return ([.. patterns], [.. nameRules]);
    }

    private static KeyMap BuildKeyMap(List<Member> members, Dictionary<string, PeerMap> cache)
    {
        var points = new SortedSet<int> { 0 };
        foreach (var m in members)
        {
            foreach (var (lo, hi) in m.Keys)
            {
                points.Add(lo);
                if (hi < ushort.MaxValue)
                {
                    points.Add(hi + 1);
                }
            }
        }

        var starts = new List<ushort>();
        var peerMaps = new List<PeerMap>();
        var covering = new List<Member>();
        foreach (var start in points)
        {
            // Boundaries are every range's edges, so a range covers the whole elementary interval iff it holds its start.
            covering.Clear();
            foreach (var m in members)
            {
                if (m.Keys.Exists(k => k.Low <= start && start <= k.High))
                {
                    covering.Add(m);
                }
            }

            var signature = string.Join(',', covering.Select(m => m.Rule));
            if (!cache.TryGetValue(signature, out var peerMap))
            {
                peerMap = covering.Count == 0 ? PeerMap.Empty : BuildPeerMap(covering);
                cache.Add(signature, peerMap);
            }

            // Neighbouring intervals covered by the same rules merge into one.
            if (peerMaps.Count > 0 && ReferenceEquals(peerMaps[^1], peerMap))
            {
                continue;
            }

            starts.Add((ushort)start);
            peerMaps.Add(peerMap);
        }

        return new KeyMap([.. starts], [.. peerMaps]);
    }

    private static PeerMap BuildPeerMap(List<Member> members)
    {
        var points = new SortedSet<UInt128> { UInt128.Zero };
        foreach (var m in members)
        {
            foreach (var (lo, hi) in m.Peers)
            {
                points.Add(lo);
                if (hi != UInt128.MaxValue)
                {
                    points.Add(hi + 1);
                }
            }
        }

        var starts = new List<UInt128>();
        var first = new List<int>();
        var all = new List<int[]>();
        foreach (var start in points)
        {
            var rules = members.Where(m => m.Peers.Exists(p => p.Low <= start && start <= p.High)).Select(m => m.Rule).ToArray();
            if (all.Count > 0 && all[^1].AsSpan().SequenceEqual(rules))
            {
                continue;
            }

            // Members are in rule order, so the first covering one is the rule a verdict names.
            starts.Add(start);
            first.Add(rules.Length > 0 ? rules[0] : -1);
            all.Add(rules);
        }

        return new PeerMap([.. starts], [.. first], [.. all]);
    }

    /// <summary>
    /// The opener keys a rule covers in one protocol class. Ports apply to TCP and UDP, ICMP types to ICMP and
    /// ICMPv6. A rule for "any" protocol covers the classes its restrictions make sense for: with ports only
    /// TCP/UDP, with ICMP types only ICMP, with neither every protocol (including ones without ports).
    /// </summary>
    private static List<(int Low, int High)> KeyRanges(RuleSpec rule, ProtocolClass cls)
    {
        var any = rule.Protocol == RuleProtocol.Any;
        var hasPorts = rule.Ports.Count > 0;
        var hasTypes = rule.IcmpTypes.Count > 0;
        var covered = cls switch
        {
            ProtocolClass.Tcp => rule.Protocol == RuleProtocol.Tcp || (any && (hasPorts || !hasTypes)),
            ProtocolClass.Udp => rule.Protocol == RuleProtocol.Udp || (any && (hasPorts || !hasTypes)),
            ProtocolClass.Icmp => rule.Protocol == RuleProtocol.Icmp || (any && (hasTypes || !hasPorts)),
            ProtocolClass.Icmpv6 => rule.Protocol == RuleProtocol.Icmpv6 || (any && (hasTypes || !hasPorts)),
            _ => any && !hasPorts && !hasTypes,
        };
        var result = new List<(int, int)>();
        if (!covered)
        {
            return result;
        }

        switch (cls)
        {
            case ProtocolClass.Tcp or ProtocolClass.Udp:
                if (!hasPorts)
                {
                    result.Add((0, ushort.MaxValue));
                }

                foreach (var p in rule.Ports)
                {
                    result.Add((Math.Min(p.Low, p.High), Math.Max(p.Low, p.High)));
                }

                break;
            case ProtocolClass.Icmp or ProtocolClass.Icmpv6:
                if (!hasTypes)
                {
                    result.Add((0, byte.MaxValue));
                }

                foreach (var t in rule.IcmpTypes)
                {
                    result.Add((t, t));
                }

                break;
            default:
                result.Add((0, ushort.MaxValue));
                break;
        }

        return result;
    }

    private static List<(UInt128 Low, UInt128 High)> PeerRanges(RuleSpec rule, bool v6)
    {
        var result = new List<(UInt128, UInt128)>();
        foreach (var network in rule.Peers)
        {
            var isV6 = network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;
            if (isV6 != v6)
            {
                continue;
            }

            result.Add(NetworkRange(network));
        }

        return result;
    }

    /// <summary>An IPv4 network becomes a range inside the IPv4-mapped block, as <see cref="IpAddr"/> keys it.</summary>
    internal static (UInt128 Low, UInt128 High) NetworkRange(IPNetwork network)
    {
        var baseAddress = IpAddr.FromIPAddress(network.BaseAddress).Value;
        var bits = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var hostBits = bits - Math.Clamp(network.PrefixLength, 0, bits);
        var hostMask = hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        var low = baseAddress & ~hostMask;
        return (low, low | hostMask);
    }

    private static string RuleSetKey(IReadOnlyList<RuleSpec> rules)
    {
        var sb = new StringBuilder();
        foreach (var r in rules)
        {
            sb.Append(r.Id).Append('\u001f').Append((int)r.Direction).Append('\u001f').Append((int)r.Protocol).Append('\u001f');
            foreach (var p in r.Ports)
            {
                sb.Append(p.Low).Append('-').Append(p.High).Append(',');
            }

            sb.Append('\u001f');
            foreach (var t in r.IcmpTypes)
            {
                sb.Append(t).Append(',');
            }

            sb.Append('\u001f');
            foreach (var n in r.Peers)
            {
                sb.Append(n.ToString()).Append(',');
            }

            sb.Append('\u001f');
            foreach (var n in r.Names)
            {
                sb.Append(n).Append(',');
            }

            sb.Append('\u001f').Append(r.Log).Append('\u001f').Append(r.Comment).Append('\u001f').Append(r.Origin).Append('\u001e');
        }

        return sb.ToString();
    }

    private sealed record Member(int Rule, List<(int Low, int High)> Keys, List<(UInt128 Low, UInt128 High)> Peers);
}
