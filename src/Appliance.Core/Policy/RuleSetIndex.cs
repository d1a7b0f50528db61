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

    private readonly KeyMap[] _maps;

    internal RuleSetIndex(KeyMap[] maps, int firstRule, int ruleCount)
    {
        _maps = maps;
        FirstRule = firstRule;
        RuleCount = ruleCount;
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
