using Appliance.Core;

namespace Appliance.Transport;

/// <summary>
/// What the data plane asks for each frame. <c>PacketEngineDecider</c> adapts the core's engine; tests supply
/// their own. Implement it on a struct so the data plane's loop is specialised and calls it directly; the struct
/// is copied into each batch, so it should hold only references (the engine), never state of its own.
/// </summary>
public interface IFrameDecider
{
    /// <summary>Pass or drop for one Ethernet frame that arrived on <paramref name="side"/>.</summary>
    Verdict ProcessFrame(ReadOnlySpan<byte> frame, Side side, long nowMs);

    /// <summary>Housekeeping between batches (flow expiry), on the data-plane thread.</summary>
    void Maintain(long nowMs);
}
