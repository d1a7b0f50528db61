using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Policy;

// What the files say, checked for shape but not yet resolved: names are still names. Each item keeps where it was
// written so that later checks (unknown names, clashes across files) can point at it.

/// <summary>The per-camera allowances a site, profile or camera may set; null means "not said here".</summary>
internal sealed class AllowanceDecl
{
    public bool? Arp { get; set; }

    public bool? Dhcp { get; set; }

    public bool? Ipv6 { get; set; }

    public DiscoveryProtocols? Discovery { get; set; }

    public int? FlowQuota { get; set; }

    /// <summary><c>dns: { queries: ... }</c>, when given.</summary>
    public DnsQueryScope? DnsQueries { get; set; }

    /// <summary><c>dns: { also: [...] }</c>: names already checked, lower case, with where each was written.</summary>
    public List<Token> DnsAlso { get; } = [];

    /// <summary><c>dns: { guard: ... }</c>, when given.</summary>
    public DnsGuardAction? DnsGuard { get; set; }
}

internal sealed record Token(string Text, SourceLocation At);

internal sealed class NetworkDecl(string name, SourceLocation at)
{
    public string Name { get; } = name;

    public SourceLocation At { get; } = at;

    public List<Token> Items { get; } = [];

    /// <summary>Its value was unreadable (already reported); users of the name are not blamed again.</summary>
    public bool Broken { get; set; }
}

internal sealed class RuleDecl(SourceLocation at, string owner)
{
    public SourceLocation At { get; } = at;

    /// <summary>"profile 'hikvision'" or "camera 'gate-1'", for messages.</summary>
    public string Owner { get; } = owner;

    public int Ordinal { get; set; }

    public string? Id { get; set; }

    public SourceLocation IdAt { get; set; }

    public Direction? Direction { get; set; }

    public RuleProtocol? Protocol { get; set; }

    public List<PortRange> Ports { get; } = [];

    public SourceLocation? PortsAt { get; set; }

    public List<Token> IcmpTypes { get; } = [];

    public SourceLocation? IcmpTypesAt { get; set; }

    public List<Token> Peers { get; } = [];

    public SourceLocation PeerAt { get; set; }

    public bool Log { get; set; }

    public bool EncryptedDns { get; set; }

    public string? Comment { get; set; }

    /// <summary>Something in the rule was already reported; later checks skip it rather than pile on.</summary>
    public bool Broken { get; set; }

    /// <summary>"rule 'rtsp' in profile 'hikvision'", for messages.</summary>
    public string Describe() => Id is null ? $"rule #{Ordinal} in {Owner}" : $"rule '{Id}' in {Owner}";
}

internal sealed class ProfileDecl(string name, SourceLocation at)
{
    public string Name { get; } = name;

    public SourceLocation At { get; } = at;

    public AllowanceDecl Allowances { get; } = new();

    /// <summary><c>mode</c> when the profile sets it, and where; a camera's own mode wins over it.</summary>
    public (CameraMode Mode, SourceLocation At)? Mode { get; set; }

    public List<RuleDecl> Rules { get; } = [];
}

internal sealed class CameraDecl(string name, SourceLocation at)
{
    public string Name { get; } = name;

    public SourceLocation At { get; } = at;

    public MacAddress? Mac { get; set; }

    public SourceLocation MacAt { get; set; }

    public List<(System.Net.IPAddress Address, SourceLocation At)> Addresses { get; } = [];

    public bool IdentityBroken { get; set; }

    /// <summary><c>mode</c> when the camera sets it: it wins over its profiles' and the site's.</summary>
    public CameraMode? Mode { get; set; }

    public List<Token> Profiles { get; } = [];

    public AllowanceDecl Allowances { get; } = new();

    public List<RuleDecl> Rules { get; } = [];
}

internal sealed class SiteDecl(SourceLocation at)
{
    public SourceLocation At { get; } = at;

    public UnknownDeviceMode UnknownDevices { get; set; }

    /// <summary><c>mode</c> when the site sets it: the mode of every camera that neither it nor a profile sets.</summary>
    public CameraMode? Mode { get; set; }

    public AllowanceDecl Defaults { get; } = new();

    /// <summary>The site's DHCP servers (IPv4 host addresses), as read.</summary>
    public List<System.Net.IPAddress> DhcpServers { get; } = [];

    /// <summary>The site's IPv6 routers (link-local addresses), as read.</summary>
    public List<System.Net.IPAddress> Routers { get; } = [];

    /// <summary><c>dns_min_ttl</c>, when given.</summary>
    public TimeSpan? DnsMinTtl { get; set; }

    /// <summary><c>doh_resolvers</c>, when given (addresses in canonical text, names lower case).</summary>
    public List<string>? DohResolvers { get; set; }

    /// <summary><c>dns_guard</c>: the tunnel guard's thresholds (defaults where not given).</summary>
    public DnsGuardSpec DnsGuard { get; set; } = new();
}

/// <summary>Everything every file declared, in file order.</summary>
internal sealed class PolicyDeclarations
{
    public List<SiteDecl> Sites { get; } = [];

    public List<NetworkDecl> Networks { get; } = [];

    public List<ProfileDecl> Profiles { get; } = [];

    public List<CameraDecl> Cameras { get; } = [];
}
