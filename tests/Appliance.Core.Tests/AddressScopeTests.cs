using System.Net;

namespace Appliance.Core.Tests;

public sealed class AddressScopeTests
{
    [Theory]
    [InlineData("10.1.2.3", false)]          // RFC 1918
    [InlineData("172.16.0.1", false)]        // RFC 1918, first of /12
    [InlineData("172.31.255.255", false)]    // RFC 1918, last of /12
    [InlineData("172.32.0.1", true)]         // just past the /12
    [InlineData("192.168.200.1", false)]     // RFC 1918
    [InlineData("100.64.0.1", false)]        // RFC 6598 shared address space
    [InlineData("100.127.255.255", false)]   // RFC 6598, last
    [InlineData("100.128.0.1", true)]        // past RFC 6598
    [InlineData("127.0.0.1", false)]         // loopback
    [InlineData("169.254.10.10", false)]     // link-local
    [InlineData("224.0.0.251", false)]       // multicast (mDNS)
    [InlineData("239.255.255.250", false)]   // multicast (SSDP)
    [InlineData("255.255.255.255", false)]   // limited broadcast
    [InlineData("0.0.0.0", false)]           // this network
    [InlineData("8.8.8.8", true)]            // the real internet
    [InlineData("192.0.2.10", true)]         // TEST-NET-1: the lab's pretend internet
    [InlineData("198.51.100.7", true)]       // TEST-NET-2
    [InlineData("203.0.113.99", true)]       // TEST-NET-3
    [InlineData("::1", false)]               // loopback
    [InlineData("::", false)]                // unspecified
    [InlineData("fe80::1", false)]           // link-local
    [InlineData("fd12:3456::1", false)]      // ULA
    [InlineData("fc00::1", false)]           // ULA, other half
    [InlineData("ff02::fb", false)]          // multicast
    [InlineData("2001:db8::5", true)]        // documentation prefix: pretend internet
    [InlineData("2a00:1450::1", true)]       // global unicast
    public void IsPublic_Address_ClassifiedAsExpected(string address, bool expected)
        => Assert.Equal(expected, AddressScope.IsPublic(IpAddr.FromIPAddress(IPAddress.Parse(address))));
}
