using System.Runtime.InteropServices;

namespace Appliance.Core;

/// <summary>The bridge port a frame arrived on.</summary>
public enum Side : byte
{
    /// <summary>The camera switch side: frames from cameras (egress candidates).</summary>
    Camera = 0,

    /// <summary>The uplink side: frames towards cameras (ingress candidates).</summary>
    Uplink = 1,
}

/// <summary>Who opened a connection, seen from the camera.</summary>
public enum Direction : byte
{
    /// <summary>The camera opened it.</summary>
    Egress = 0,

    /// <summary>Someone else opened it to the camera.</summary>
    Ingress = 1,
}

/// <summary>What happens to the frame.</summary>
public enum VerdictAction : byte
{
    /// <summary>The frame goes nowhere. The default value, so an unset verdict fails closed.</summary>
    Drop = 0,

    /// <summary>The frame leaves through the other port unchanged.</summary>
    Pass = 1,
}

/// <summary>
/// The decision for one frame: pass or drop, why, and which rule decided. A plain 16-byte value; the hot path
/// returns it by value and never allocates.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Verdict
{
    /// <summary>No rule decided (malformed input, default deny, state decisions).</summary>
    public const int NoRule = -1;

    /// <summary>No camera was identified.</summary>
    public const int NoCamera = -1;

    /// <summary>
    /// Builds a verdict; the engine builds one per frame from its internal decision. <paramref name="monitored"/>
    /// marks a frame passed by monitor mode although the policy would drop it (then <paramref name="action"/> is Pass).
    /// </summary>
    public Verdict(VerdictAction action, Reason reason, int ruleIndex = NoRule, int cameraSlot = NoCamera, bool monitored = false)
    {
        Action = action;
        Reason = reason;
        RuleIndex = ruleIndex;
        CameraSlot = cameraSlot;
        Monitored = monitored;
    }

    /// <summary>Pass or drop. When <see cref="Monitored"/> is set this is Pass even though the policy would drop.</summary>
    public VerdictAction Action { get; }

    /// <summary>Why; for a monitored frame, the reason the policy would have dropped it.</summary>
    public Reason Reason { get; }

    /// <summary>Index into <c>CompiledPolicy.RuleIds</c> of the rule that decided, or <see cref="NoRule"/>.</summary>
    public int RuleIndex { get; }

    /// <summary>The camera's counter slot (stable across reloads), or <see cref="NoCamera"/>.</summary>
    public int CameraSlot { get; }

    /// <summary>True when the policy said drop but the camera (or the unknown-device default) is in monitor mode.</summary>
    public bool Monitored { get; }

    /// <summary>True when the frame is forwarded (also for a monitored frame the policy would drop).</summary>
    public bool IsPass => Action == VerdictAction.Pass;

    /// <summary>A drop for <paramref name="reason"/>, optionally charged to a camera and a rule.</summary>
    public static Verdict Drop(Reason reason, int cameraSlot = NoCamera, int ruleIndex = NoRule)
        => new(VerdictAction.Drop, reason, ruleIndex, cameraSlot);

    /// <summary>A pass for <paramref name="reason"/>, optionally charged to a camera and a rule.</summary>
    public static Verdict Pass(Reason reason, int cameraSlot = NoCamera, int ruleIndex = NoRule)
        => new(VerdictAction.Pass, reason, ruleIndex, cameraSlot);
}
