using System.Runtime.CompilerServices;

namespace Appliance.Core.Policy;

/// <summary>
/// The opener's protocol as the rule tables index it. Any protocol without ports or types (GRE, ESP...) shares
/// <see cref="Other"/> and is keyed by 0.
/// </summary>
internal enum ProtocolClass : byte
{
    Tcp = 0,
    Udp = 1,
    Icmp = 2,
    Icmpv6 = 3,
    Other = 4,
}

/// <summary>
/// The compiled form of one distinct effective rule set (cameras with identical rules share one instance).
/// It is a set of two-level maps, one per (address family, direction, protocol class):
/// <code>
///   opener key (port, or ICMP type) --binary search--> elementary key interval --> PeerMap
///   peer address                    --binary search--> elementary address range --> first matching rule
/// </code>
/// Elementary intervals are the pieces the rules' boundaries cut the key space into, so every address in a
/// piece is covered by exactly the same rules. A lookup is two binary searches over small arrays, independent
/// of how many cameras share the set and logarithmic in its rules: never a scan.
/// </summary>
internal sealed class RuleSetIndex
{
    internal const int Families = 2;
    internal const int Directions = 2;
    internal const int Classes = 5;

    /// <summary>Most distinct DNS name patterns one rule set may name: a learned name's matches fit one word.</summary>
    internal const int MaxNamePatterns = 64;

    private readonly KeyMap[] _maps;
    private readonly DnsNamePattern[] _patterns;
    private readonly NameRule[] _nameRules;

    internal RuleSetIndex(KeyMap[] maps, int firstRule, int ruleCount, DnsNamePattern[]? patterns = null, NameRule[]? nameRules = null)
    {
        _maps = maps;
        FirstRule = firstRule;
        RuleCount = ruleCount;
        _patterns = patterns ?? [];
        _nameRules = nameRules ?? [];
    }

    /// <summary>True when some rule of the set names DNS names.</summary>
    public bool HasNameRules => _nameRules.Length > 0;

    /// <summary>The name rule with global index <paramref name="rule"/>, or null (decompilation).</summary>
    internal NameRule? NameRuleFor(int rule) => Array.Find(_nameRules, r => r.Rule == rule);

    /// <summary>The set's distinct name patterns, bit i of a mask being pattern i.</summary>
    internal ReadOnlySpan<DnsNamePattern> Patterns => _patterns;

    /// <summary>Which of the set's patterns the lower-case dotted <paramref name="name"/> matches, as a bit mask.</summary>
    public ulong MaskOf(ReadOnlySpan<byte> name)
    {
        ulong mask = 0;
        var patterns = _patterns;
        for (var i = 0; i < patterns.Length; i++)
        {
            if (patterns[i].Matches(name))
            {
                mask |= 1UL << i;
            }
        }

        return mask;
    }

    /// <summary>
    /// The global index of the first name rule (in policy order) allowing this opener to a peer whose learned names
    /// match the patterns in <paramref name="nameMask"/>, or -1. A handful of name rules per set: a short scan.
    /// </summary>
    public int MatchNames(bool v6, Direction direction, byte protocol, ushort key, ulong nameMask)
    {
        if (nameMask == 0)
        {
            return -1;
        }

        var cls = (int)ClassOf(protocol);

        // ICMP is IPv4 only and ICMPv6 IPv6 only, as the address tables have it.
        if ((cls == (int)ProtocolClass.Icmp && v6) || (cls == (int)ProtocolClass.Icmpv6 && !v6))
        {
            return -1;
        }

        foreach (var rule in _nameRules)
        {
            if (rule.Direction != direction || (rule.Mask & nameMask) == 0)
            {
                continue;
            }

            foreach (var (low, high) in rule.Keys[cls])
            {
                if (key >= low && key <= high)
                {
                    return rule.Rule;
                }
            }
        }

        return -1;
    }

    /// <summary>Global index (into <see cref="CompiledPolicy.RuleIds"/>) of this set's first rule.</summary>
    public int FirstRule { get; }

    public int RuleCount { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int MapIndex(bool v6, Direction direction, ProtocolClass cls)
        => ((((v6 ? 1 : 0) * Directions) + (int)direction) * Classes) + (int)cls;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ProtocolClass ClassOf(byte protocol) => protocol switch
    {
        6 => ProtocolClass.Tcp,
        17 => ProtocolClass.Udp,
        1 => ProtocolClass.Icmp,
        58 => ProtocolClass.Icmpv6,
        _ => ProtocolClass.Other,
    };

    /// <summary>
    /// The global index of the first rule (in policy order) allowing this opener, or -1.
    /// <paramref name="key"/> is the opener's destination port for TCP/UDP, its ICMP type for ICMP, 0 otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Match(bool v6, Direction direction, byte protocol, ushort key, IpAddr peer)
        => _maps[MapIndex(v6, direction, ClassOf(protocol))].Match(key, peer.Value);

    internal KeyMap MapAt(int index) => _maps[index];
}

/// <summary>Opener key (port or ICMP type) to <see cref="PeerMap"/>, as sorted elementary interval starts.</summary>
internal sealed class KeyMap
{
    public static readonly KeyMap Empty = new([0], [PeerMap.Empty]);

    // Starts[0] == 0; interval i covers Starts[i] .. Starts[i + 1] - 1 (the last one up to 65535).
    private readonly ushort[] _starts;
    private readonly PeerMap[] _peers;

    public KeyMap(ushort[] starts, PeerMap[] peers)
    {
        _starts = starts;
        _peers = peers;
    }

    public int IntervalCount => _starts.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Match(ushort key, UInt128 peer) => _peers[LastAtOrBelow(_starts, key)].Match(peer);

    /// <summary>Interval bounds and its peer map, for decompilation.</summary>
    public (ushort Low, ushort High, PeerMap Peers) Interval(int i)
        => (_starts[i], i + 1 < _starts.Length ? (ushort)(_starts[i + 1] - 1) : ushort.MaxValue, _peers[i]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LastAtOrBelow(ushort[] starts, ushort key)
    {
        // starts[0] == 0 <= key, so the answer always exists: the largest i with starts[i] <= key.
        int lo = 0, hi = starts.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= key)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }
}

/// <summary>Peer address to the first rule allowing it, as sorted elementary address range starts.</summary>
internal sealed class PeerMap
{
    public static readonly PeerMap Empty = new([UInt128.Zero], [-1], [[]]);

    // Starts[0] == 0; range i covers Starts[i] .. Starts[i + 1] - 1 (the last one up to UInt128.MaxValue).
    private readonly UInt128[] _starts;

    // The first rule (lowest global index) covering range i, or -1: what the data path reports.
    private readonly int[] _first;

    // Every rule covering range i, ascending: only decompilation reads it.
    private readonly int[][] _all;

    public PeerMap(UInt128[] starts, int[] first, int[][] all)
    {
        _starts = starts;
        _first = first;
        _all = all;
    }

    public int RangeCount => _starts.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Match(UInt128 peer)
    {
        var starts = _starts;
        int lo = 0, hi = starts.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= peer)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return _first[lo];
    }

    /// <summary>Range bounds and the rules covering it, for decompilation.</summary>
    public (UInt128 Low, UInt128 High, int[] Rules) Range(int i)
        => (_starts[i], i + 1 < _starts.Length ? _starts[i + 1] - 1 : UInt128.MaxValue, _all[i]);
}

/// <summary>One rule with DNS names: its global index, direction, the patterns it names, its opener keys per class.</summary>
internal sealed record NameRule(int Rule, Direction Direction, ulong Mask, (int Low, int High)[][] Keys);
