using Appliance.Core.Policy;

namespace Appliance.Core.Tests.Policy;

public sealed class AddressRangesTests
{
    [Fact]
    public void Merge_OverlappingTouchingAndApart_UnionInOrder()
    {
        var merged = AddressRanges.Merge([(20, 30), (1, 5), (6, 8), (3, 4), (10, 12), (25, 40)]);

        Assert.Equal([((UInt128)1, (UInt128)8), (10, 12), (20, 40)], merged);
    }

    [Fact]
    public void Merge_RangeEndingAtTheTopOfTheSpace_SwallowsWhatFollowsWithoutWrapping()
    {
        var top = UInt128.MaxValue;

        var merged = AddressRanges.Merge([(top - 1, top), (0, 0), (top, top), (top - 10, top - 2)]);

        Assert.Equal([((UInt128)0, (UInt128)0), (top - 10, top)], merged);
    }

    [Fact]
    public void Merge_Random_EveryAddressCoveredExactlyAsBefore()
    {
        var random = new Random(1234);
        for (var round = 0; round < 200; round++)
        {
            var ranges = new List<(UInt128 Low, UInt128 High)>();
            var covered = new bool[64];
            for (var i = random.Next(0, 8); i > 0; i--)
            {
                var low = random.Next(0, 64);
                var high = Math.Min(63, low + random.Next(0, 8));
                ranges.Add(((UInt128)low, (UInt128)high));
                for (var a = low; a <= high; a++)
                {
                    covered[a] = true;
                }
            }

            var merged = AddressRanges.Merge(ranges);

            for (var a = 0; a < 64; a++)
            {
                Assert.Equal(covered[a], merged.Exists(r => r.Low <= (UInt128)a && (UInt128)a <= r.High));
            }

            for (var i = 1; i < merged.Count; i++)
            {
                Assert.True(merged[i].Low > merged[i - 1].High + 1, "merged ranges must be apart, in order");
            }
        }
    }
}
