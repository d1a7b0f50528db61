namespace Appliance.Core;

/// <summary>
/// Why a frame passed or was dropped. The numeric values are stable: they index counters and appear in logs,
/// syslog and metrics through <see cref="ReasonNames"/>. Append new values; never renumber.
/// </summary>
public enum Reason : ushort
{
    // ---- Pass reasons (1..99) ----
    /// <summary>An allowlist rule matched the connection opener.</summary>
    RuleMatch = 1,
    /// <summary>The frame belongs to a tracked flow.</summary>
    EstablishedFlow = 2,
    /// <summary>An ICMP error quoting a tracked flow.</summary>
    RelatedIcmpError = 3,
    /// <summary>ARP from or for a listed device with a consistent MAC/IP binding.</summary>
    ArpAllowed = 4,
    /// <summary>DHCP client traffic of a listed camera.</summary>
    DhcpAllowed = 5,
    /// <summary>Allowed multicast discovery (WS-Discovery, SSDP, mDNS).</summary>
    DiscoveryAllowed = 6,
    /// <summary>A non-first fragment of a datagram whose first fragment was allowed.</summary>
    FragmentOfAllowed = 7,
    /// <summary>IPv6 neighbour discovery of a camera that may use IPv6.</summary>
    NeighborDiscoveryAllowed = 8,

    // ---- Malformed input (100..199): always dropped, never "no rule matched, fall through" ----
    /// <summary>Shorter than the 14-byte Ethernet header.</summary>
    TruncatedEthernet = 100,
    /// <summary>More than two VLAN tags (802.1ad S-tag plus 802.1Q C-tag): deeper stacks are a VLAN-hopping trick, not camera traffic.</summary>
    TooManyVlanTags = 101,
    /// <summary>An EtherType other than IPv4, IPv6 or ARP after the tags: nothing a camera network needs, so not forwarded.</summary>
    UnknownEthertype = 102,
    /// <summary>A VLAN TPID with fewer than the 4 tag bytes after it.</summary>
    TruncatedVlan = 103,
    /// <summary>An ARP body shorter than the 28 bytes of Ethernet/IPv4 ARP.</summary>
    TruncatedArp = 110,
    /// <summary>ARP that is not Ethernet/IPv4 (hardware or protocol type, address lengths) or whose operation is neither request nor reply.</summary>
    BadArp = 111,
    /// <summary>Shorter than the 20-byte IPv4 header, or than the header length (IHL) says.</summary>
    TruncatedIpv4 = 120,
    /// <summary>The version nibble does not match the EtherType (not 4 in an IPv4 frame, not 6 in an IPv6 one).</summary>
    BadIpVersion = 121,
    /// <summary>An IPv4 header length (IHL) below 5 words.</summary>
    BadIpv4HeaderLength = 122,
    /// <summary>The IPv4 total length claims more bytes than the frame holds.</summary>
    IpTotalLengthBeyondFrame = 123,
    /// <summary>The IPv4 total length is smaller than its own header.</summary>
    IpTotalLengthTooSmall = 124,
    /// <summary>A first fragment too short to hold the whole layer-4 header (RFC 1858 3.1 tiny fragment): ports and flags could hide in the next fragment.</summary>
    FirstFragmentTooSmall = 125,
    /// <summary>A TCP fragment whose offset lands inside the TCP header (RFC 1858 3.2 overlap), or a fragment ending past 65,535 bytes (ping of death).</summary>
    BadFragmentOffset = 126,
    /// <summary>IPv4 options whose type/length walk runs past the header or has a length below 2.</summary>
    BadIpv4Options = 127,
    /// <summary>IPv4 loose or strict source route option (LSRR/SSRR): routers drop these by default.</summary>
    Ipv4SourceRoute = 128,
    /// <summary>Shorter than the 40-byte IPv6 header.</summary>
    TruncatedIpv6 = 130,
    /// <summary>An IPv6 extension header runs past the packet, or a first fragment does not hold the whole chain (RFC 7112).</summary>
    Ipv6ChainTruncated = 131,
    /// <summary>More IPv6 extension headers, or more bytes of them, than the parser walks: it fails closed rather than guess the upper layer.</summary>
    Ipv6ChainTooLong = 132,
    /// <summary>A second IPv6 fragment header in one chain.</summary>
    Ipv6DuplicateFragmentHeader = 133,
    /// <summary>The IPv6 payload length claims more bytes than the frame holds.</summary>
    Ipv6PayloadLengthBeyondFrame = 134,
    /// <summary>An IPv6 hop-by-hop options header anywhere but directly after the fixed header (RFC 8200 4.1).</summary>
    Ipv6HopByHopNotFirst = 135,
    /// <summary>A type 0 routing header with segments left (deprecated by RFC 5095: amplification and filter bypass).</summary>
    Ipv6RoutingHeaderType0 = 136,
    /// <summary>Shorter than the 20-byte TCP header, or than its data offset says.</summary>
    TruncatedTcp = 140,
    /// <summary>A TCP data offset below 5 words.</summary>
    TcpBadDataOffset = 141,
    /// <summary>A TCP flag combination no stack sends (no flags, SYN with FIN or RST, ...): scanners and fingerprinting.</summary>
    TcpBadFlags = 142,
    /// <summary>Shorter than the 8-byte UDP header.</summary>
    TruncatedUdp = 150,
    /// <summary>A UDP length field below 8 (including the IPv6 jumbogram 0).</summary>
    UdpLengthTooShort = 151,
    /// <summary>A UDP length field larger than the IP payload of an unfragmented datagram.</summary>
    UdpLengthBeyondPayload = 152,
    /// <summary>Shorter than the 8-byte ICMP header.</summary>
    TruncatedIcmp = 160,
    /// <summary>Shorter than the 8-byte ICMPv6 header.</summary>
    TruncatedIcmpv6 = 161,
    /// <summary>A frame the parser accepted but that has no layer 3 the engine decides on.</summary>
    UnsupportedProtocol = 170,
    /// <summary>An address that never appears on a wire: a multicast, class E or broadcast IPv4 source, loopback at either end, an unspecified or class E destination, an IPv6 multicast source, or an IPv4-mapped IPv6 address.</summary>
    BadAddress = 171,

    // DNS messages (RFC 1035 4.1) the engine reads: answers to cameras, and their queries. A malformed one teaches
    // nothing and is dropped, because a camera's own resolver code is the next parser in line.
    /// <summary>Shorter than the 12-byte DNS header.</summary>
    DnsTruncatedHeader = 180,
    /// <summary>A name runs past the end of the message.</summary>
    DnsTruncatedName = 181,
    /// <summary>A label longer than 63 bytes, or of a reserved type (0x40, 0x80).</summary>
    DnsBadLabel = 182,
    /// <summary>A name longer than 255 bytes on the wire once expanded.</summary>
    DnsNameTooLong = 183,
    /// <summary>A compression pointer past the end of the message.</summary>
    DnsPointerPastEnd = 184,
    /// <summary>A compression pointer that does not point strictly backward: a loop or a forward pointer.</summary>
    DnsPointerLoop = 185,
    /// <summary>A question or record that runs past the end of the message: the section counts lie.</summary>
    DnsTruncatedRecord = 186,
    /// <summary>Record data of the wrong size for its type (A not 4 bytes, AAAA not 16, CNAME not one name).</summary>
    DnsBadRecordData = 187,

    // ---- Policy (200..299) ----
    /// <summary>Default deny: the camera is known but no rule allows this.</summary>
    NoRuleMatched = 200,
    /// <summary>Neither end is a listed camera.</summary>
    UnknownDevice = 201,
    /// <summary>A camera's MAC with another IP address.</summary>
    MacSpoof = 202,
    /// <summary>A camera's IP address behind another MAC.</summary>
    IpSpoof = 203,
    /// <summary>ARP whose sender MAC/IP pair is not one listed device.</summary>
    ArpSpoof = 204,
    /// <summary>IPv6 from or to a camera whose profiles do not allow it.</summary>
    Ipv6Disabled = 205,
    /// <summary>Multicast discovery that the policy does not allow.</summary>
    DiscoveryBlocked = 206,
    /// <summary>ARP not allowed for this camera, or not for any listed device.</summary>
    ArpBlocked = 207,
    /// <summary>DHCP not allowed for this camera.</summary>
    DhcpBlocked = 208,
    /// <summary>Broadcast or multicast that no rule covers.</summary>
    BroadcastBlocked = 209,
    /// <summary>The frame is between two uplink hosts or two camera-side hosts and crossed no camera boundary.</summary>
    NotForCamera = 210,
    /// <summary>
    /// A router advertisement or redirect from the camera side: cameras are hosts, and a host that announces itself
    /// as a router takes over its neighbours' traffic (RFC 6105, RA-Guard).
    /// </summary>
    RouterGuard = 211,
    /// <summary>A DHCP server reply from an uplink address that is not one of the site's <c>dhcp_servers</c>.</summary>
    DhcpServerNotListed = 212,
    /// <summary>
    /// A DHCP server reply that is not for a camera that uses DHCP: its client hardware address (chaddr) is no such
    /// camera's MAC, or not the MAC of the camera it is addressed to, or it is no BOOTP reply at all.
    /// </summary>
    DhcpClientNotCamera = 213,
    /// <summary>
    /// An IPv6 router advertisement or redirect from an uplink address that is not one of the site's <c>routers</c>
    /// (RA guard, RFC 6105).
    /// </summary>
    RouterNotListed = 214,
    /// <summary>
    /// A DNS query from a camera whose policy restricts its questions (<c>dns: { queries: rules }</c>) that asks about a
    /// name outside them (the names its rules use and its <c>also</c> list), or that cannot be checked: not one standard
    /// IN question, a name without a plain text form, a fragmented datagram, a TCP segment that is not one whole
    /// in-order message. Query names are what a resolver forwards to whoever runs the domain: a tunnel's channel.
    /// </summary>
    DnsQueryNotAllowed = 215,

    // The DNS tunnel guard (site dns_guard): tunnel-shaped queries, reported (or dropped where configured), one event
    // per camera and trigger per 10 s; every such query is counted under its reason.
    /// <summary>A camera sent more DNS queries than <c>dns_guard.queries_per_minute</c> allows.</summary>
    DnsTunnelRate = 216,
    /// <summary>A query name with a label longer than <c>dns_guard.max_label</c> or longer than <c>dns_guard.max_name</c> in all.</summary>
    DnsTunnelLongName = 217,
    /// <summary>A query name whose part below its parent looks like encoded data: high entropy (<c>dns_guard.max_entropy</c>) or bytes no hostname has.</summary>
    DnsTunnelEntropy = 218,
    /// <summary>More distinct subdomains under one parent domain within the window than <c>dns_guard.unique_subdomains</c>: each query carries new data.</summary>
    DnsTunnelSubdomains = 219,
    /// <summary>A query type cameras do not ask (TXT, NULL, MX, CNAME, ANY...; <c>dns_guard.query_types</c> lists the usual ones).</summary>
    DnsTunnelQueryType = 220,
    /// <summary>
    /// A camera's connection to DNS over TLS or QUIC (port 853), or to a known DNS-over-HTTPS resolver on port 443 (the
    /// site's <c>doh_resolvers</c>), that no rule with <c>encrypted_dns: true</c> allows: encrypted DNS would take
    /// the camera's questions past the site resolver, the name rules and the tunnel guard.
    /// </summary>
    EncryptedDnsRefused = 221,

    // ---- Connection state (300..399) ----
    /// <summary>A TCP segment that is not an opener (SYN-ACK, ACK, data) with no tracked flow.</summary>
    TcpStateBypass = 300,
    /// <summary>An allowed opener found no free slot in the engine's flow table (<see cref="Engine.EngineOptions.FlowCapacity"/>): refused, never admitted untracked.</summary>
    FlowTableFull = 301,
    /// <summary>An allowed opener would take the camera (or one peer) past its flow quota and no closed or half-open flow could yield.</summary>
    FlowQuotaExceeded = 302,
    /// <summary>A later fragment of a datagram whose first fragment was not allowed, not seen, or has expired.</summary>
    OrphanFragment = 303,
    /// <summary>An ICMP error that quotes no tracked flow, or quotes it inconsistently.</summary>
    IcmpErrorUnrelated = 304,
    /// <summary>A flow admitted by an older policy that the current policy no longer allows.</summary>
    FlowRevoked = 305,
    /// <summary>A reply-direction packet (e.g. an echo reply) with no tracked request.</summary>
    UnsolicitedReply = 306,
    /// <summary>
    /// A later fragment starting before its datagram's first fragment ended: it could rewrite the layer-4 header
    /// the decision was made on (RFC 5722 forbids overlaps; the rest of the datagram is dropped too).
    /// </summary>
    OverlappingFragment = 307,
    /// <summary>
    /// A TCP RST (or a SYN-ACK) of a tracked flow whose sequence or acknowledgment number is not the one its sender
    /// can have: a blind reset attempt. The endpoints would ignore it (RFC 5961); letting it end the tracked flow
    /// would let anyone who guesses a port pair cut a camera's stream.
    /// </summary>
    TcpOutOfWindow = 308,

    // ---- Engine (900..) ----
    /// <summary>No policy is loaded: fail closed.</summary>
    NoPolicy = 900,
    /// <summary>The engine faulted; the data path fails closed.</summary>
    EngineFault = 901,
}

/// <summary>Stable kebab-case names for reasons, as logs, syslog and metrics print them. Allocation-free.</summary>
public static class ReasonNames
{
    private static readonly string[] Names = Build();

    /// <summary>Every defined reason, in numeric order.</summary>
    public static ReadOnlySpan<Reason> All => AllValues;

    private static readonly Reason[] AllValues = Enum.GetValues<Reason>();

    /// <summary>The largest numeric reason value plus one; counter arrays are this long.</summary>
    public const int Capacity = 1024;

    /// <summary>The stable name, e.g. <c>tcp-state-bypass</c>.</summary>
    public static string Name(Reason reason)
    {
        var i = (int)reason;
        return (uint)i < (uint)Names.Length ? Names[i] ?? "unknown" : "unknown";
    }

    /// <summary>True for reasons that let a frame pass.</summary>
    public static bool IsPassReason(Reason reason) => (ushort)reason is > 0 and < 100;

    /// <summary>True for malformed-input reasons.</summary>
    public static bool IsMalformed(Reason reason) => (ushort)reason is >= 100 and < 200;

    /// <summary>Parses a stable name back to a reason.</summary>
    public static bool TryParse(string name, out Reason reason)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (Names[i] == name)
            {
                reason = (Reason)i;
                return true;
            }
        }

        reason = default;
        return false;
    }

    private static string[] Build()
    {
        var names = new string[Capacity];
        foreach (var r in Enum.GetValues<Reason>())
        {
            names[(int)r] = Kebab(r.ToString());
        }

        return names;
    }

    private static string Kebab(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(pascal[i - 1]) || char.IsDigit(pascal[i - 1])))
                {
                    sb.Append('-');
                }

                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
