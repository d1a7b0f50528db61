namespace Appliance.Policy.Tests;

public class ExamplePolicyTests
{
    [Fact]
    public void LoadDirectory_ExampleSite_LoadsWithoutDiagnostics()
    {
        var result = PolicyLoader.LoadDirectory(PolicyTestHelpers.ExamplePolicyDirectory);

        Assert.Equal([], PolicyTestHelpers.Lines(result));
        Assert.NotNull(result.Spec);
        Assert.Equal(9, result.Spec.Cameras.Count);
    }
}
