using System.Net;
using System.Net.Sockets;
using System.Numerics;
using Appliance.Core.Policy;

namespace Appliance.Learn;

/// <summary>
/// The addresses a list of prefixes admits, as merged ranges per family: how many there are and whether two lists
/// admit the same ones, whatever their prefixes. A named network that includes another, or lists overlapping
/// prefixes, names some addresses twice; counting its prefixes would count those twice.
/// </summary>
internal sealed class AddressSet
{
    private readonly (UInt128 Low, UInt128 High)[] _v4;
    private readonly (UInt128 Low, UInt128 High)[] _v6;

    private AddressSet((UInt128 Low, UInt128 High)[] v4, (UInt128 Low, UInt128 High)[] v6)
    {
        _v4 = v4;
        _v6 = v6;
        Count = v4.Concat(v6).Aggregate(BigInteger.Zero, (sum, r) => sum + r.High - r.Low + 1);
    }

    /// <summary>How many addresses, both families (up to 2^32 + 2^128, hence not a fixed-width integer).</summary>
    public BigInteger Count { get; }

    public static AddressSet Of(IEnumerable<IPNetwork> networks)
    {
        var v4 = new List<(UInt128 Low, UInt128 High)>();
        var v6 = new List<(UInt128 Low, UInt128 High)>();
        foreach (var network in networks)
        {
            (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? v4 : v6).Add(Range(network));
        }

        return new AddressSet(Merge(v4), Merge(v6));
    }

    /// <summary>True when both admit exactly the same addresses (merged ranges are canonical, so equal lists).</summary>
    public bool SetEquals(AddressSet other) => _v4.SequenceEqual(other._v4) && _v6.SequenceEqual(other._v6);

    private static (UInt128 Low, UInt128 High) Range(IPNetwork network)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = network.BaseAddress.TryWriteBytes(bytes, out var written);
        var low = UInt128.Zero;
        for (var i = 0; i < written; i++)
        {
            low = (low << 8) | bytes[i];
        }

        // IPNetwork's base address has no bits past the prefix, so the host bits are all free.
        var hostBits = (written * 8) - network.PrefixLength;
        return (low, low | (hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1));
    }

    private static (UInt128 Low, UInt128 High)[] Merge(List<(UInt128 Low, UInt128 High)> ranges) => [.. AddressRanges.Merge(ranges)];
}
