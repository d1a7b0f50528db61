using Appliance.Core;
using Appliance.Core.Engine;

namespace Appliance.Transport.Xdp;

/// <summary>
/// The engine as the bridge's decider, with the XDP fast path's sweep in its housekeeping: counters and last-seen
/// times come back from the kernel before the engine expires flows, on the thread that owns both.
/// </summary>
public readonly struct XdpOffloadDecider : IFrameDecider
{
    private readonly PacketEngine _engine;
    private readonly XdpFlowOffload _offload;

    /// <summary>Decides with <paramref name="engine"/>; <paramref name="offload"/> must be bound to it.</summary>
    public XdpOffloadDecider(PacketEngine engine, XdpFlowOffload offload)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(offload);
        _engine = engine;
        _offload = offload;
    }

    /// <inheritdoc />
    public Verdict ProcessFrame(ReadOnlySpan<byte> frame, Side side, long nowMs) => _engine.ProcessFrame(frame, side, nowMs);

    /// <inheritdoc />
    public void Maintain(long nowMs)
    {
        // Sync first: a flow the kernel kept busy must not be expired for want of news.
        _offload.Sweep(nowMs);
        _engine.Maintain(nowMs);
    }
}
