using System.Net;

namespace Appliance.Core.Policy;

/// <summary>The L4 protocol a rule covers.</summary>
public enum RuleProtocol : byte
{
    /// <summary>Any protocol. With ports it covers TCP and UDP only, with ICMP types ICMP and ICMPv6 only, with neither everything (protocols without ports included).</summary>
    Any = 0,
    /// <summary>ICMP for IPv4 (IP protocol 1).</summary>
    Icmp = 1,
    /// <summary>TCP (IP protocol 6): the opener is the SYN.</summary>
    Tcp = 6,
    /// <summary>UDP (IP protocol 17): the opener is the first datagram.</summary>
    Udp = 17,
    /// <summary>ICMPv6 (IP protocol 58); neighbour discovery is governed by the camera's IPv6 setting, not by rules.</summary>
    Icmpv6 = 58,
}

/// <summary>Whether a camera's policy is enforced or only reported.</summary>
public enum CameraMode : byte
{
    /// <summary>The policy decides: what it does not allow is dropped. The default.</summary>
    Enforce = 0,

    /// <summary>Onboarding: every decision is made and reported, nothing is dropped.</summary>
    Monitor = 1,

    /// <summary>
    /// Learning: as <see cref="Monitor"/> (nothing is dropped, would-be drops are reported), and the appliance
    /// aggregates what the camera does into a policy proposal (<c>GET /api/v1/proposal</c>), off the data path.
    /// </summary>
    Learn = 2,
}

/// <summary>What happens to devices that are not listed.</summary>
public enum UnknownDeviceMode : byte
{
    /// <summary>They get nothing.</summary>
    Deny = 0,

    /// <summary>Their frames pass and are reported as unknown-device.</summary>
    Monitor = 1,
}

/// <summary>Multicast discovery protocols a camera may use.</summary>
[Flags]
public enum DiscoveryProtocols : byte
{
    /// <summary>No discovery multicast passes for the camera.</summary>
    None = 0,

    /// <summary>WS-Discovery, UDP 3702 to 239.255.255.250 / ff02::c.</summary>
    WsDiscovery = 1,

    /// <summary>SSDP, UDP 1900 to 239.255.255.250 / ff02::c.</summary>
    Ssdp = 2,

    /// <summary>mDNS, UDP 5353 to 224.0.0.251 / ff02::fb.</summary>
    Mdns = 4,
}

/// <summary>Which names a camera may ask its resolver about.</summary>
public enum DnsQueryScope : byte
{
    /// <summary>Any name: existing sites keep working. The default.</summary>
    Any = 0,

    /// <summary>
    /// Only the names and wildcards its rules use, plus its <c>also</c> list; every other question is dropped
    /// (<see cref="Reason.DnsQueryNotAllowed"/>).
    /// </summary>
    Rules = 1,
}

/// <summary>What the DNS tunnel guard does with a query it finds tunnel-shaped.</summary>
public enum DnsGuardAction : byte
{
    /// <summary>Passes it and reports it (a would-be drop, rate-limited). The default.</summary>
    Report = 0,

    /// <summary>Drops it and reports it (rate-limited).</summary>
    Drop = 1,

    /// <summary>Does not look.</summary>
    Off = 2,
}

/// <summary>
/// The DNS tunnel guard's thresholds (site-wide): what makes a camera's queries look like a tunnel through the site
/// resolver. The defaults stay clear of what cameras ask (a few names, A/AAAA, a query every few seconds) and catch
/// iodine- and dnscat2-style tunnels within their first queries (see the policy README for the figures).
/// </summary>
public sealed record DnsGuardSpec
{
    /// <summary>The site's action; profiles and cameras may set their own.</summary>
    public DnsGuardAction Action { get; init; }

    /// <summary>Most queries per minute a camera may send (a burst of as many, refilled evenly).</summary>
    public int QueriesPerMinute { get; init; } = 120;

    /// <summary>Longest label (bytes) a query name may have.</summary>
    public int MaxLabelLength { get; init; } = 52;

    /// <summary>Longest query name in text form (characters).</summary>
    public int MaxNameLength { get; init; } = 120;

    /// <summary>
    /// Highest Shannon entropy (bits per character) the part of a name before its last two labels may have once it is
    /// at least <see cref="EntropyMinLength"/> characters long; base32/base64 data scores 4.5 and more.
    /// </summary>
    public double MaxEntropy { get; init; } = 4.3;

    /// <summary>Shortest subdomain part (characters, dots not counted) whose entropy is judged.</summary>
    public int EntropyMinLength { get; init; } = 32;

    /// <summary>Most distinct subdomains one camera may ask about under one parent (last two labels) per <see cref="Window"/>.</summary>
    public int UniqueSubdomains { get; init; } = 30;

    /// <summary>The window for <see cref="UniqueSubdomains"/>.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Query types cameras ask about; any other (TXT, NULL, MX, CNAME, ANY...) is tunnel-shaped.</summary>
    public IReadOnlyList<ushort> QueryTypes { get; init; } = DefaultQueryTypes;

    /// <summary>A, NS, SOA, PTR, AAAA, SRV, SVCB, HTTPS.</summary>
    public static readonly IReadOnlyList<ushort> DefaultQueryTypes = [1, 2, 6, 12, 28, 33, 64, 65];
}

/// <summary>An inclusive port range; <c>Low == High</c> for one port.</summary>
public readonly record struct PortRange(ushort Low, ushort High)
{
    /// <summary>Every port, 0 to 65535.</summary>
    public static PortRange All => new(0, 65535);

    /// <summary>True when <paramref name="port"/> is within the range, both ends included.</summary>
    public bool Contains(ushort port) => port >= Low && port <= High;

    /// <summary><c>554</c> for one port, <c>8000-8010</c> for a range, as the policy language writes them.</summary>
    public override string ToString() => Low == High ? Low.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Low}-{High}";
}

/// <summary>
/// One resolved allowlist rule: profile and network names are already expanded. This is the contract between
/// the policy language (Appliance.Policy) and the core's compiled tables.
/// </summary>
public sealed record RuleSpec
{
    /// <summary>The rule's id as logs and counters repeat it (unique within a camera's effective rule set).</summary>
    public required string Id { get; init; }

    /// <summary>Who may open: the camera (egress) or the peer (ingress). Replies of an admitted flow pass either way.</summary>
    public required Direction Direction { get; init; }

    /// <summary>The protocol of the opener.</summary>
    public required RuleProtocol Protocol { get; init; }

    /// <summary>Destination ports of the opener (the camera's port for ingress, the peer's for egress). Empty means any.</summary>
    public IReadOnlyList<PortRange> Ports { get; init; } = [];

    /// <summary>ICMP/ICMPv6 types allowed for the opener. Empty means any.</summary>
    public IReadOnlyList<byte> IcmpTypes { get; init; } = [];

    /// <summary>
    /// The peer's networks. Empty only when <see cref="Names"/> is not: "anywhere" is spelled 0.0.0.0/0 and ::/0.
    /// </summary>
    public required IReadOnlyList<IPNetwork> Peers { get; init; }

    /// <summary>
    /// DNS names and wildcards (<see cref="DnsNamePattern"/> text, lower case) the peer may have: an address is
    /// admitted only while the camera's own DNS answers map one of them to it (see the engine's learned names).
    /// </summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary>Whether matches are logged.</summary>
    public bool Log { get; init; }

    /// <summary>
    /// Whether the rule may admit encrypted DNS: DNS over TLS/QUIC (port 853) and DNS over HTTPS to a known resolver
    /// (<see cref="SiteSpec.DohResolvers"/>). Off, such connections are refused even when the rule's ports and peers match.
    /// </summary>
    public bool EncryptedDns { get; init; }

    /// <summary>Free text from the policy file.</summary>
    public string? Comment { get; init; }

    /// <summary>Where it was written, <c>file:line:column</c>, and through which profile; for <c>policy show</c>.</summary>
    public string? Origin { get; init; }
}

/// <summary>One camera with everything resolved: identity, mode, effective rules and site defaults applied.</summary>
public sealed record CameraSpec
{
    /// <summary>The camera's unique name: logs, syslog, the API and counters (through its slot) identify it by this.</summary>
    public required string Name { get; init; }

    /// <summary>The camera's MAC, or null when identified by IP alone.</summary>
    public MacAddress? Mac { get; init; }

    /// <summary>The camera's addresses (IPv4 and/or IPv6). Empty when identified by MAC alone.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; init; } = [];

    /// <summary>Enforce, monitor (onboarding: decisions reported, nothing dropped) or learn (as monitor, and feeds the proposal).</summary>
    public CameraMode Mode { get; init; }

    /// <summary>Where <see cref="Mode"/> came from, for display: <c>camera</c>, <c>profile 'NAME'</c>, <c>site</c> or <c>default</c>.</summary>
    public string ModeFrom { get; init; } = "camera";

    /// <summary>Profile names, in order, for display.</summary>
    public IReadOnlyList<string> Profiles { get; init; } = [];

    /// <summary>Profile rules then the camera's own, flattened.</summary>
    public IReadOnlyList<RuleSpec> Rules { get; init; } = [];

    /// <summary>Whether ARP from and for the camera passes (only with a sender MAC/IP pair that is a listed device).</summary>
    public bool AllowArp { get; init; } = true;

    /// <summary>Whether the camera's DHCP client exchange passes (its broadcasts out, server replies for its MAC back).</summary>
    public bool AllowDhcp { get; init; } = true;

    /// <summary>Whether the camera may use IPv6 at all, neighbour discovery included; off, every IPv6 frame of it is dropped.</summary>
    public bool AllowIpv6 { get; init; }

    /// <summary>The multicast discovery protocols the camera may use; none by default.</summary>
    public DiscoveryProtocols Discovery { get; init; }

    /// <summary>Most flows this camera may hold in the flow table; null takes the engine's default.</summary>
    public int? FlowQuota { get; init; }

    /// <summary>Which names the camera may ask its resolver about (any, by default).</summary>
    public DnsQueryScope DnsQueries { get; init; }

    /// <summary>
    /// Names and wildcards (<see cref="DnsNamePattern"/> text, lower case) the camera may ask about besides its rules'
    /// names, when <see cref="DnsQueries"/> is <see cref="DnsQueryScope.Rules"/>.
    /// </summary>
    public IReadOnlyList<string> DnsAlso { get; init; } = [];

    /// <summary>What the DNS tunnel guard does with this camera's queries; null: the site's action.</summary>
    public DnsGuardAction? DnsGuard { get; init; }
}

/// <summary>Site-wide settings that are not per camera.</summary>
public sealed record SiteSpec
{
    /// <summary>
    /// The site's <c>mode</c>, when it sets one: the mode of every camera that neither itself nor a profile sets
    /// (already applied to <see cref="CameraSpec.Mode"/>). Learn here also teaches the proposal about camera-side
    /// devices not yet in the policy.
    /// </summary>
    public CameraMode? Mode { get; init; }

    /// <summary>What devices that match no camera get: nothing (the default), or monitor for taking an inventory.</summary>
    public UnknownDeviceMode UnknownDevices { get; init; } = UnknownDeviceMode.Deny;

    /// <summary>
    /// The site's DHCP servers (IPv4). When any are named, DHCP server replies from the uplink pass only from them;
    /// empty means any uplink host may answer a camera's DHCP request.
    /// </summary>
    public IReadOnlyList<IPAddress> DhcpServers { get; init; } = [];

    /// <summary>
    /// The site's IPv6 routers, by the link-local address they advertise from. When any are named, router
    /// advertisements and redirects from the uplink pass only from them (RA guard, RFC 6105); empty means any.
    /// </summary>
    public IReadOnlyList<IPAddress> Routers { get; init; } = [];

    /// <summary>
    /// Shortest time a learned name-to-address mapping is kept, whatever the answer's TTL said: an address lapses
    /// after max(TTL, this). Cameras that cache answers longer than the TTL keep working; the default stays short so a
    /// name that moves does not keep an old address open for long.
    /// </summary>
    public TimeSpan DnsMinTtl { get; init; } = DefaultDnsMinTtl;

    /// <summary>
    /// Known DNS-over-HTTPS resolvers, by address and by name (or wildcard): a camera's connection to one on port 443 is
    /// refused unless a rule with <see cref="RuleSpec.EncryptedDns"/> allows it. A name counts when the camera's own DNS
    /// answers mapped it to the address. Replaced as a whole by the site's <c>doh_resolvers</c>.
    /// </summary>
    public IReadOnlyList<string> DohResolvers { get; init; } = DefaultDohResolvers;

    /// <summary>
    /// The default <see cref="DohResolvers"/>: the big public resolvers' DoH addresses and names (Cloudflare, Google,
    /// Quad9, OpenDNS, AdGuard, NextDNS, CleanBrowsing, Mozilla's).
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultDohResolvers =
    [
        "1.1.1.1", "1.0.0.1", "2606:4700:4700::1111", "2606:4700:4700::1001", "cloudflare-dns.com", "*.cloudflare-dns.com",
        "8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844", "dns.google", "dns.google.com",
        "9.9.9.9", "149.112.112.112", "2620:fe::fe", "2620:fe::9", "dns.quad9.net", "*.quad9.net",
        "208.67.222.222", "208.67.220.220", "2620:119:35::35", "2620:119:53::53", "doh.opendns.com",
        "94.140.14.14", "94.140.15.15", "dns.adguard-dns.com", "*.adguard-dns.com",
        "dns.nextdns.io", "*.nextdns.io", "doh.cleanbrowsing.org",
    ];

    /// <summary>The DNS tunnel guard's thresholds and default action.</summary>
    public DnsGuardSpec DnsGuard { get; init; } = new();

    /// <summary>The default <see cref="DnsMinTtl"/>: 120 seconds.</summary>
    public static readonly TimeSpan DefaultDnsMinTtl = TimeSpan.FromSeconds(120);
}

/// <summary>A whole validated policy, ready to compile.</summary>
public sealed record PolicySpec
{
    /// <summary>Every camera with its effective settings and rules.</summary>
    public required IReadOnlyList<CameraSpec> Cameras { get; init; }

    /// <summary>The site-wide settings (unknown devices, DHCP servers, routers, DNS minimum TTL).</summary>
    public SiteSpec Site { get; init; } = new();

    /// <summary>Lower-case hex sha256 over the sources (file names and bytes, in ordinal order of name).</summary>
    public required string Sha256 { get; init; }

    /// <summary>Source file names relative to the policy directory.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>
    /// The named networks, expanded to prefixes, by name (ordinal order). Not compiled (rules carry their peers
    /// expanded); kept so tools such as <c>camfw learn</c> can speak the site's own names.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IPNetwork>> Networks { get; init; } = new Dictionary<string, IReadOnlyList<IPNetwork>>();
}
