using System.Net;

namespace Appliance.Lab;

/// <summary>Which side of the appliance a lab host is cabled to.</summary>
internal enum LabSide
{
    /// <summary>The camera switch, behind the appliance's camera-side port.</summary>
    Camera,

    /// <summary>The site network, behind the appliance's uplink port.</summary>
    Uplink,
}

/// <summary>What a lab host pretends to be; decides the traffic it drives.</summary>
internal enum LabRole
{
    Camera,
    Rogue,
    Nvr,
    DnsNtp,
    Admin,
    Cloud,
    Internet,
}

/// <summary>
/// One pretend device: its own network namespace (<c>cfwlab-{Id}</c>) with one interface <c>eth0</c> cabled to the
/// camera or uplink switch. <paramref name="Name"/> is what the policy calls it (a camera's name in the policy).
/// </summary>
internal sealed record LabHost(string Id, LabRole Role, LabSide Side, string Name, string Mac, IPAddress Address, int PrefixLength)
{
    public string Namespace => LabNetwork.Prefix + Id;
}

/// <summary>
/// The lab's devices. Cameras, NVR, the site's DNS/NTP server and the admin host carry the example site's addresses
/// and MACs from <c>policies/</c> (see policies/README.md), so the appliance enforces the real example policy on them.
/// The vendor cloud and the internet host use documentation addresses that no policy allows; the rogue device is
/// a MAC and address the policy does not list.
/// </summary>
internal sealed record LabSite(IReadOnlyList<LabHost> Hosts)
{
    public IEnumerable<LabHost> Cameras => Hosts.Where(h => h.Role == LabRole.Camera);

    public LabHost Nvr => Single(LabRole.Nvr);

    public LabHost DnsNtp => Single(LabRole.DnsNtp);

    public LabHost Admin => Single(LabRole.Admin);

    public LabHost Cloud => Single(LabRole.Cloud);

    public LabHost Internet => Single(LabRole.Internet);

    public LabHost Rogue => Single(LabRole.Rogue);

    /// <summary>The camera that keeps phoning home to the vendor cloud (looking up <see cref="PhoneHomeName"/> first).</summary>
    public LabHost PhoningCamera => Cameras.First();

    /// <summary>The name the phoning camera looks up: its drops are reported by it.</summary>
    public const string PhoneHomeName = "p2p.vendor.example";

    /// <summary>
    /// The camera that reaches the vendor cloud by name, through its name rule (north-lobby: <c>vendor-cloud</c> in
    /// policies/cameras/north.yaml admits <see cref="CloudName"/>).
    /// </summary>
    public LabHost NameRuleCamera => Cameras.ElementAt(1);

    /// <summary>The vendor cloud's name the lab's DNS server answers with the cloud's address.</summary>
    public const string CloudName = "cloud.vendor.example";

    /// <summary>The camera whose web page the internet host keeps trying to open.</summary>
    public LabHost PokedCamera => Cameras.Last();

    /// <summary>The camera whose flow quota the flood (<c>--flood</c>) tries to exhaust: south-gate, quota 256 (onvif profile).</summary>
    public LabHost FloodedCamera => Cameras.Last();

    private LabHost Single(LabRole role) => Hosts.First(h => h.Role == role);

    /// <summary>The example site in <c>policies/</c>.</summary>
    public static LabSite Example { get; } = new(
    [
        // Three cameras of the example site, one per profile (policies/cameras/*.yaml).
        new("cam1", LabRole.Camera, LabSide.Camera, "north-gate", "02:00:00:00:01:01", IPAddress.Parse("192.0.2.11"), 24),
        new("cam2", LabRole.Camera, LabSide.Camera, "north-lobby", "02:00:00:00:01:03", IPAddress.Parse("192.0.2.13"), 24),
        new("cam3", LabRole.Camera, LabSide.Camera, "south-gate", "02:00:00:00:01:07", IPAddress.Parse("192.0.2.17"), 24),

        // Not in the policy: a laptop plugged into the camera switch.
        new("rogue", LabRole.Rogue, LabSide.Camera, "rogue-device", "02:cf:ba:d0:00:01", IPAddress.Parse("192.0.2.99"), 24),

        // The site's networks (policies/networks.yaml): nvr, dns-ntp, admins.
        new("nvr", LabRole.Nvr, LabSide.Uplink, "nvr", "02:cf:00:00:01:10", IPAddress.Parse("198.51.100.10"), 24),
        new("dns", LabRole.DnsNtp, LabSide.Uplink, "dns-ntp", "02:cf:00:00:01:02", IPAddress.Parse("198.51.100.2"), 24),
        new("admin", LabRole.Admin, LabSide.Uplink, "admin-workstation", "02:cf:00:00:02:05", IPAddress.Parse("203.0.113.5"), 24),

        // Documentation addresses no policy network covers.
        new("cloud", LabRole.Cloud, LabSide.Uplink, "vendor-cloud", "02:cf:00:00:03:50", IPAddress.Parse("203.0.113.50"), 24),
        new("inet", LabRole.Internet, LabSide.Uplink, "internet-host", "02:cf:00:00:03:66", IPAddress.Parse("198.51.100.66"), 24),
    ]);
}
