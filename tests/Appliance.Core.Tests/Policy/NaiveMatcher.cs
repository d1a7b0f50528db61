using System.Net;
using Appliance.Core.Policy;

namespace Appliance.Core.Tests.Policy;

/// <summary>
/// The reference the compiled tables are checked against: a plain scan of the rules in order, straight from the
/// documented semantics, sharing no code with the compiler.
/// </summary>
internal static class NaiveMatcher
{
    /// <summary>Index (within <paramref name="rules"/>) of the first rule allowing the opener, or -1.</summary>
    public static int FirstMatch(IReadOnlyList<RuleSpec> rules, Direction direction, byte protocol, ushort key, IPAddress peer)
    {
        for (var i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            if (r.Direction == direction && Covers(r, protocol, key) && r.Peers.Any(n => n.Contains(peer)))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool Covers(RuleSpec r, byte protocol, ushort key)
    {
        var ports = r.Ports.Count == 0 || r.Ports.Any(p => p.Contains(key));
        var types = r.IcmpTypes.Count == 0 || r.IcmpTypes.Contains((byte)key);
        return r.Protocol switch
        {
            RuleProtocol.Tcp => protocol == 6 && ports,
            RuleProtocol.Udp => protocol == 17 && ports,
            RuleProtocol.Icmp => protocol == 1 && types,
            RuleProtocol.Icmpv6 => protocol == 58 && types,

            // "Any": ports restrict TCP/UDP, types restrict ICMP; a rule naming only one of them covers only those
            // protocols; a rule naming neither covers every protocol.
            _ => protocol switch
            {
                6 or 17 => (r.Ports.Count > 0 || r.IcmpTypes.Count == 0) && ports,
                1 or 58 => (r.IcmpTypes.Count > 0 || r.Ports.Count == 0) && types,
                _ => r.Ports.Count == 0 && r.IcmpTypes.Count == 0,
            },
        };
    }
}
