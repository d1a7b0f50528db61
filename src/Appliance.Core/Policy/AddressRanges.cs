namespace Appliance.Core.Policy;

/// <summary>Inclusive address ranges (IPv4 or IPv6 as 128-bit integers), as policy compilation and learn mode use them.</summary>
public static class AddressRanges
{
    /// <summary>
    /// Sorts <paramref name="ranges"/> in place and returns their union as disjoint ranges in ascending order; ranges
    /// that overlap or touch (one ends where the next begins) become one.
    /// </summary>
    /// <param name="ranges">Inclusive (low, high) ranges, each with low at most high.</param>
    public static List<(UInt128 Low, UInt128 High)> Merge(List<(UInt128 Low, UInt128 High)> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ranges.Sort();
        var merged = new List<(UInt128 Low, UInt128 High)>(ranges.Count);
        foreach (var r in ranges)
        {
            // High + 1 would wrap at the top of the space: a range ending there swallows everything after it.
            if (merged.Count > 0 && (merged[^1].High == UInt128.MaxValue || r.Low <= merged[^1].High + 1))
            {
                merged[^1] = (merged[^1].Low, UInt128.Max(merged[^1].High, r.High));
            }
            else
            {
                merged.Add(r);
            }
        }

        return merged;
    }
}
