using System.Globalization;

namespace Appliance.Policy;

/// <summary>ICMP and ICMPv6 type names an admin may write instead of numbers.</summary>
internal static class IcmpTypeNames
{
    private static readonly Dictionary<string, byte> V4 = new(StringComparer.OrdinalIgnoreCase)
    {
        ["echo-reply"] = 0,
        ["destination-unreachable"] = 3,
        ["redirect"] = 5,
        ["echo-request"] = 8,
        ["router-advertisement"] = 9,
        ["router-solicitation"] = 10,
        ["time-exceeded"] = 11,
        ["parameter-problem"] = 12,
        ["timestamp-request"] = 13,
        ["timestamp-reply"] = 14,
    };

    private static readonly Dictionary<string, byte> V6 = new(StringComparer.OrdinalIgnoreCase)
    {
        ["destination-unreachable"] = 1,
        ["packet-too-big"] = 2,
        ["time-exceeded"] = 3,
        ["parameter-problem"] = 4,
        ["echo-request"] = 128,
        ["echo-reply"] = 129,
        ["router-solicitation"] = 133,
        ["router-advertisement"] = 134,
        ["neighbor-solicitation"] = 135,
        ["neighbor-advertisement"] = 136,
    };

    public static bool TryParse(string text, bool v6, out byte type)
    {
        if (text.Length is > 0 and <= 3 && text.All(char.IsAsciiDigit))
        {
            return byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out type);
        }

        return (v6 ? V6 : V4).TryGetValue(text, out type);
    }

    /// <summary>The name of a type, or its number.</summary>
    public static string Format(byte type, bool v6)
    {
        foreach (var (name, value) in v6 ? V6 : V4)
        {
            if (value == type)
            {
                return name;
            }
        }

        return type.ToString(CultureInfo.InvariantCulture);
    }
}
