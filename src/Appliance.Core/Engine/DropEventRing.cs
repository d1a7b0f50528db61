using System.Runtime.CompilerServices;

namespace Appliance.Core.Engine;

/// <summary>
/// A preallocated single-producer/single-consumer ring of <see cref="DropEvent"/>s. The data-plane thread is
/// the only producer and never waits: when the ring is full the event is counted in <see cref="Lost"/> and
/// discarded. One consumer off the hot path drains it for logs, syslog and the API.
/// </summary>
public sealed class DropEventRing
{
    private readonly DropEvent[] _items;
    private readonly int _mask;

    // Producer and consumer cursors on separate cache lines so the two threads do not false-share.
    private PaddedLong _head; // next slot the producer writes
    private PaddedLong _tail; // next slot the consumer reads
    private long _lost;

    /// <summary>
    /// Preallocates the ring: <paramref name="capacity"/> events (at least 2), rounded up to a power of two so a
    /// cursor maps to a slot with a mask. Sized for a burst of drops between two drains; the engine takes it from
    /// <see cref="EngineOptions.EventRingCapacity"/>.
    /// </summary>
    public DropEventRing(int capacity = 65_536)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _items = new DropEvent[size];
        _mask = size - 1;
    }

    /// <summary>Slots in the ring (the requested capacity rounded up to a power of two).</summary>
    public int Capacity => _items.Length;

    /// <summary>The table the producing engine's name handles point into (null: events carry no names).</summary>
    public DnsNameTable? Names { get; internal set; }

    /// <summary>The log the producing engine's query-name stamps point into (null: events carry no query names).</summary>
    public DnsQueryNameLog? QueryNames { get; internal set; }

    /// <summary>
    /// The DNS name the event is about, or null: for a refused or suspicious DNS query the name it asked about; otherwise
    /// the name the camera had last resolved to the event's peer address when the frame was decided. Off the hot path,
    /// from any thread (seqlock reads; a cell or slot reused since reads as null).
    /// </summary>
    public string? NameOf(in DropEvent e)
        => e.QueryName != 0 ? QueryNames?.Read(e.QueryName)
            : e.PeerNameCell > 0 && Names is { } names ? names.TryGetName(e.PeerNameCell - 1, e.PeerNameGeneration) : null;

    /// <summary>Events discarded because the ring was full.</summary>
    public long Lost => Volatile.Read(ref _lost);

    /// <summary>Events currently waiting.</summary>
    public int Count => (int)(Volatile.Read(ref _head.Value) - Volatile.Read(ref _tail.Value));

    /// <summary>Producer side. Never blocks; false (and counted as lost) when full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in DropEvent item)
    {
        var head = _head.Value; // only this thread writes head
        if (head - Volatile.Read(ref _tail.Value) >= _items.Length)
        {
            // Single producer: a plain increment would race only with readers of Lost, which tolerate staleness,
            // but Interlocked keeps the count exact if two engines ever share a ring by mistake.
            Interlocked.Increment(ref _lost);
            return false;
        }

        // 1. Fill the slot, 2. then publish it by advancing head with release semantics.
        _items[(int)head & _mask] = item;
        Volatile.Write(ref _head.Value, head + 1);
        return true;
    }

    /// <summary>Consumer side: takes the oldest event, or false when empty.</summary>
    public bool TryRead(out DropEvent item)
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

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 128)]
    private struct PaddedLong
    {
        [System.Runtime.InteropServices.FieldOffset(64)]
        public long Value;
    }
}
