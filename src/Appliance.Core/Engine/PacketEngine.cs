using Appliance.Core.Policy;

namespace Appliance.Core.Engine;

/// <summary>
/// Decides pass or drop for one frame. One instance per data-plane thread (one bridge port pair): the flow
/// table, counters and event ring are that thread's alone, so the hot path takes no locks. The policy is shared
/// through <see cref="PolicyHolder"/> and read once per frame.
/// CONTRACT STUB: the core issues (#4, #5) implement it.
/// </summary>
public sealed partial class PacketEngine
{
    private readonly PolicyHolder _policies;

    public PacketEngine(PolicyHolder policies, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        _policies = policies;
        Options = options ?? new EngineOptions();
        Events = new DropEventRing(Options.EventRingCapacity);
    }

    public EngineOptions Options { get; }

    public PolicyHolder Policies => _policies;

    /// <summary>Reported decisions for a consumer off the hot path.</summary>
    public DropEventRing Events { get; }
}
