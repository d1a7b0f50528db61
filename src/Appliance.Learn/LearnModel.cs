using System.Net;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Learn;

/// <summary>
/// A device on the camera side: by MAC when frames carry one, else (raw IP captures) by its address.
/// </summary>
/// <param name="Mac">The device's MAC, or 0 when keyed by <paramref name="Ip"/>.</param>
/// <param name="Ip">The device's address when it has no MAC; 0 otherwise.</param>
public readonly record struct DeviceKey(MacAddress Mac, IpAddr Ip) : IComparable<DeviceKey>
{
    /// <summary>True when the device is known by MAC.</summary>
    public bool HasMac => Mac.Value != 0;

    /// <inheritdoc/>
    public int CompareTo(DeviceKey other)
    {
        var c = Mac.Value.CompareTo(other.Mac.Value);
        return c != 0 ? c : Ip.Value.CompareTo(other.Ip.Value);
    }

    /// <inheritdoc/>
    public override string ToString() => HasMac ? Mac.ToString() : Ip.ToString();

    /// <summary>Orders by MAC, then address.</summary>
    public static bool operator <(DeviceKey left, DeviceKey right) => left.CompareTo(right) < 0;

    /// <summary>Orders by MAC, then address.</summary>
    public static bool operator <=(DeviceKey left, DeviceKey right) => left.CompareTo(right) <= 0;

    /// <summary>Orders by MAC, then address.</summary>
    public static bool operator >(DeviceKey left, DeviceKey right) => left.CompareTo(right) > 0;

    /// <summary>Orders by MAC, then address.</summary>
    public static bool operator >=(DeviceKey left, DeviceKey right) => left.CompareTo(right) >= 0;
}

/// <summary>Thresholds and bounds of a learner. The defaults suit a week of a few hundred cameras.</summary>
public sealed record LearnOptions
{
    /// <summary>Most camera-side devices tracked; more are counted, not tracked.</summary>
    public int MaxDevices { get; init; } = 4096;

    /// <summary>Most connections open at once in the tracker; when full, idle ones are folded first, then new ones are counted and skipped.</summary>
    public int MaxConnections { get; init; } = 65_536;

    /// <summary>Most distinct (device, direction, protocol, port, peer) services kept; more are counted, not kept.</summary>
    public int MaxServices { get; init; } = 65_536;

    /// <summary>
    /// Most services kept for one device (peers times ports times directions). When a device has this many, its oldest
    /// service that never completed a connection is evicted (counted in <see cref="LearnCounters.ServicesEvicted"/>)
    /// to make room for a completed one; learned services are never evicted.
    /// </summary>
    public int MaxServicesPerDevice { get; init; } = 1024;

    /// <summary>A connection idle this long (capture or engine time) is folded into its service.</summary>
    public long ConnectionIdleMs { get; init; } = 300_000;

    /// <summary>
    /// A service seen with fewer completed connections than this is listed, not allowed: a one-off probe or a
    /// try. Unless one connection carried at least <see cref="MinPacketsForOneConnection"/> packets (a stream the
    /// NVR keeps open all week is one connection).
    /// </summary>
    public int MinConnections { get; init; } = 2;

    /// <summary>See <see cref="MinConnections"/>.</summary>
    public long MinPacketsForOneConnection { get; init; } = 20;

    /// <summary>
    /// Or one connection that lasted this long (learned live from the flow table, where packets are not counted).
    /// </summary>
    public long MinDurationMsForOneConnection { get; init; } = 60_000;
}

/// <summary>What one camera-side device did, as a learner saw it.</summary>
public sealed record LearnedDevice
{
    /// <summary>The device.</summary>
    public required DeviceKey Key { get; init; }

    /// <summary>Its source addresses, most used first (then by address).</summary>
    public required IReadOnlyList<(IPAddress Address, long Frames)> Addresses { get; init; }

    /// <summary>Frames it sent.</summary>
    public long Frames { get; init; }

    /// <summary>Wire bytes it sent.</summary>
    public long Bytes { get; init; }

    /// <summary>First frame, ms since the epoch (capture or engine clock).</summary>
    public long FirstMs { get; init; }

    /// <summary>Last frame, ms since the epoch.</summary>
    public long LastMs { get; init; }

    /// <summary>It asked for an address by DHCP.</summary>
    public bool UsedDhcp { get; init; }

    /// <summary>It sent IPv6 from a global or unique-local address.</summary>
    public bool UsedIpv6 { get; init; }

    /// <summary>Multicast discovery it sent.</summary>
    public DiscoveryProtocols Discovery { get; init; }
}

/// <summary>
/// One kind of connection of one device: who opened it, protocol, the server's port (the camera's for ingress, the
/// peer's for egress; the ICMP type for ICMP) and the peer, with how often and how much.
/// </summary>
public sealed record LearnedService
{
    /// <summary>The camera-side device.</summary>
    public required DeviceKey Device { get; init; }

    /// <summary>Who opened the connections.</summary>
    public required Direction Direction { get; init; }

    /// <summary>tcp, udp, icmp or icmpv6.</summary>
    public required RuleProtocol Protocol { get; init; }

    /// <summary>The server port (tcp/udp), or the opener's ICMP type.</summary>
    public required ushort Port { get; init; }

    /// <summary>The other end.</summary>
    public required IPAddress Peer { get; init; }

    /// <summary>The name the camera last resolved for <see cref="Peer"/> before connecting, if any.</summary>
    public string? Name { get; init; }

    /// <summary>Connections whose handshake completed (TCP: SYN, SYN-ACK, ACK; UDP and ICMP echo: an answer came back).</summary>
    public long Connections { get; init; }

    /// <summary>Connections that never completed (no answer, refused, reset).</summary>
    public long Incomplete { get; init; }

    /// <summary>Of <see cref="Connections"/>, those joined mid-way (the capture began after their SYN; the opener is inferred from the ports).</summary>
    public long MidStream { get; init; }

    /// <summary>Largest packet count of one completed connection.</summary>
    public long MaxPacketsPerConnection { get; init; }

    /// <summary>Longest completed connection, first to last packet (or flow-table sample), in ms.</summary>
    public long MaxDurationMs { get; init; }

    /// <summary>Packets, both ways, of completed connections.</summary>
    public long Packets { get; init; }

    /// <summary>Wire bytes, both ways, of completed connections.</summary>
    public long Bytes { get; init; }

    /// <summary>First packet, ms since the epoch.</summary>
    public long FirstMs { get; init; }

    /// <summary>Last packet, ms since the epoch.</summary>
    public long LastMs { get; init; }
}

/// <summary>What a learner counted but did not keep.</summary>
public sealed record LearnCounters
{
    /// <summary>Frames looked at.</summary>
    public long Frames { get; init; }

    /// <summary>Frames that did not parse.</summary>
    public long Malformed { get; init; }

    /// <summary>Frames of other protocols, ICMP errors, and TCP segments of connections joined without a SYN that were only reset.</summary>
    public long Ignored { get; init; }

    /// <summary>New devices not tracked because <see cref="LearnOptions.MaxDevices"/> was reached.</summary>
    public long DevicesNotTracked { get; init; }

    /// <summary>New connections not tracked because <see cref="LearnOptions.MaxConnections"/> was reached.</summary>
    public long ConnectionsNotTracked { get; init; }

    /// <summary>Services not kept because <see cref="LearnOptions.MaxServices"/> or <see cref="LearnOptions.MaxServicesPerDevice"/> was reached.</summary>
    public long ServicesNotKept { get; init; }

    /// <summary>Never-completed services evicted to make room for completed ones (<see cref="LearnOptions.MaxServicesPerDevice"/>).</summary>
    public long ServicesEvicted { get; init; }

    /// <summary>Devices that had learned nothing, evicted to make room for new ones (<see cref="LearnOptions.MaxDevices"/>).</summary>
    public long DevicesEvicted { get; init; }

    /// <summary>Learn-mode notes the engines dropped because their ring was full (live only).</summary>
    public long NotesLost { get; init; }
}

/// <summary>A learner's findings at one moment, sorted (devices by key; services by device, direction, protocol, port, peer).</summary>
public sealed record LearnSnapshot(IReadOnlyList<LearnedDevice> Devices, IReadOnlyList<LearnedService> Services, LearnCounters Counters);
