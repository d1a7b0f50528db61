using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Core.Engine;

/// <summary>
/// A preallocated single-producer/single-consumer ring of blittable items. The data-plane thread is the only
/// producer and never waits: when the ring is full the item is counted in <see cref="Lost"/> and discarded. One
/// consumer off the hot path drains it. (The same protocol as <see cref="DropEventRing"/>.)
/// </summary>
/// <typeparam name="T">The item; a struct, copied in and out.</typeparam>
public sealed class SpscRing<T>
    where T : struct
{
    private readonly T[] _items;
    private readonly int _mask;

    // Producer and consumer cursors on separate cache lines so the two threads do not false-share.
    private RingCursor _head; // next slot the producer writes
    private RingCursor _tail; // next slot the consumer reads
    private long _lost;

    /// <summary>Preallocates <paramref name="capacity"/> items (at least 2), rounded up to a power of two.</summary>
    public SpscRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _items = new T[size];
        _mask = size - 1;
    }

    /// <summary>Slots in the ring.</summary>
    public int Capacity => _items.Length;

    /// <summary>Items discarded because the ring was full.</summary>
    public long Lost => Volatile.Read(ref _lost);

    /// <summary>Items currently waiting.</summary>
    public int Count => (int)(Volatile.Read(ref _head.Value) - Volatile.Read(ref _tail.Value));

    /// <summary>Producer side. Never blocks; false (and counted as lost) when full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in T item)
    {
        var head = _head.Value; // only the producer writes head
        if (head - Volatile.Read(ref _tail.Value) >= _items.Length)
        {
            Interlocked.Increment(ref _lost);
            return false;
        }

        // 1. Fill the slot, 2. then publish it by advancing head with release semantics.
        _items[(int)head & _mask] = item;
        Volatile.Write(ref _head.Value, head + 1);
        return true;
    }

    /// <summary>Consumer side: takes the oldest item, or false when empty.</summary>
    public bool TryRead(out T item)
    {
        var tail = _tail.Value; // only the consumer writes tail
        if (tail == Volatile.Read(ref _head.Value))
        {
            item = default;
            return false;
        }

        // 1. Copy the slot out, 2. then free it by advancing tail with release semantics.
        item = _items[(int)tail & _mask];
        Volatile.Write(ref _tail.Value, tail + 1);
        return true;
    }
}

/// <summary>A ring cursor alone on its cache line (a struct nested in a generic type cannot have explicit layout).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct RingCursor
{
    [FieldOffset(64)]
    public long Value;
}
