using System.Runtime.CompilerServices;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Core.Engine;

// Who is the camera, and the stateless special cases: ARP, DHCP, multicast discovery, neighbour discovery,
// broadcast. Everything here is a handful of hash probes; nothing depends on how many cameras or rules exist.
public sealed partial class PacketEngine
{
    private const ushort DhcpServerPort = 67;
    private const ushort DhcpClientPort = 68;
    private const ushort WsDiscoveryPort = 3702;
    private const ushort SsdpPort = 1900;
    private const ushort MdnsPort = 5353;
    private const ushort ArpReply = 2;
    private const byte RouterAdvertisement = 134;
    private const byte Redirect = 137;
    private const uint LimitedBroadcast = 0xFFFF_FFFFu;

    // 239.255.255.250 (WS-Discovery, SSDP), 224.0.0.251 (mDNS); ff02::c, ff02::fb.
    private static readonly IpAddr SsdpGroupV4 = IpAddr.FromV4(0xEFFF_FFFA);
    private static readonly IpAddr MdnsGroupV4 = IpAddr.FromV4(0xE000_00FB);
    private static readonly IpAddr SsdpGroupV6 = new(new UInt128(0xFF02_0000_0000_0000UL, 0xCUL));
    private static readonly IpAddr MdnsGroupV6 = new(new UInt128(0xFF02_0000_0000_0000UL, 0xFBUL));

    private Decision Decide(CompiledPolicy policy, ref PacketInfo info, Side side, long nowMs) => info.Kind switch
    {
        L3Kind.Arp => DecideArp(policy, ref info, side),
        L3Kind.Ipv4 or L3Kind.Ipv6 => side == Side.Camera
            ? FromCameraSide(policy, ref info, nowMs)
            : FromUplinkSide(policy, ref info, nowMs),
        _ => Decision.Drop(Reason.UnsupportedProtocol),
    };

    private Decision FromCameraSide(CompiledPolicy p, ref PacketInfo info, long nowMs)
    {
        var v6 = info.Kind == L3Kind.Ipv6;

        // A DHCP client has no address yet (it sends from 0.0.0.0): its MAC is its identity. Only the broadcast form
        // is special: the port pair alone to a unicast address would be a free channel to any host on the internet
        // (or to another camera), so a unicast renewal or release goes through the rules like any datagram.
        if (!v6 && IsUdp(ref info, DhcpClientPort, DhcpServerPort) && info.Destination.V4 == LimitedBroadcast)
        {
            var dhcp = DhcpFromCamera(p, ref info);
            if (dhcp.Reason == Reason.DhcpAllowed && (uint)dhcp.CameraSlot < (uint)_dhcpAskedUntil.Length)
            {
                // Saturating: a clock near the end of its range must not wrap the window into the past or future.
                _dhcpAskedUntil[dhcp.CameraSlot] = nowMs > long.MaxValue - _udpMs ? long.MaxValue : nowMs + _udpMs;
            }

            return dhcp;
        }

        var spoof = Identify(p, ref info, info.SourceMac, info.Source, v6, out var cam);
        if (spoof != 0)
        {
            return Deny(p, cam, spoof);
        }

        if (cam < 0)
        {
            return Unknown(p);
        }

        ref readonly var r = ref p.Record(cam);
        if (v6)
        {
            if (!r.AllowIpv6)
            {
                return Deny(p, cam, Reason.Ipv6Disabled);
            }

            if (IsNeighborDiscovery(ref info))
            {
                // RA-Guard (RFC 6105): a camera is a host; its router advertisement or redirect would make it the
                // uplink's router and put it in the middle of everyone's traffic.
                return info.IcmpType is RouterAdvertisement or Redirect
                    ? Deny(p, cam, Reason.RouterGuard)
                    : Decision.Pass(Reason.NeighborDiscoveryAllowed, r.Slot);
            }
        }

        if (IsGroupDestination(ref info, v6))
        {
            return GroupFromCamera(p, cam, ref info, v6);
        }

        // Cameras must not talk to each other, even through the bridge.
        var other = p.CameraByAddress(info.Destination);
        if (other < 0 && info.HasEthernet)
        {
            other = p.CameraByMac(info.DestinationMac);
        }

        if (other >= 0)
        {
            return Deny(p, cam, Reason.NotForCamera);
        }

        return Unicast(p, cam, ref info, Direction.Egress, v6, nowMs);
    }

    private Decision FromUplinkSide(CompiledPolicy p, ref PacketInfo info, long nowMs)
    {
        var v6 = info.Kind == L3Kind.Ipv6;

        // Nothing on the uplink may speak with a camera's voice.
        var impersonated = p.CameraByAddress(info.Source);
        if (impersonated >= 0)
        {
            return Deny(p, impersonated, Reason.IpSpoof);
        }

        if (info.HasEthernet && (impersonated = p.CameraByMac(info.SourceMac)) >= 0)
        {
            return Deny(p, impersonated, Reason.MacSpoof);
        }

        if (IsGroupDestination(ref info, v6))
        {
            return GroupFromUplink(p, ref info, v6);
        }

        var spoof = Identify(p, ref info, info.DestinationMac, info.Destination, v6, out var cam);
        if (spoof != 0)
        {
            return Deny(p, cam, spoof);
        }

        if (cam < 0)
        {
            return Unknown(p);
        }

        ref readonly var r = ref p.Record(cam);
        if (!v6 && IsUdp(ref info, DhcpServerPort, DhcpClientPort))
        {
            if (!r.AllowDhcp)
            {
                return Deny(p, cam, Reason.DhcpBlocked);
            }

            // A unicast offer or ack answers the camera's own broadcast; at any other time the port pair is just a
            // datagram into the camera (a renewal the rules admitted finds its flow below).
            if ((uint)r.Slot < (uint)_dhcpAskedUntil.Length && nowMs < _dhcpAskedUntil[r.Slot])
            {
                return DhcpReply(p, ref info, cam);
            }
        }

        if (v6)
        {
            if (!r.AllowIpv6)
            {
                return Deny(p, cam, Reason.Ipv6Disabled);
            }

            if (IsNeighborDiscovery(ref info))
            {
                return IsRouterMessage(ref info) && !p.IsRouter(info.Source)
                    ? Deny(p, cam, Reason.RouterNotListed)
                    : Decision.Pass(Reason.NeighborDiscoveryAllowed, r.Slot);
            }
        }

        return Unicast(p, cam, ref info, Direction.Ingress, v6, nowMs);
    }

    /// <summary>
    /// Finds the camera at one end of an IP frame and checks its MAC/address binding.
    /// Returns 0 with <paramref name="cam"/> = the camera index (or -1: not a camera), or a spoof reason with
    /// <paramref name="cam"/> = the camera the frame's hardware address (else its IP address) belongs to.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Reason Identify(CompiledPolicy p, ref PacketInfo info, MacAddress mac, IpAddr address, bool v6, out int cam)
    {
        var byMac = info.HasEthernet ? p.CameraByMac(mac) : -1;
        var byAddress = p.CameraByAddress(address);
        if (byMac >= 0)
        {
            cam = byMac;
            if (byAddress == byMac)
            {
                return 0;
            }

            // Another camera's address behind this camera's MAC; or an address this camera does not own.
            if (byAddress >= 0)
            {
                return Reason.IpSpoof;
            }

            // A camera listed by MAC alone owns whatever address it uses; any camera may use IPv6 link-local
            // and unspecified sources (SLAAC, duplicate address detection) when IPv6 is allowed at all.
            ref readonly var r = ref p.Record(byMac);
            return !r.HasAddresses || (v6 && IsLinkLocalOrUnspecified(address)) ? 0 : Reason.MacSpoof;
        }

        cam = byAddress;

        // The camera's address behind a MAC that is not the camera's (only checkable with layer 2 and a bound MAC).
        return byAddress >= 0 && info.HasEthernet && p.Record(byAddress).HasMac ? Reason.IpSpoof : 0;
    }

    private static Decision DhcpFromCamera(CompiledPolicy p, ref PacketInfo info)
    {
        int cam;
        if (info.Source.V4 == 0)
        {
            // DHCPDISCOVER/REQUEST before an address: only the MAC can say who it is.
            cam = info.HasEthernet ? p.CameraByMac(info.SourceMac) : -1;
        }
        else
        {
            var spoof = Identify(p, ref info, info.SourceMac, info.Source, v6: false, out cam);
            if (spoof != 0)
            {
                return Deny(p, cam, spoof);
            }
        }

        if (cam < 0)
        {
            return Unknown(p);
        }

        ref readonly var r = ref p.Record(cam);
        return r.AllowDhcp ? Decision.Pass(Reason.DhcpAllowed, r.Slot) : Deny(p, cam, Reason.DhcpBlocked);
    }

    /// <summary>
    /// A DHCP server reply from the uplink, to camera <paramref name="cam"/> (unicast, while it is asking) or to the
    /// broadcast address (<paramref name="cam"/> = -1). It passes only from a server the site names (when it names
    /// any), only as a BOOTREPLY, and only for a camera that uses DHCP: its client hardware address must be that
    /// camera's MAC (for a unicast reply, the addressed camera's, unless that camera is listed by address alone).
    /// Offers for devices that are not cameras, and replies crafted to ride on the DHCP exception, are dropped.
    /// </summary>
    private static Decision DhcpReply(CompiledPolicy p, ref PacketInfo info, int cam)
    {
        if (!p.IsDhcpServer(info.Source))
        {
            return Deny(p, cam, Reason.DhcpServerNotListed);
        }

        var client = info.HasDhcp && info.DhcpOp == DhcpHeader.BootReply ? p.CameraByMac(info.DhcpClientMac) : -1;
        if (cam >= 0 && client != cam && !(client < 0 && info.HasDhcp && info.DhcpOp == DhcpHeader.BootReply && !p.Record(cam).HasMac))
        {
            return Deny(p, cam, Reason.DhcpClientNotCamera);
        }

        var to = cam >= 0 ? cam : client;
        if (to < 0)
        {
            return Decision.Drop(Reason.DhcpClientNotCamera);
        }

        ref readonly var r = ref p.Record(to);
        return r.AllowDhcp ? Decision.Pass(Reason.DhcpAllowed, r.Slot) : Deny(p, to, Reason.DhcpBlocked);
    }

    private static Decision GroupFromCamera(CompiledPolicy p, int cam, ref PacketInfo info, bool v6)
    {
        var discovery = DiscoveryOf(ref info, v6);
        if (discovery != DiscoveryProtocols.None)
        {
            ref readonly var r = ref p.Record(cam);
            return (r.Discovery & discovery) != 0
                ? Decision.Pass(Reason.DiscoveryAllowed, r.Slot)
                : Deny(p, cam, Reason.DiscoveryBlocked);
        }

        return Deny(p, cam, Reason.BroadcastBlocked);
    }

    /// <summary>
    /// Broadcast and multicast from the uplink reach every camera at once, so they are judged against the union of
    /// the cameras' settings: a DHCP server's broadcast reply passes when some camera uses DHCP, a discovery probe
    /// when some camera answers that protocol. The union holds only for a group IP destination too: a unicast
    /// address inside a broadcast frame is delivered to that one host (Linux accepts it), so it must not ride on
    /// other cameras' settings.
    /// </summary>
    private static Decision GroupFromUplink(CompiledPolicy p, ref PacketInfo info, bool v6)
    {
        if (!v6 && IsUdp(ref info, DhcpServerPort, DhcpClientPort) && info.Destination.V4 == LimitedBroadcast)
        {
            return p.AnyDhcp ? DhcpReply(p, ref info, cam: -1) : Decision.Drop(Reason.DhcpBlocked);
        }

        if (v6 && IsNeighborDiscovery(ref info) && info.Destination.Value >> 120 == 0xFF)
        {
            return !p.AnyIpv6 ? Decision.Drop(Reason.Ipv6Disabled)
                : IsRouterMessage(ref info) && !p.IsRouter(info.Source) ? Decision.Drop(Reason.RouterNotListed)
                : Decision.Pass(Reason.NeighborDiscoveryAllowed);
        }

        var discovery = DiscoveryOf(ref info, v6);
        if (discovery != DiscoveryProtocols.None)
        {
            return (p.AnyDiscovery & discovery) != 0
                ? Decision.Pass(Reason.DiscoveryAllowed)
                : Decision.Drop(Reason.DiscoveryBlocked);
        }

        return Decision.Drop(Reason.BroadcastBlocked);
    }

    /// <summary>
    /// ARP passes only as one listed device's own binding. From the camera side the sender must be a camera whose
    /// MAC and address agree (an RFC 5227 probe from 0.0.0.0 counts); from the uplink nobody may claim a camera's
    /// address or MAC, and a request or reply must be for a listed camera. The Ethernet source must equal the ARP
    /// sender hardware address on both sides.
    /// </summary>
    private static Decision DecideArp(CompiledPolicy p, ref PacketInfo info, Side side)
    {
        var probe = info.ArpSenderIp.V4 == 0;
        var byAddress = probe ? -1 : p.CameraByAddress(info.ArpSenderIp);
        var byMac = p.CameraByMac(info.ArpSenderMac);
        var hardwareMismatch = info.SourceMac.Value != info.ArpSenderMac.Value;
        if (side == Side.Camera)
        {
            int cam;
            if (byMac >= 0)
            {
                cam = byMac;
                var addressOk = byAddress == cam || probe || (byAddress < 0 && !p.Record(cam).HasAddresses);
                if (!addressOk || hardwareMismatch)
                {
                    return Deny(p, cam, Reason.ArpSpoof);
                }
            }
            else if (byAddress >= 0)
            {
                cam = byAddress;
                if (p.Record(cam).HasMac || hardwareMismatch)
                {
                    return Deny(p, cam, Reason.ArpSpoof);
                }
            }
            else
            {
                return hardwareMismatch ? Decision.Drop(Reason.ArpSpoof) : Unknown(p);
            }

            ref readonly var r = ref p.Record(cam);
            return r.AllowArp ? Decision.Pass(Reason.ArpAllowed, r.Slot) : Deny(p, cam, Reason.ArpBlocked);
        }

        if (byAddress >= 0 || byMac >= 0)
        {
            return Deny(p, byAddress >= 0 ? byAddress : byMac, Reason.ArpSpoof);
        }

        if (hardwareMismatch)
        {
            return Decision.Drop(Reason.ArpSpoof);
        }

        var target = p.CameraByAddress(info.ArpTargetIp);
        if (target < 0)
        {
            return Unknown(p);
        }

        ref readonly var t = ref p.Record(target);
        if (info.ArpOperation == ArpReply && t.HasMac && info.ArpTargetMac.Value != t.Mac.Value)
        {
            return Deny(p, target, Reason.ArpSpoof);
        }

        return t.AllowArp ? Decision.Pass(Reason.ArpAllowed, t.Slot) : Deny(p, target, Reason.ArpBlocked);
    }

    /// <summary>A drop for the camera at <paramref name="cam"/>, or a monitored pass when that camera is in monitor mode.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Decision Deny(CompiledPolicy p, int cam, Reason reason, int rule = Verdict.NoRule)
    {
        if (cam < 0)
        {
            return Decision.Drop(reason);
        }

        ref readonly var r = ref p.Record(cam);
        return r.Monitor
            ? new Decision(VerdictAction.Pass, reason, rule, r.Slot, monitored: true)
            : Decision.Drop(reason, r.Slot, rule);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Decision Unknown(CompiledPolicy p) => p.UnknownDevices == UnknownDeviceMode.Monitor
        ? new Decision(VerdictAction.Pass, Reason.UnknownDevice, monitored: true)
        : Decision.Drop(Reason.UnknownDevice);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsUdp(ref PacketInfo info, ushort sourcePort, ushort destinationPort)
        => info.Protocol == IpProtocols.Udp && info.HasL4 && info.SourcePort == sourcePort && info.DestinationPort == destinationPort;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsGroupDestination(ref PacketInfo info, bool v6)
    {
        if (info.HasEthernet && info.DestinationMac.IsMulticast)
        {
            return true;
        }

        return v6
            ? info.Destination.Value >> 120 == 0xFF
            : info.Destination.V4 >= 0xE000_0000u; // multicast 224/4, and 255.255.255.255 (the parser refuses the rest of 240/4)
    }

    /// <summary>
    /// ICMPv6 neighbour discovery (RS, RA, NS, NA, redirect) with hop limit 255, which proves it was not routed
    /// (RFC 4861 7.1.1), and MLD listener queries and reports (RFC 3810) with hop limit 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsNeighborDiscovery(ref PacketInfo info)
        => info.Protocol == IpProtocols.Icmpv6 && info.HasL4
            && ((info.IcmpType is >= 133 and <= 137 && info.Ttl == 255)
                || (info.IcmpType is 130 or 131 or 132 or 143 && info.Ttl == 1));

    /// <summary>Messages only a router sends: a router advertisement, or a redirect (RFC 4861 8.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsRouterMessage(ref PacketInfo info) => info.IcmpType is RouterAdvertisement or Redirect;

    private static DiscoveryProtocols DiscoveryOf(ref PacketInfo info, bool v6)
    {
        if (info.Protocol != IpProtocols.Udp || !info.HasL4)
        {
            return DiscoveryProtocols.None;
        }

        var ssdpGroup = info.Destination.Value == (v6 ? SsdpGroupV6 : SsdpGroupV4).Value;
        return info.DestinationPort switch
        {
            WsDiscoveryPort when ssdpGroup => DiscoveryProtocols.WsDiscovery,
            SsdpPort when ssdpGroup => DiscoveryProtocols.Ssdp,
            MdnsPort when info.Destination.Value == (v6 ? MdnsGroupV6 : MdnsGroupV4).Value => DiscoveryProtocols.Mdns,
            _ => DiscoveryProtocols.None,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsLinkLocalOrUnspecified(IpAddr address)
        => address.Value == UInt128.Zero || address.Value >> 118 == 0x3FA; // fe80::/10
}
