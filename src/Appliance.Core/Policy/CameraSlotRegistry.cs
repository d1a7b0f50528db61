namespace Appliance.Core.Policy;

/// <summary>
/// Assigns each camera name a counter slot that stays the same across policy reloads, so per-camera counters
/// survive a swap. Used at compile time only (off the data path); the data path sees slots as plain ints.
/// </summary>
public sealed class CameraSlotRegistry
{
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly Lock _gate = new();

    /// <summary>
    /// A registry of at most <paramref name="capacity"/> (at least 1) camera names. Slots are never reused, so a
    /// site that renames cameras often needs headroom; engines size their per-camera arrays by it.
    /// </summary>
    public CameraSlotRegistry(int capacity = 131_072)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>The most cameras ever named; counter arrays are this long.</summary>
    public int Capacity { get; }

    /// <summary>Slots assigned so far (every camera name ever compiled in this process, removed ones included).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _names.Count;
            }
        }
    }

    /// <summary>The slot for <paramref name="name"/>, assigning the next free one. False when full.</summary>
    public bool TryGetOrAdd(string name, out int slot)
    {
        lock (_gate)
        {
            if (_slots.TryGetValue(name, out slot))
            {
                return true;
            }

            if (_names.Count >= Capacity)
            {
                slot = -1;
                return false;
            }

            slot = _names.Count;
            _names.Add(name);
            _slots.Add(name, slot);
            return true;
        }
    }

    /// <summary>The slot already assigned to <paramref name="name"/>; false when the name never had one. Never assigns.</summary>
    public bool TryGet(string name, out int slot)
    {
        lock (_gate)
        {
            return _slots.TryGetValue(name, out slot);
        }
    }

    /// <summary>The camera name of a slot, or null.</summary>
    public string? NameOf(int slot)
    {
        lock (_gate)
        {
            return (uint)slot < (uint)_names.Count ? _names[slot] : null;
        }
    }
}
