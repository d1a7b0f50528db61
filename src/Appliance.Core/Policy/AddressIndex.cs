using System.Numerics;
using System.Runtime.CompilerServices;

namespace Appliance.Core.Policy;

/// <summary>
/// Immutable open-addressing hash map from a MAC address to a dense camera index, built once per compiled policy.
/// Linear probing at a load factor of at most one half, so a miss (the common case for an attacker-chosen key)
/// ends at an empty slot after a short run; the table never changes after construction, so no run can grow.
/// </summary>
internal sealed class MacIndex
{
    private readonly Entry[] _entries;
    private readonly int _shift;
    private readonly int _mask;

    public MacIndex(IReadOnlyList<(MacAddress Mac, int Camera)> items)
    {
        var size = TableSize(items.Count);
        _entries = new Entry[size];
        _mask = size - 1;
        _shift = 64 - BitOperations.Log2((uint)size);
        Array.Fill(_entries, new Entry { Camera = -1 });
        foreach (var (mac, camera) in items)
        {
            var i = Home(mac.Value);
            while (_entries[i].Camera >= 0)
            {
                if (_entries[i].Key == mac.Value)
                {
                    PolicyCompileException.Throw($"MAC {mac} is bound to two cameras");
                }

                i = (i + 1) & _mask;
            }

            _entries[i] = new Entry { Key = mac.Value, Camera = camera };
        }
    }

    /// <summary>The camera index bound to <paramref name="mac"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(MacAddress mac)
    {
        var entries = _entries;
        var i = Home(mac.Value);
        while (true)
        {
            ref readonly var e = ref entries[i];
            if (e.Camera < 0 || e.Key == mac.Value)
            {
                return e.Camera;
            }

            i = (i + 1) & _mask;
        }
    }

    // Fibonacci hashing: the multiply spreads the vendor prefix (high bits, shared by a site's cameras) and the
    // serial (low bits) over the index bits taken from the top of the product.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(ulong key) => (int)((key * 0x9E37_79B9_7F4A_7C15UL) >> _shift) & _mask;

    internal static int TableSize(int count) => (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, count * 2));

    private struct Entry
    {
        public ulong Key;
        public int Camera;
    }
}

/// <summary>
/// Immutable open-addressing hash map from an IP address (IPv4-mapped or IPv6, as <see cref="IpAddr"/>) to a dense
/// camera index. Same scheme as <see cref="MacIndex"/>.
/// </summary>
internal sealed class IpIndex
{
    private readonly Entry[] _entries;
    private readonly int _shift;
    private readonly int _mask;

    public IpIndex(IReadOnlyList<(IpAddr Address, int Camera)> items)
    {
        var size = MacIndex.TableSize(items.Count);
        _entries = new Entry[size];
        _mask = size - 1;
        _shift = 64 - BitOperations.Log2((uint)size);
        Array.Fill(_entries, new Entry { Camera = -1 });
        foreach (var (address, camera) in items)
        {
            var (hi, lo) = Halves(address.Value);
            var i = Home(hi, lo);
            while (_entries[i].Camera >= 0)
            {
                if (_entries[i].Hi == hi && _entries[i].Lo == lo)
                {
                    PolicyCompileException.Throw($"address {address} is bound to two cameras");
                }

                i = (i + 1) & _mask;
            }

            _entries[i] = new Entry { Hi = hi, Lo = lo, Camera = camera };
        }
    }

    /// <summary>The camera index bound to <paramref name="address"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(IpAddr address)
    {
        // Compared as two words: UInt128's operators are calls whenever the JIT's inlining budget for the (large)
        // caller has run out, and a probe is on every frame's path twice.
        var (hi, lo) = Halves(address.Value);
        var entries = _entries;
        var i = Home(hi, lo);
        while (true)
        {
            ref readonly var e = ref entries[i];
            if (e.Camera < 0 || (e.Lo == lo && e.Hi == hi))
            {
                return e.Camera;
            }

            i = (i + 1) & _mask;
        }
    }

    // Fold the halves first: IPv4-mapped keys differ only in the low 32 bits, IPv6 ones mostly in the low 64.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(ulong hi, ulong lo)
        => (int)(((hi * 0xC2B2_AE3D_27D4_EB4FUL ^ lo) * 0x9E37_79B9_7F4A_7C15UL) >> _shift) & _mask;

    /// <summary>The high and low 64 bits, without going through UInt128's shift operator (also used for flow keys).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (ulong Hi, ulong Lo) Halves(UInt128 value)
    {
        // UInt128 is two ulongs in memory, low word first on a little-endian machine; the big-endian branch keeps it
        // correct anywhere and folds away at JIT time.
        var words = Unsafe.BitCast<UInt128, Words>(value);
        return BitConverter.IsLittleEndian ? (words.Second, words.First) : (words.First, words.Second);
    }

    // Two words in memory order (sequential layout, the same 16 bytes as a UInt128).
    private readonly record struct Words(ulong First, ulong Second);

    private struct Entry
    {
        public ulong Hi;
        public ulong Lo;
        public int Camera;
    }
}
