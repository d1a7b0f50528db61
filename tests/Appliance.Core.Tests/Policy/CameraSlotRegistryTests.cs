using Appliance.Core.Policy;

namespace Appliance.Core.Tests.Policy;

public class CameraSlotRegistryTests
{
    [Fact]
    public void TryGet_UnknownName_FailsWithoutAssigning()
    {
        var slots = new CameraSlotRegistry(4);
        Assert.True(slots.TryGetOrAdd("north-gate", out var assigned));

        Assert.True(slots.TryGet("north-gate", out var found));
        Assert.Equal(assigned, found);
        Assert.False(slots.TryGet("rogue", out _));
        Assert.Equal(1, slots.Count);
    }

    [Fact]
    public void TryGetOrAdd_SameName_KeepsItsSlotAndStopsAtCapacity()
    {
        var slots = new CameraSlotRegistry(2);
        Assert.True(slots.TryGetOrAdd("a", out var a));
        Assert.True(slots.TryGetOrAdd("b", out var b));
        Assert.True(slots.TryGetOrAdd("a", out var again));

        Assert.NotEqual(a, b);
        Assert.Equal(a, again);
        Assert.False(slots.TryGetOrAdd("c", out _));
        Assert.Equal("b", slots.NameOf(b));
    }
}
