using Appliance.Core;

namespace Appliance.Transport.Tests;

/// <summary>
/// Deciders keyed on the first byte of a frame, so routing can be tested without a policy:
/// 0x01 passes, 0xEE makes the decider throw, anything else drops.
/// </summary>
internal readonly struct FirstByteDecider(DecisionLog log) : IFrameDecider
{
    public const byte PassMarker = 0x01;
    public const byte FaultMarker = 0xEE;

    public Verdict ProcessFrame(ReadOnlySpan<byte> frame, Side side, long nowMs)
    {
        log.Record(frame[0], side);
        return frame[0] switch
        {
            PassMarker => Verdict.Pass(Reason.RuleMatch),
            FaultMarker => throw new InvalidOperationException("engine fault injected by the test"),
            _ => Verdict.Drop(Reason.NoRuleMatched),
        };
    }

    public void Maintain(long nowMs) => log.Maintained(nowMs);
}

/// <summary>What the decider saw, for assertions (written by the data-plane thread, read after it stopped).</summary>
internal sealed class DecisionLog
{
    private readonly Lock _gate = new();
    private readonly List<(byte Marker, Side Side)> _seen = [];
    private long _maintainCalls;

    public IReadOnlyList<(byte Marker, Side Side)> Seen
    {
        get
        {
            lock (_gate)
            {
                return [.. _seen];
            }
        }
    }

    public long MaintainCalls => Interlocked.Read(ref _maintainCalls);

    public void Record(byte marker, Side side)
    {
        lock (_gate)
        {
            _seen.Add((marker, side));
        }
    }

    public void Maintained(long nowMs) => Interlocked.Increment(ref _maintainCalls);
}
