using System.Net;

namespace Appliance.Core.Policy;

/// <summary>
/// One camera as compiled: identity, counter slot, mode and settings, and its rules decompiled from the lookup
/// tables (what the data path will actually enforce, which is what <c>policy show</c> must print).
/// </summary>
public sealed class CompiledCamera
{
    private readonly RuleSetIndex _rules;
    private readonly RuleInfo[] _ruleInfos;
    private IReadOnlyList<RuleSpec>? _decompiled;

    internal CompiledCamera(CameraSpec spec, int slot, RuleSetIndex rules, RuleInfo[] ruleInfos, DnsQueryFilter? queries = null)
    {
        DnsQueries = queries is null ? DnsQueryScope.Any : DnsQueryScope.Rules;
        DnsQueryNames = queries is null ? [] : [.. queries.Patterns.Select(p => p.Text)];
        DnsAlso = spec.DnsAlso;
        Name = spec.Name;
        Slot = slot;
        Mac = spec.Mac;
        Addresses = spec.Addresses;
        Mode = spec.Mode;
        ModeFrom = spec.ModeFrom;
        Profiles = spec.Profiles;
        AllowArp = spec.AllowArp;
        AllowDhcp = spec.AllowDhcp;
        AllowIpv6 = spec.AllowIpv6;
        Discovery = spec.Discovery;
        FlowQuota = spec.FlowQuota;
        _rules = rules;
        _ruleInfos = ruleInfos;
    }

    /// <inheritdoc cref="CameraSpec.Name"/>
    public string Name { get; }

    /// <summary>Counter slot, stable across reloads (see <see cref="CameraSlotRegistry"/>).</summary>
    public int Slot { get; }

    /// <inheritdoc cref="CameraSpec.Mac"/>
    public MacAddress? Mac { get; }

    /// <inheritdoc cref="CameraSpec.Addresses"/>
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <inheritdoc cref="CameraSpec.Mode"/>
    public CameraMode Mode { get; }

    /// <inheritdoc cref="CameraSpec.ModeFrom"/>
    public string ModeFrom { get; }

    /// <inheritdoc cref="CameraSpec.Profiles"/>
    public IReadOnlyList<string> Profiles { get; }

    /// <inheritdoc cref="CameraSpec.AllowArp"/>
    public bool AllowArp { get; }

    /// <inheritdoc cref="CameraSpec.AllowDhcp"/>
    public bool AllowDhcp { get; }

    /// <inheritdoc cref="CameraSpec.AllowIpv6"/>
    public bool AllowIpv6 { get; }

    /// <inheritdoc cref="CameraSpec.Discovery"/>
    public DiscoveryProtocols Discovery { get; }

    /// <summary>The policy's flow quota, or null for the engine's default.</summary>
    public int? FlowQuota { get; }

    /// <summary>Which names the camera may ask its resolver about, as compiled.</summary>
    public DnsQueryScope DnsQueries { get; }

    /// <summary>
    /// With <see cref="DnsQueryScope.Rules"/>: every name and wildcard the camera may ask about, read back from the
    /// compiled filter (its rules' names, then its <c>also</c> list); empty for <see cref="DnsQueryScope.Any"/>.
    /// </summary>
    public IReadOnlyList<string> DnsQueryNames { get; }

    /// <inheritdoc cref="CameraSpec.DnsAlso"/>
    public IReadOnlyList<string> DnsAlso { get; }

    /// <summary>What the DNS tunnel guard does with the camera's queries, as compiled (the site's action applied).</summary>
    public DnsGuardAction DnsGuard { get; internal init; }

    /// <summary>Global index of this camera's first rule in <see cref="CompiledPolicy.RuleIds"/>.</summary>
    public int FirstRuleIndex => _rules.FirstRule;

    /// <summary>
    /// The rules reconstructed from the compiled tables, in policy order and canonical form: ports merged and
    /// sorted (all ports: empty), ICMP types sorted (all types: empty), peers as the fewest CIDR blocks, IPv4 first.
    /// Comparing this with the spec proves the tables say what the policy says.
    /// </summary>
    public IReadOnlyList<RuleSpec> EffectiveRules() => _decompiled ??= Decompile();

    private List<RuleSpec> Decompile()
    {
        var result = new List<RuleSpec>(_rules.RuleCount);
        for (var g = _rules.FirstRule; g < _rules.FirstRule + _rules.RuleCount; g++)
        {
            var info = _ruleInfos[g];
            var keys = new List<(int Low, int High)>[RuleSetIndex.Classes];
            var peers = new[] { new List<(UInt128 Low, UInt128 High)>(), new List<(UInt128 Low, UInt128 High)>() };
            for (var cls = 0; cls < RuleSetIndex.Classes; cls++)
            {
                keys[cls] = [];
                for (var family = 0; family < RuleSetIndex.Families; family++)
                {
                    var map = _rules.MapAt(RuleSetIndex.MapIndex(family == 1, info.Direction, (ProtocolClass)cls));
                    for (var i = 0; i < map.IntervalCount; i++)
                    {
                        var (low, high, peerMap) = map.Interval(i);
                        var present = false;
                        for (var r = 0; r < peerMap.RangeCount; r++)
                        {
                            var (pLow, pHigh, rules) = peerMap.Range(r);
                            if (Array.BinarySearch(rules, g) >= 0)
                            {
                                present = true;
                                peers[family].Add((pLow, pHigh));
                            }
                        }

                        if (present)
                        {
                            keys[cls].Add((low, high));
                        }
                    }
                }
            }

            // A rule with only names is in no address table: its opener keys come from its name rule.
            if (peers[0].Count == 0 && peers[1].Count == 0 && _rules.NameRuleFor(g) is { } nameRule)
            {
                for (var cls = 0; cls < RuleSetIndex.Classes; cls++)
                {
                    keys[cls] = [.. nameRule.Keys[cls]];
                }
            }

            // Canonical "any" is the empty list, except for a rule of any protocol: there "no ports and no types"
            // also means protocols without ports, so its lists stay explicit unless the tables say it covers those.
            var anyProtocol = info.Protocol == RuleProtocol.Any;
            var coversOther = anyProtocol && keys[(int)ProtocolClass.Other].Count > 0;
            var portKeys = info.Protocol switch
            {
                RuleProtocol.Tcp or RuleProtocol.Any => keys[(int)ProtocolClass.Tcp],
                RuleProtocol.Udp => keys[(int)ProtocolClass.Udp],
                _ => [],
            };
            var typeKeys = info.Protocol switch
            {
                RuleProtocol.Icmp => keys[(int)ProtocolClass.Icmp],
                RuleProtocol.Icmpv6 => keys[(int)ProtocolClass.Icmpv6],
                RuleProtocol.Any => [.. keys[(int)ProtocolClass.Icmp], .. keys[(int)ProtocolClass.Icmpv6]],
                _ => [],
            };

            var ports = new List<PortRange>();
            var mergedPorts = Merge(portKeys);
            var allPorts = mergedPorts.Count == 1 && mergedPorts[0] == (0, ushort.MaxValue);
            if (!coversOther && !(allPorts && !anyProtocol))
            {
                ports.AddRange(mergedPorts.Select(k => new PortRange((ushort)k.Low, (ushort)k.High)));
            }

            var types = new List<byte>();
            var mergedTypes = Merge(typeKeys);
            var allTypes = mergedTypes.Count == 1 && mergedTypes[0] == (0, byte.MaxValue);
            if (!coversOther && !(allTypes && !anyProtocol))
            {
                foreach (var (low, high) in mergedTypes)
                {
                    for (var t = low; t <= high; t++)
                    {
                        types.Add((byte)t);
                    }
                }
            }

            var networks = new List<IPNetwork>();
            networks.AddRange(ToNetworks(peers[0], v6: false));
            networks.AddRange(ToNetworks(peers[1], v6: true));
            result.Add(new RuleSpec
            {
                Id = info.Id,
                Direction = info.Direction,
                Protocol = info.Protocol,
                Ports = ports,
                IcmpTypes = types,
                Peers = networks,
                Names = info.Names,
                Log = info.Log,
                EncryptedDns = info.EncryptedDns,
                Comment = info.Comment,
                Origin = info.Origin,
            });
        }

        return result;
    }

    private static List<(int Low, int High)> Merge(List<(int Low, int High)> ranges)
    {
        ranges.Sort();
        var merged = new List<(int Low, int High)>();
        foreach (var r in ranges)
        {
            if (merged.Count > 0 && r.Low <= merged[^1].High + 1)
            {
                merged[^1] = (merged[^1].Low, Math.Max(merged[^1].High, r.High));
            }
            else
            {
                merged.Add(r);
            }
        }

        return merged;
    }

    /// <summary>Covers the union of ranges with the fewest CIDR blocks (greedy largest aligned block first).</summary>
    internal static IEnumerable<IPNetwork> ToNetworks(List<(UInt128 Low, UInt128 High)> ranges, bool v6)
    {
        var merged = AddressRanges.Merge(ranges);

        var width = v6 ? 128 : 32;
        var offset = v6 ? UInt128.Zero : IpAddr.FromV4(0).Value;
        foreach (var (mappedLow, mappedHigh) in merged)
        {
            var low = mappedLow - offset;
            var high = mappedHigh - offset;
            while (true)
            {
                // Largest block aligned at `low` that does not pass `high`.
                var align = low == UInt128.Zero ? width : (int)UInt128.TrailingZeroCount(low);
                var span = high - low;
                var fit = span == UInt128.MaxValue ? 128 : (int)(127 - UInt128.LeadingZeroCount(span + 1));
                var hostBits = Math.Min(Math.Min(align, fit), width);
                var address = new IpAddr(low + offset);
                yield return new IPNetwork(address.ToIPAddress(), width - hostBits);
                var blockEnd = hostBits == 128 ? UInt128.MaxValue : low + ((UInt128.One << hostBits) - 1);
                if (blockEnd >= high)
                {
                    break;
                }

                low = blockEnd + 1;
            }
        }
    }
}
