using Appliance.TestSupport.Frames;

namespace Appliance.Learn.Tests;

public sealed class OuiRegistryTests
{
    [Fact]
    public void Load_DebianIeeeData_NamesCameraVendors()
    {
        Assert.True(File.Exists("/usr/share/ieee-data/oui.csv"), "Debian's ieee-data is missing: scripts/install-deps.sh installs it");

        var registry = OuiRegistry.Load(OuiRegistry.DebianDirectory, out var problems);

        Assert.Empty(problems);
        Assert.True(registry.Count > 30_000, $"{registry.Count} assignments");
        Assert.Equal("Hangzhou Hikvision Digital Technology Co.,Ltd.", registry.VendorOf(LearnSite.Hik1));
        Assert.Equal("Zhejiang Dahua Technology Co., Ltd.", registry.VendorOf(LearnSite.Dahua));
    }

    [Fact]
    public void VendorOf_BlockInsideALargerAssignment_LongestAssignmentWins()
    {
        var registry = new OuiRegistry();
        registry.Read(new StringReader("Registry,Assignment,Organization Name,Organization Address\nMA-L,70B3D5,IEEE Registration Authority,x\n"), 24);
        registry.Read(new StringReader("Registry,Assignment,Organization Name,Organization Address\nMA-S,70B3D5123,\"Small Camera Maker, Inc.\",\"Street 1, Town\"\n"), 36);

        Assert.Equal("Small Camera Maker, Inc.", registry.VendorOf(Frames.Mac("70:b3:d5:12:3f:ff")));
        Assert.Equal("IEEE Registration Authority", registry.VendorOf(Frames.Mac("70:b3:d5:12:40:00")));
    }

    [Fact]
    public void VendorOf_LocallyAdministeredOrUnknown_Null()
    {
        var registry = new OuiRegistry();
        registry.Read(new StringReader("MA-L,020000,Should Not Match,x\nMA-L,4447CC,Known,x\nbroken line\nMA-L,ZZZZZZ,Bad Hex,x\n"), 24);

        Assert.Null(registry.VendorOf(Frames.Mac("02:00:00:00:01:01")));
        Assert.Null(registry.VendorOf(Frames.Mac("00:11:22:33:44:55")));
        Assert.Equal("Known", registry.VendorOf(LearnSite.Hik1));
        Assert.Equal(2, registry.Count);
    }
}
