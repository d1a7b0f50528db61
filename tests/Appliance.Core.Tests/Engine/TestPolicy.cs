using System.Net;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// A small site: cameras bound every way the policy language allows, one shared profile, an NVR, a DNS server.
/// Addresses are unit-test data only (nothing is ever sent); "internet" peers use documentation ranges.
/// </summary>
internal static class TestPolicy
{
    public static readonly MacAddress Cam1Mac = Frames.CameraMac;          // MAC + IPv4, everything allowed
    public const string Cam1Ip = "10.0.0.11";
    public static readonly MacAddress Cam2Mac = Frames.OtherCameraMac;     // MAC + IPv4
    public const string Cam2Ip = "10.0.0.12";
    public const string Cam3Ip = "10.0.0.13";                              // IPv4 only, no ARP, no DHCP
    public static readonly MacAddress Cam4Mac = Frames.Mac("02:00:00:00:0c:04"); // MAC only
    public static readonly MacAddress Cam5Mac = Frames.Mac("02:00:00:00:0c:05"); // dual stack, discovery
    public const string Cam5Ip = "10.0.0.15";
    public const string Cam5Ip6 = "2001:db8::15";
    public static readonly MacAddress Cam6Mac = Frames.Mac("02:00:00:00:0c:06"); // monitor mode
    public const string Cam6Ip = "10.0.0.16";

    public static readonly MacAddress NvrMac = Frames.NvrMac;
    public const string NvrIp = "10.0.1.10";
    public const string NvrIp6 = "2001:db8:1::10";
    public const string DnsIp = "10.0.1.1";
    public static readonly MacAddress RouterMac = Frames.RouterMac;
    public const string RouterIp = "10.0.1.254";
    public const string InternetIp = "192.0.2.7";
    public static readonly MacAddress UnknownMac = Frames.Mac("02:00:00:00:0e:01");
    public const string UnknownIp = "10.0.0.99";

    /// <summary>The shared profile, in rule order (rule indices follow it).</summary>
    public static IReadOnlyList<RuleSpec> Profile { get; } =
    [
        Rule("nvr-rtsp", Direction.Ingress, RuleProtocol.Tcp, [new(554, 554)], [], ["10.0.1.10/32", "2001:db8:1::10/128"]),
        Rule("nvr-upload", Direction.Egress, RuleProtocol.Tcp, [new(443, 443), new(8000, 8010)], [], ["10.0.1.0/24"], log: true),
        Rule("dns", Direction.Egress, RuleProtocol.Udp, [new(53, 53)], [], ["10.0.1.1/32"]),
        Rule("ping-from-nvr", Direction.Ingress, RuleProtocol.Icmp, [], [8], ["10.0.1.10/32"]),
        Rule("ping6-from-nvr", Direction.Ingress, RuleProtocol.Icmpv6, [], [128], ["2001:db8:1::10/128"]),
    ];

    public static RuleSpec Rule(string id, Direction direction, RuleProtocol protocol, PortRange[] ports, byte[] types, string[] peers, bool log = false)
        => new()
        {
            Id = id,
            Direction = direction,
            Protocol = protocol,
            Ports = ports,
            IcmpTypes = types,
            Peers = [.. peers.Select(IPNetwork.Parse)],
            Log = log,
        };

    public static PolicySpec Spec(
        UnknownDeviceMode unknown = UnknownDeviceMode.Deny,
        IReadOnlyList<RuleSpec>? rules = null,
        Func<CameraSpec, CameraSpec>? edit = null)
    {
        rules ??= Profile;
        edit ??= c => c;
        CameraSpec[] cameras =
        [
            new() { Name = "cam-1", Mac = Cam1Mac, Addresses = [IPAddress.Parse(Cam1Ip)], Rules = rules },
            new() { Name = "cam-2", Mac = Cam2Mac, Addresses = [IPAddress.Parse(Cam2Ip)], Rules = rules },
            new() { Name = "cam-3", Addresses = [IPAddress.Parse(Cam3Ip)], Rules = rules, AllowArp = false, AllowDhcp = false },
            new() { Name = "cam-4", Mac = Cam4Mac, Rules = rules },
            new()
            {
                Name = "cam-5",
                Mac = Cam5Mac,
                Addresses = [IPAddress.Parse(Cam5Ip), IPAddress.Parse(Cam5Ip6)],
                Rules = rules,
                AllowIpv6 = true,
                Discovery = DiscoveryProtocols.WsDiscovery | DiscoveryProtocols.Mdns,
            },
            new() { Name = "cam-6", Mac = Cam6Mac, Addresses = [IPAddress.Parse(Cam6Ip)], Rules = rules, Mode = CameraMode.Monitor },
        ];
        return new PolicySpec
        {
            Cameras = [.. cameras.Select(edit)],
            Site = new SiteSpec { UnknownDevices = unknown },
            Sha256 = new string('0', 64),
        };
    }

    /// <summary>An engine with <paramref name="spec"/> (default: <see cref="Spec"/>) compiled and in force.</summary>
    public static PacketEngine NewEngine(PolicySpec? spec = null, EngineOptions? options = null)
    {
        var holder = new PolicyHolder(new CameraSlotRegistry(64));
        var engine = new PacketEngine(holder, options);
        Swap(engine, spec ?? Spec());
        return engine;
    }

    /// <summary>Compiles <paramref name="spec"/> with the next version and swaps it in.</summary>
    public static CompiledPolicy Swap(PacketEngine engine, PolicySpec spec)
    {
        var holder = engine.Policies;
        var compiled = CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots);
        holder.Swap(compiled);
        return compiled;
    }

    public static int SlotOf(PacketEngine engine, string camera)
        => engine.Policies.Current!.TryGetCamera(camera, out var c) ? c.Slot : throw new ArgumentException(camera);
}
