using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Appliance.Core;

namespace Appliance.Transport.WinDivert;

/// <summary>The camera-side networks as ranges in the IPv4-mapped space <see cref="IpAddr"/> uses; read per packet, allocation-free.</summary>
internal sealed class CameraNetworkSet
{
    private readonly (UInt128 Low, UInt128 High)[] _ranges;

    public CameraNetworkSet(IEnumerable<IPNetwork> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        _ranges = [.. networks.Select(Range)];
    }

    /// <summary>True when the source address of <paramref name="packet"/> (a whole IPv4 or IPv6 header) is in a camera network.</summary>
    public bool ContainsSource(ReadOnlySpan<byte> packet)
    {
        UInt128 source;
        if (packet.Length >= 20 && packet[0] >> 4 == 4)
        {
            source = IpAddr.FromV4(BinaryPrimitives.ReadUInt32BigEndian(packet[12..])).Value;
        }
        else if (packet.Length >= 40 && packet[0] >> 4 == 6)
        {
            source = BinaryPrimitives.ReadUInt128BigEndian(packet[8..]);
        }
        else
        {
            return false;
        }

        foreach (var (low, high) in _ranges)
        {
            if (source >= low && source <= high)
            {
                return true;
            }
        }

        return false;
    }

    private static (UInt128 Low, UInt128 High) Range(IPNetwork network)
    {
        // In the IPv4-mapped space an IPv4 /n is a /(96+n).
        var low = IpAddr.FromIPAddress(network.BaseAddress).Value;
        var bits = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 96 + network.PrefixLength : network.PrefixLength;
        var hostMask = bits >= 128 ? UInt128.Zero : UInt128.MaxValue >> bits;
        return (low & ~hostMask, low | hostMask);
    }
}
