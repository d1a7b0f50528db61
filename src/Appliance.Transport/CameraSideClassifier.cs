using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Transport;

/// <summary>Why <see cref="CameraSideClassifier"/> put a frame on the side it did.</summary>
public enum SideBasis : byte
{
    /// <summary>Its source MAC or address (ARP: sender) is a listed camera's: camera side.</summary>
    CameraAddress = 0,

    /// <summary>Its source MAC or address is one the operator named as on the camera side: camera side.</summary>
    NamedCameraSide = 1,

    /// <summary>Nothing said camera side, so uplink side (the default: the uplink is where strangers come from).</summary>
    Default = 2,
}

/// <summary>
/// Tells, for a frame seen without its port (a capture file), which bridge side it came from.
/// <list type="number">
/// <item>A frame whose source MAC or source IP (ARP: sender MAC or sender IPv4) belongs to a listed camera came from
/// the camera side.</item>
/// <item>So did one whose source MAC, or source IP (ARP: sender), the operator named as camera side
/// (<c>camfw replay --camera-side MAC|CIDR</c>): devices on the camera switch that are not cameras. The engine then
/// judges them as it would on the camera port, as unknown devices, instead of as strangers on the uplink.</item>
/// <item>Everything else came from the uplink. A capture cannot tell more: a rogue device on the camera switch
/// looks exactly like an uplink host unless it is named (or the capture records ports, which replay then uses
/// instead of this classifier).</item>
/// </list>
/// Reads only what it needs and never throws: a frame too short to say is treated as from the uplink, where the
/// engine judges it untrusted anyway.
/// </summary>
public sealed class CameraSideClassifier
{
    private const int EthernetHeader = 14;
    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeArp = 0x0806;
    private const ushort EtherTypeIpv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;
    private const ushort EtherTypeQinQ = 0x88A8;
    private const int MaxVlanTags = 2;

    private readonly HashSet<ulong> _macs = [];
    private readonly HashSet<UInt128> _addresses = [];
    private readonly HashSet<ulong> _namedMacs = [];
    private readonly (UInt128 Low, UInt128 High)[] _namedRanges;

    /// <summary>Builds the lookup from every camera's MAC and addresses in <paramref name="policy"/>.</summary>
    public CameraSideClassifier(PolicySpec policy)
        : this(policy, [], [])
    {
    }

    /// <summary>
    /// Builds the lookup from every camera's MAC and addresses in <paramref name="policy"/>, plus the MACs and
    /// networks the operator says are on the camera side.
    /// </summary>
    public CameraSideClassifier(PolicySpec policy, IEnumerable<MacAddress> cameraSideMacs, IEnumerable<IPNetwork> cameraSideNetworks)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(cameraSideMacs);
        ArgumentNullException.ThrowIfNull(cameraSideNetworks);
        foreach (var camera in policy.Cameras)
        {
            if (camera.Mac is { } mac)
            {
                _macs.Add(mac.Value);
            }

            foreach (var address in camera.Addresses)
            {
                _addresses.Add(IpAddr.FromIPAddress(address).Value);
            }
        }

        foreach (var mac in cameraSideMacs)
        {
            _namedMacs.Add(mac.Value);
        }

        _namedRanges = [.. cameraSideNetworks.Select(Range)];
    }

    /// <summary>The side an Ethernet frame came from.</summary>
    public Side ClassifyFrame(ReadOnlySpan<byte> frame) => ClassifyFrame(frame, out _);

    /// <summary>The side an Ethernet frame came from, and why.</summary>
    public Side ClassifyFrame(ReadOnlySpan<byte> frame, out SideBasis basis)
    {
        basis = SideBasis.Default;
        if (frame.Length < EthernetHeader)
        {
            return Side.Uplink;
        }

        var sourceMac = MacAddress.Read(frame.Slice(6, 6)).Value;
        if (_macs.Contains(sourceMac))
        {
            basis = SideBasis.CameraAddress;
            return Side.Camera;
        }

        var offset = 12;
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        for (var tags = 0; tags < MaxVlanTags && etherType is EtherTypeVlan or EtherTypeQinQ; tags++)
        {
            offset += 4;
            if (frame.Length < offset + 2)
            {
                return Named(sourceMac, default, hasAddress: false, out basis);
            }

            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        }

        var l3 = frame[(offset + 2)..];
        switch (etherType)
        {
            case EtherTypeIpv4 or EtherTypeIpv6:
                return ClassifyPacket(l3, sourceMac, hasMac: true, out basis);

            // ARP: hardware type(2) protocol type(2) sizes(2) op(2), sender MAC at 8, sender IPv4 at 14.
            case EtherTypeArp when l3.Length >= 18:
                var senderMac = MacAddress.Read(l3.Slice(8, 6)).Value;
                var sender = IpAddr.ReadV4(l3.Slice(14, 4)).Value;
                if (_macs.Contains(senderMac) || _addresses.Contains(sender))
                {
                    basis = SideBasis.CameraAddress;
                    return Side.Camera;
                }

                return _namedMacs.Contains(senderMac) ? NamedSide(out basis) : Named(sourceMac, sender, hasAddress: true, out basis);
            default:
                return Named(sourceMac, default, hasAddress: false, out basis);
        }
    }

    /// <summary>The side a bare IP packet came from, by its source address.</summary>
    public Side ClassifyPacket(ReadOnlySpan<byte> packet) => ClassifyPacket(packet, 0, hasMac: false, out _);

    /// <summary>The side a bare IP packet came from, by its source address, and why.</summary>
    public Side ClassifyPacket(ReadOnlySpan<byte> packet, out SideBasis basis) => ClassifyPacket(packet, 0, hasMac: false, out basis);

    private Side ClassifyPacket(ReadOnlySpan<byte> packet, ulong sourceMac, bool hasMac, out SideBasis basis)
    {
        basis = SideBasis.Default;
        if (packet.Length < 1)
        {
            return hasMac ? Named(sourceMac, default, hasAddress: false, out basis) : Side.Uplink;
        }

        var version = packet[0] >> 4;
        UInt128 source;
        if (version == 4 && packet.Length >= 20)
        {
            source = IpAddr.ReadV4(packet.Slice(12, 4)).Value;
        }
        else if (version == 6 && packet.Length >= 40)
        {
            source = IpAddr.ReadV6(packet.Slice(8, 16)).Value;
        }
        else
        {
            return hasMac ? Named(sourceMac, default, hasAddress: false, out basis) : Side.Uplink;
        }

        if (_addresses.Contains(source))
        {
            basis = SideBasis.CameraAddress;
            return Side.Camera;
        }

        return hasMac ? Named(sourceMac, source, hasAddress: true, out basis) : Named(source, out basis);
    }

    private Side Named(ulong sourceMac, UInt128 source, bool hasAddress, out SideBasis basis)
    {
        if (_namedMacs.Contains(sourceMac))
        {
            return NamedSide(out basis);
        }

        if (hasAddress)
        {
            return Named(source, out basis);
        }

        basis = SideBasis.Default;
        return Side.Uplink;
    }

    private Side Named(UInt128 source, out SideBasis basis)
    {
        foreach (var (low, high) in _namedRanges)
        {
            if (source >= low && source <= high)
            {
                return NamedSide(out basis);
            }
        }

        basis = SideBasis.Default;
        return Side.Uplink;
    }

    private static Side NamedSide(out SideBasis basis)
    {
        basis = SideBasis.NamedCameraSide;
        return Side.Camera;
    }

    private static (UInt128 Low, UInt128 High) Range(IPNetwork network)
    {
        // In the IPv4-mapped space IpAddr uses, an IPv4 /n is a /(96+n).
        var low = IpAddr.FromIPAddress(network.BaseAddress).Value;
        var bits = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 96 + network.PrefixLength : network.PrefixLength;
        var hostMask = bits >= 128 ? UInt128.Zero : UInt128.MaxValue >> bits;
        return (low & ~hostMask, low | hostMask);
    }
}
