using Appliance.Core;
using Appliance.Core.Engine;

namespace Appliance.Transport;

/// <summary>Adapts the core's <see cref="PacketEngine"/> to the data plane: a struct holding only the engine reference.</summary>
public readonly struct PacketEngineDecider : IFrameDecider, IPacketDecider
{
    private readonly PacketEngine _engine;

    /// <summary>Wraps <paramref name="engine"/>.</summary>
    public PacketEngineDecider(PacketEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
    }

    /// <inheritdoc />
    public Verdict ProcessFrame(ReadOnlySpan<byte> frame, Side side, long nowMs) => _engine.ProcessFrame(frame, side, nowMs);

    /// <inheritdoc />
    public Verdict ProcessPacket(ReadOnlySpan<byte> packet, Side side, long nowMs) => _engine.ProcessPacket(packet, side, nowMs);

    /// <inheritdoc cref="IFrameDecider.Maintain" />
    public void Maintain(long nowMs) => _engine.Maintain(nowMs);
}
