namespace Appliance.Core.Tests;

public class MacAddressTests
{
    [Theory]
    [InlineData("00:11:22:aa:bb:cc", 0x001122AABBCCUL)]
    [InlineData("00-11-22-AA-BB-CC", 0x001122AABBCCUL)]
    public void TryParse_ValidText_RoundTrips(string text, ulong value)
    {
        Assert.True(MacAddress.TryParse(text, out var mac));
        Assert.Equal(value, mac.Value);
        Assert.Equal("00:11:22:aa:bb:cc", mac.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("00:11:22:aa:bb")]
    [InlineData("00:11:22:aa:bb:cg")]
    [InlineData("00.11.22.aa.bb.cc")]
    public void TryParse_InvalidText_Fails(string text) => Assert.False(MacAddress.TryParse(text, out _));

    [Fact]
    public void IpAddr_V4AndV6_NeverCollide()
    {
        var v4 = IpAddr.FromIPAddress(System.Net.IPAddress.Parse("192.0.2.1"));
        var v6 = IpAddr.FromIPAddress(System.Net.IPAddress.Parse("2001:db8::c000:201"));
        Assert.True(v4.IsV4);
        Assert.False(v6.IsV4);
        Assert.NotEqual(v4, v6);
        Assert.Equal("192.0.2.1", v4.ToString());
    }
}
