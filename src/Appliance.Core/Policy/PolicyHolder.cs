namespace Appliance.Core.Policy;

/// <summary>
/// Holds the policy in force. Readers (data-plane threads) take <see cref="Current"/> once per frame with a
/// volatile read; a writer builds a complete <see cref="CompiledPolicy"/> first and publishes it with one
/// atomic exchange, so no frame ever sees a half-built policy.
/// </summary>
public sealed class PolicyHolder
{
    private CompiledPolicy? _current;
    private uint _lastVersion;

    /// <summary>Camera counter slots, stable across reloads by camera name.</summary>
    public CameraSlotRegistry Slots { get; }

    /// <summary>
    /// An empty holder: <see cref="Current"/> stays null (every frame dropped) until the first swap.
    /// <paramref name="slots"/> shares a registry (tests, tools); by default a new one of the default capacity.
    /// </summary>
    public PolicyHolder(CameraSlotRegistry? slots = null) => Slots = slots ?? new CameraSlotRegistry();

    /// <summary>The policy in force, or null before the first successful load (the engine then drops everything).</summary>
    public CompiledPolicy? Current => Volatile.Read(ref _current);

    /// <summary>
    /// Raised just before a swap publishes <c>next</c>, on the swapping thread: a fast path that replays the
    /// engine's decisions (XDP flow offload) stops replaying the old policy's here, so revocation holds from the
    /// next frame on. Handlers must be quick and must not throw.
    /// </summary>
    public event Action<CompiledPolicy>? Swapping;

    /// <summary>Raised after a swap, off the data path, with (old, new).</summary>
    public event Action<CompiledPolicy?, CompiledPolicy>? Swapped;

    /// <summary>The version the next compiled policy should carry. Versions only grow, so flow revocation can compare them.</summary>
    public uint NextVersion() => Interlocked.Increment(ref _lastVersion);

    /// <summary>Publishes <paramref name="next"/> and returns the policy it replaced.</summary>
    public CompiledPolicy? Swap(CompiledPolicy next)
    {
        ArgumentNullException.ThrowIfNull(next);

        // 0. Fast paths first: from here on they hand every frame to the engine.
        Swapping?.Invoke(next);

        // 1. Publish with a full fence: every field of `next` was written before this point.
        var old = Interlocked.Exchange(ref _current, next);

        // 2. Only then tell listeners (stats, syslog, API); they run on the caller's thread, never on the data path.
        Swapped?.Invoke(old, next);
        return old;
    }
}
