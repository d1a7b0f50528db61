using Appliance.Core;

namespace Appliance.Transport;

/// <summary>
/// The L3 counterpart of <see cref="IFrameDecider"/>, for gateways that see bare IP packets (WinDivert). Implement
/// it on a struct holding only references.
/// </summary>
public interface IPacketDecider
{
    /// <summary>Pass or drop for one IPv4/IPv6 packet that came from <paramref name="side"/>.</summary>
    Verdict ProcessPacket(ReadOnlySpan<byte> packet, Side side, long nowMs);

    /// <summary>Housekeeping between batches (flow expiry), on the gateway thread.</summary>
    void Maintain(long nowMs);
}
