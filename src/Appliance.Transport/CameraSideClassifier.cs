using System.Buffers.Binary;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Transport;

/// <summary>
/// Tells, for a frame seen without its port (a capture file), which bridge side it came from: a frame whose source
/// MAC or source IP (ARP: sender) belongs to a listed camera came from the camera side; anything else from the
/// uplink. Reads only what it needs and never throws: a frame too short to say is treated as from the uplink,
/// where the engine judges it untrusted anyway.
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

    /// <summary>Builds the lookup from every camera's MAC and addresses in <paramref name="policy"/>.</summary>
    public CameraSideClassifier(PolicySpec policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
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
    }

    /// <summary>The side an Ethernet frame came from.</summary>
    public Side ClassifyFrame(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < EthernetHeader)
        {
            return Side.Uplink;
        }

        if (_macs.Contains(MacAddress.Read(frame.Slice(6, 6)).Value))
        {
            return Side.Camera;
        }

        var offset = 12;
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        for (var tags = 0; tags < MaxVlanTags && etherType is EtherTypeVlan or EtherTypeQinQ; tags++)
        {
            offset += 4;
            if (frame.Length < offset + 2)
            {
                return Side.Uplink;
            }

            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        }

        var l3 = frame[(offset + 2)..];
        return etherType switch
        {
            EtherTypeIpv4 or EtherTypeIpv6 => ClassifyPacket(l3),

            // ARP: hardware type(2) protocol type(2) sizes(2) op(2), sender MAC at 8, sender IPv4 at 14.
            EtherTypeArp when l3.Length >= 18 => _macs.Contains(MacAddress.Read(l3.Slice(8, 6)).Value)
                || _addresses.Contains(IpAddr.ReadV4(l3.Slice(14, 4)).Value) ? Side.Camera : Side.Uplink,
            _ => Side.Uplink,
        };
    }

    /// <summary>The side a bare IP packet came from, by its source address.</summary>
    public Side ClassifyPacket(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 1)
        {
            return Side.Uplink;
        }

        var version = packet[0] >> 4;
        if (version == 4 && packet.Length >= 20)
        {
            return _addresses.Contains(IpAddr.ReadV4(packet.Slice(12, 4)).Value) ? Side.Camera : Side.Uplink;
        }

        if (version == 6 && packet.Length >= 40)
        {
            return _addresses.Contains(IpAddr.ReadV6(packet.Slice(8, 16)).Value) ? Side.Camera : Side.Uplink;
        }

        return Side.Uplink;
    }
}
