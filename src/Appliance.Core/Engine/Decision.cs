using System.Runtime.CompilerServices;

namespace Appliance.Core.Engine;

/// <summary>
/// The engine's internal form of a <see cref="Verdict"/>: the same facts packed into two 64-bit words, converted
/// to a <see cref="Verdict"/> once per frame at the public entry points.
/// </summary>
/// <remarks>
/// Why not pass <see cref="Verdict"/> itself between the decision methods: its five mixed-width fields (1, 2, 4, 4
/// and 1 bytes) are built with narrow stores and then returned as two 8-byte registers, and the caller copies them
/// with a 16-byte load. Both are store-forwarding stalls, paid at every return on the path of every frame. Two
/// whole words are built and returned in registers.
/// <code>
///   _head: bits 0-7 action | bits 8-23 reason | bit 24 monitored
///   _ids:  bits 0-31 rule index | bits 32-63 camera slot   (both two's complement: -1 is "none")
/// </code>
/// </remarks>
internal readonly struct Decision
{
    private const int ReasonShift = 8;
    private const ulong MonitoredBit = 1UL << 24;

    private readonly ulong _head;
    private readonly ulong _ids;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Decision(VerdictAction action, Reason reason, int ruleIndex = Verdict.NoRule, int cameraSlot = Verdict.NoCamera, bool monitored = false)
    {
        _head = (byte)action | ((ulong)(ushort)reason << ReasonShift) | (monitored ? MonitoredBit : 0);
        _ids = (uint)ruleIndex | ((ulong)(uint)cameraSlot << 32);
    }

    public VerdictAction Action => (VerdictAction)(byte)_head;

    public Reason Reason => (Reason)(ushort)(_head >> ReasonShift);

    public int RuleIndex => (int)(uint)_ids;

    public int CameraSlot => (int)(uint)(_ids >> 32);

    public bool Monitored => (_head & MonitoredBit) != 0;

    public bool IsPass => Action == VerdictAction.Pass;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Decision Drop(Reason reason, int cameraSlot = Verdict.NoCamera, int ruleIndex = Verdict.NoRule)
        => new(VerdictAction.Drop, reason, ruleIndex, cameraSlot);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Decision Pass(Reason reason, int cameraSlot = Verdict.NoCamera, int ruleIndex = Verdict.NoRule)
        => new(VerdictAction.Pass, reason, ruleIndex, cameraSlot);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Verdict ToVerdict() => new(Action, Reason, RuleIndex, CameraSlot, Monitored);
}
