using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Policy;

/// <summary>
/// Strict address and prefix parsing for policy text. <see cref="IPAddress.TryParse(string, out IPAddress)"/> is
/// lenient in ways that change meaning (<c>10</c> is 0.0.0.10, <c>010.1.1.1</c> may be octal, <c>fe80::1%eth0</c>
/// carries a zone), so the text must look like what the admin meant before it is parsed.
/// </summary>
internal static class AddressText
{
    /// <summary>True when the token is meant as an address or prefix rather than a network name.</summary>
    public static bool LooksLikeAddress(string token)
        => token.Length > 0 && (char.IsAsciiDigit(token[0]) || token.Contains(':', StringComparison.Ordinal));

    public static bool TryParseAddress(string text, out IPAddress address, out string error)
    {
        address = IPAddress.None;
        error = "";
        if (text.Contains('%', StringComparison.Ordinal))
        {
            error = $"'{text}' has a zone index (%); policy addresses are global";
            return false;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"'{text}' is not a valid IPv6 address";
                return false;
            }

            if (v6.IsIPv4MappedToIPv6)
            {
                // The core keys IPv4 as IPv4-mapped IPv6; letting the policy spell it both ways would make one
                // address two different things to an admin.
                error = $"'{text}' is an IPv4-mapped IPv6 address; write it as IPv4 ({v6.MapToIPv4()})";
                return false;
            }

            address = v6;
            return true;
        }

        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            error = $"'{text}' is not a valid IPv4 address (write all four parts, like 192.0.2.10)";
            return false;
        }

        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < 4; i++)
        {
            var p = parts[i];
            if (p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || !byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i]))
            {
                error = $"'{text}' is not a valid IPv4 address";
                return false;
            }

            if (p.Length > 1 && p[0] == '0')
            {
                error = $"'{text}' has a leading zero, which some tools read as octal; write it without";
                return false;
            }
        }

        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>Parses an address (a host prefix) or a CIDR prefix whose host bits are zero.</summary>
    public static bool TryParseNetwork(string text, out IPNetwork network, out string error)
    {
        network = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out var address, out error))
        {
            return false;
        }

        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0)
        {
            var lengthText = text[(slash + 1)..];
            if (lengthText.Length is 0 or > 3 || !lengthText.All(char.IsAsciiDigit)
                || !int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max)
            {
                error = $"'{text}' has a bad prefix length (0-{max} for IPv{(max == 32 ? 4 : 6)})";
                return false;
            }
        }

        var masked = Mask(address, length);
        if (!masked.Equals(address))
        {
            error = $"'{text}' has host bits set; did you mean {masked}/{length}?";
            return false;
        }

        network = new IPNetwork(masked, length);
        return true;
    }

    /// <summary>Whether an address can identify one device (not multicast, broadcast, unspecified or loopback).</summary>
    public static bool IsUnicastHost(IPAddress address)
    {
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }

        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var written);
        return written == 4 ? b[0] < 224 : b[0] != 0xFF;
    }

    /// <summary>Shows a host prefix as a plain address.</summary>
    public static string Format(IPNetwork network)
    {
        var max = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        return network.PrefixLength == max ? network.BaseAddress.ToString() : network.ToString();
    }

    private static IPAddress Mask(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
