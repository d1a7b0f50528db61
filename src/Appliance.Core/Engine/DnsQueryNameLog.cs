namespace Appliance.Core.Engine;

/// <summary>
/// The names of refused or suspicious DNS queries, for the drop events that report them: a preallocated ring of name
/// texts written by the data-plane thread (the only writer) and read by the event consumer. An event carries a stamp
/// (<see cref="DropEvent.QueryName"/>), not text, so the data path never allocates; a stamp whose slot has since been
/// overwritten reads as no name, never as another query's.
/// </summary>
public sealed class DnsQueryNameLog
{
    private readonly byte[] _text;
    private readonly int[] _lengths;
    private readonly int[] _stamps;
    private readonly int _mask;
    private int _next;

    /// <summary>Longest name text kept (escaped binary names included, see <see cref="DnsTunnelGuard.Escape"/>).</summary>
    public const int SlotBytes = DnsTunnelGuard.MaxEscapedLength;

    /// <summary>Preallocates <paramref name="capacity"/> names (rounded up to a power of two).</summary>
    public DnsQueryNameLog(int capacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _text = new byte[size * SlotBytes];
        _lengths = new int[size];
        _stamps = new int[size];
        _mask = size - 1;
    }

    /// <summary>
    /// Keeps <paramref name="name"/> (lower-case dotted text, at most <see cref="SlotBytes"/> bytes) and
    /// returns its stamp (never 0). Data-plane thread only.
    /// </summary>
    public int Write(ReadOnlySpan<byte> name)
    {
        var stamp = ++_next;
        if (stamp <= 0)
        {
            // After 2^31 names: start again at 1 (0 means "no name" in an event).
            _next = stamp = 1;
        }

        var slot = (stamp - 1) & _mask;

        // Seqlock: the slot reads as nobody's while it is rewritten, then as the new stamp's.
        Volatile.Write(ref _stamps[slot], 0);
        var length = Math.Min(name.Length, SlotBytes);
        name[..length].CopyTo(_text.AsSpan(slot * SlotBytes, SlotBytes));
        _lengths[slot] = length;
        Volatile.Write(ref _stamps[slot], stamp);
        return stamp;
    }

    /// <summary>The name written with <paramref name="stamp"/>, or null when it was overwritten since. Any thread.</summary>
    public string? Read(int stamp)
    {
        if (stamp <= 0)
        {
            return null;
        }

        var slot = (stamp - 1) & _mask;
        if (Volatile.Read(ref _stamps[slot]) != stamp)
        {
            return null;
        }

        var length = Math.Min(Volatile.Read(ref _lengths[slot]), SlotBytes);
        var text = System.Text.Encoding.ASCII.GetString(_text, slot * SlotBytes, length);
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref _stamps[slot]) == stamp ? text : null;
    }
}
