namespace Appliance.Core;

/// <summary>
/// Tells public (internet) addresses from local ones, to spot cameras phoning home. Local: RFC 1918, RFC 6598
/// shared address space, loopback, link-local, multicast, "this network", limited broadcast, IPv6 unique local
/// and unspecified. Everything else is public — including the documentation ranges (192.0.2.0/24,
/// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), which the lab uses as its pretend internet.
/// </summary>
public static class AddressScope
{
    /// <summary>True when <paramref name="address"/> is routable on the internet (see the type's remarks).</summary>
    public static bool IsPublic(IpAddr address)
    {
        if (address.IsV4)
        {
            var a = address.V4;
            return !(InV4(a, 0x0A000000, 8)      // 10.0.0.0/8
                || InV4(a, 0xAC100000, 12)       // 172.16.0.0/12
                || InV4(a, 0xC0A80000, 16)       // 192.168.0.0/16
                || InV4(a, 0x64400000, 10)       // 100.64.0.0/10 (RFC 6598)
                || InV4(a, 0x7F000000, 8)        // 127.0.0.0/8
                || InV4(a, 0xA9FE0000, 16)       // 169.254.0.0/16
                || InV4(a, 0xE0000000, 4)        // 224.0.0.0/4 multicast
                || InV4(a, 0x00000000, 8)        // 0.0.0.0/8 "this network"
                || a == 0xFFFFFFFF);             // limited broadcast
        }

        var hi = (ulong)(address.Value >> 64);
        return !(address.Value == UInt128.Zero  // ::
            || address.Value == UInt128.One     // ::1
            || (hi >> 54) == 0x3FA              // fe80::/10 link-local
            || (hi >> 57) == 0x7E               // fc00::/7 unique local
            || (hi >> 56) == 0xFF);             // ff00::/8 multicast
    }

    private static bool InV4(uint address, uint network, int prefix) => (address >> (32 - prefix)) == (network >> (32 - prefix));
}
