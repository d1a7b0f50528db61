using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Appliance.Core.Engine;

namespace Appliance.Core.Flows;

/// <summary>
/// The connection-tracking table of one engine: preallocated, open addressing with linear probing, no allocation
/// after construction. Written by the engine's data-plane thread only; <see cref="Count"/>, the statistics and
/// <see cref="Snapshot"/> may be read from other threads.
/// </summary>
/// <remarks>
/// <para>Sizing: the slot array is the power of two at or above twice <see cref="Capacity"/>, so the load factor
/// never exceeds one half and every probe run ends at a free slot soon. Entries are 96 bytes.</para>
/// <para>Hashing: keys are attacker-chosen (anyone a rule admits picks their own ports), so the hash is keyed with
/// random per-table seeds (a wyhash-style multiply-fold); colliding keys cannot be precomputed offline.</para>
/// <para>Deletion uses backward shifting, not tombstones, so probe runs only ever shrink when flows go away and
/// churn never degrades lookups.</para>
/// <para>Expiry: an expired entry is ignored and reclaimed when a probe meets it; <see cref="Maintain"/> sweeps a
/// bounded number of slots per call from a rotating cursor. Nothing ever walks the whole table on the data path.</para>
/// <para>Quotas: besides a count per camera, the table counts entries per (camera, peer address) in a second
/// open-addressing table of the same size, keyed by a seeded 64-bit hash of the pair, and keeps two lists per camera,
/// threaded through side arrays of slot links: its closed flows (TCP after both FINs or an RST) and its half-open ones
/// (TCP before the handshake completes, datagrams and echoes nobody answered), each oldest first. A camera or a peer
/// at its quota makes room by evicting from these lists (<see cref="TryEvictForQuota"/>), in O(1) for the camera and a
/// bounded walk for one peer; established flows are never on them. Links move with entries on backward shifting.</para>
/// </remarks>
public sealed class FlowTable
{
    /// <summary>Slots the eviction search looks at before declaring the table full.</summary>
    internal const int EvictionScanLimit = 64;

    /// <summary>Entries of one camera's list a per-peer eviction looks at before giving up.</summary>
    internal const int PeerEvictionScanLimit = 64;

    // Per camera slot, list heads and tails as slot index + 1 (0: empty), so fresh arrays need no filling.
    private const int ClosedHead = 0;
    private const int ClosedTail = 1;
    private const int OpenHead = 2;
    private const int OpenTail = 3;

    private readonly FlowEntry[] _slots;
    private readonly int _mask;
    private readonly int[] _perCamera;
    private readonly ulong _seed0;
    private readonly ulong _seed1;
    private readonly ulong _seed2;
    private readonly ulong _seed3;
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly int[] _lists;
    private readonly PeerCount[] _peers;
    private int _count;
    private int _maintainCursor;
    private int _evictCursor;
    private long _expired;
    private long _evicted;
    private long _quotaEvicted;
    private IFlowOffload? _offload;
    private SpscRing<FlowNote>? _notes;

    /// <param name="capacity">Most live flows (at least 16).</param>
    /// <param name="cameraSlots">Counter slots (see <c>CameraSlotRegistry.Capacity</c>) for per-camera quotas.</param>
    public FlowTable(int capacity, int cameraSlots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 29);
        ArgumentOutOfRangeException.ThrowIfLessThan(cameraSlots, 1);
        Capacity = capacity;
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        _slots = new FlowEntry[size];
        _mask = size - 1;
        _perCamera = new int[cameraSlots];
        _next = new int[size];
        _prev = new int[size];
        _lists = new int[cameraSlots * 4];
        _peers = new PeerCount[size];
        Span<ulong> seeds = stackalloc ulong[4];
        RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(seeds));
        (_seed0, _seed1, _seed2, _seed3) = (seeds[0] | 1, seeds[1] | 1, seeds[2] | 1, seeds[3] | 1);
    }

    /// <summary>Most live flows.</summary>
    public int Capacity { get; }

    /// <summary>Told when an offloaded entry leaves the table (expiry, eviction, removal). Set once, before traffic.</summary>
    internal IFlowOffload? Offload
    {
        get => _offload;
        set => _offload = value;
    }

    /// <summary>Where a flow of a learn-mode camera (<see cref="FlowLearn.Noted"/>) is noted when it leaves; set once by the engine.</summary>
    internal SpscRing<FlowNote>? Notes
    {
        get => _notes;
        set => _notes = value;
    }

    /// <summary>Slots allocated (a power of two, at least twice <see cref="Capacity"/>).</summary>
    public int SlotCount => _slots.Length;

    /// <summary>Bytes the slot array occupies.</summary>
    public long MemoryBytes => (long)_slots.Length * Unsafe.SizeOf<FlowEntry>();

    /// <summary>Live entries (including expired ones not reclaimed yet).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Entries reclaimed because they timed out.</summary>
    public long Expired => Volatile.Read(ref _expired);

    /// <summary>Entries evicted (half-open or unanswered first) to make room for a new flow.</summary>
    public long Evicted => Volatile.Read(ref _evicted);

    /// <summary>Closed or half-open entries evicted because their camera, or their peer, was at its flow quota.</summary>
    public long QuotaEvictions => Volatile.Read(ref _quotaEvicted);

    /// <summary>Bytes the quota bookkeeping (per-peer counts and list links) occupies.</summary>
    public long QuotaMemoryBytes => ((long)_peers.Length * Unsafe.SizeOf<PeerCount>()) + (((long)_next.Length + _prev.Length + _lists.Length) * sizeof(int));

    /// <summary>Entries held by the camera with this counter slot (flow quota accounting).</summary>
    public int CountForCamera(int cameraSlot)
        => (uint)cameraSlot < (uint)_perCamera.Length ? Volatile.Read(ref _perCamera[cameraSlot]) : 0;

    /// <summary>Entries the camera with this counter slot holds with the peer address of <paramref name="key"/>. Data-plane thread only.</summary>
    internal int CountForPeer(int cameraSlot, in FlowKey key)
    {
        var i = FindPeer(PeerHash(cameraSlot, key.PeerHi, key.PeerLo));
        return i >= 0 ? _peers[i].Count : 0;
    }

    /// <summary>Entries the camera with this counter slot holds with <paramref name="peer"/>. Data-plane thread only.</summary>
    internal int CountForPeer(int cameraSlot, IpAddr peer)
    {
        var i = FindPeer(PeerHash(cameraSlot, (ulong)(peer.Value >> 64), (ulong)peer.Value));
        return i >= 0 ? _peers[i].Count : 0;
    }

    /// <summary>
    /// Puts the entry in slot <paramref name="index"/> at the end of its camera's half-open list, or (when
    /// <paramref name="closed"/>) of its closed list, leaving whichever list it was on.
    /// </summary>
    internal void Yield(int index, bool closed)
    {
        ref var e = ref _slots[index];
        var want = closed ? FlowFlags.ClosedList : FlowFlags.HalfOpenList;
        if ((e.Flags & want) != 0 || (uint)e.CameraSlot >= (uint)_perCamera.Length)
        {
            return;
        }

        Unlink(index);
        var list = (e.CameraSlot * 4) + (closed ? ClosedHead : OpenHead);
        var tail = _lists[list + 1];
        _prev[index] = tail;
        _next[index] = 0;
        if (tail == 0)
        {
            _lists[list] = index + 1;
        }
        else
        {
            _next[tail - 1] = index + 1;
        }

        _lists[list + 1] = index + 1;
        e.Flags |= want;
    }

    /// <summary>The entry in slot <paramref name="index"/> is established or answered: it no longer yields its place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Settle(int index)
    {
        if ((_slots[index].Flags & (FlowFlags.HalfOpenList | FlowFlags.ClosedList)) != 0)
        {
            Unlink(index);
        }
    }

    /// <summary>
    /// Makes room under a quota for a new flow with <paramref name="key"/> of the camera with counter slot
    /// <paramref name="cameraSlot"/>: evicts that camera's oldest closed entry, else its oldest half-open one. With
    /// <paramref name="samePeer"/> only an entry with the key's peer address qualifies (the peer is at its share), found
    /// within <see cref="PeerEvictionScanLimit"/> entries of each list. Established flows are never evicted.
    /// </summary>
    /// <returns>Whether an entry was evicted.</returns>
    internal bool TryEvictForQuota(int cameraSlot, in FlowKey key, bool samePeer, long nowMs)
    {
        if ((uint)cameraSlot >= (uint)_perCamera.Length)
        {
            return false;
        }

        var victim = Oldest(_lists[(cameraSlot * 4) + ClosedHead], in key, samePeer);
        if (victim < 0)
        {
            victim = Oldest(_lists[(cameraSlot * 4) + OpenHead], in key, samePeer);
        }

        if (victim < 0)
        {
            return false;
        }

        var expired = _slots[victim].ExpiresMs <= nowMs;
        RemoveAt(victim, expired);
        if (!expired)
        {
            _quotaEvicted++;
        }

        return true;
    }

    private int Oldest(int head, in FlowKey key, bool samePeer)
    {
        if (!samePeer)
        {
            return head - 1;
        }

        for (var (link, n) = (head, 0); link != 0 && n < PeerEvictionScanLimit; link = _next[link - 1], n++)
        {
            ref var e = ref _slots[link - 1];
            if (e.PeerLo == key.PeerLo && e.PeerHi == key.PeerHi)
            {
                return link - 1;
            }
        }

        return -1;
    }

    /// <summary>The slot holding <paramref name="key"/>, or -1. An expired match is reclaimed and reported absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Find(in FlowKey key, long nowMs)
    {
        var slots = _slots;
        var i = Home(key);
        while (true)
        {
            ref var e = ref slots[i];
            if (e.State == FlowState.Free)
            {
                return -1;
            }

            if (e.Matches(key))
            {
                if (e.ExpiresMs <= nowMs)
                {
                    RemoveAt(i, expired: true);
                    return -1;
                }

                return i;
            }

            i = (i + 1) & _mask;
        }
    }

    /// <summary>The entry in slot <paramref name="index"/> (from <see cref="Find"/> or <see cref="TryAdd"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref FlowEntry At(int index) => ref _slots[index];

    /// <summary>
    /// Adds <paramref name="key"/>, which the caller has just looked up and not found. When the table is full it
    /// first tries to evict one expired, half-open or unanswered entry; established flows are never evicted.
    /// </summary>
    /// <returns>The new entry's slot, or -1 when the table is full.</returns>
    internal int TryAdd(in FlowKey key, int cameraSlot, long nowMs)
    {
        if (_count >= Capacity && !TryEvictOne(nowMs))
        {
            return -1;
        }

        var slots = _slots;
        var i = Home(key);
        while (slots[i].State != FlowState.Free)
        {
            i = (i + 1) & _mask;
        }

        ref var e = ref slots[i];
        e = default;
        e.SetKey(key);
        e.CameraSlot = cameraSlot;
        e.CreatedMs = nowMs;
        e.State = FlowState.Datagram; // placeholder until the caller sets the real state; never Free once added
        _next[i] = 0;
        _prev[i] = 0;
        if ((uint)cameraSlot < (uint)_perCamera.Length)
        {
            _perCamera[cameraSlot]++;
        }

        AddPeer(PeerHash(cameraSlot, key.PeerHi, key.PeerLo));

        Volatile.Write(ref _count, _count + 1);
        return i;
    }

    /// <summary>Removes the entry in slot <paramref name="index"/>.</summary>
    internal void Remove(int index) => RemoveAt(index, expired: false);

    /// <summary>
    /// Reclaims expired entries among the next <paramref name="slotBudget"/> slots after the rotating cursor.
    /// Bounded work, called by the data plane between batches.
    /// </summary>
    /// <returns>How many entries were reclaimed.</returns>
    public int Maintain(long nowMs, int slotBudget)
    {
        var removed = 0;
        var i = _maintainCursor;
        for (var n = 0; n < slotBudget; n++)
        {
            ref var e = ref _slots[i];
            if (e.State != FlowState.Free && e.ExpiresMs <= nowMs)
            {
                // Backward shifting may move a later entry into slot i: look at it again (it costs budget, so this
                // still ends).
                RemoveAt(i, expired: true);
                removed++;
                continue;
            }

            i = (i + 1) & _mask;
        }

        _maintainCursor = i;
        return removed;
    }

    /// <summary>
    /// A copy of the live flows, for the API and the CLI. Safe from any thread: each entry is copied twice and kept
    /// only when both copies agree, so an entry the data plane was rewriting is skipped rather than torn. The copy
    /// is consistent per entry, not across entries. Allocates; never call it on the data path.
    /// </summary>
    public IReadOnlyList<FlowInfo> Snapshot(long nowMs, int max = int.MaxValue)
    {
        var result = new List<FlowInfo>(Math.Min(max, Math.Max(Count, 0)));
        for (var i = 0; i < _slots.Length && result.Count < max; i++)
        {
            var a = _slots[i];
            if (a.State == FlowState.Free)
            {
                continue;
            }

            Thread.MemoryBarrier();
            var b = _slots[i];
            if (!MemoryMarshal.AsBytes(new ReadOnlySpan<FlowEntry>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<FlowEntry>(in b))))
            {
                continue;
            }

            var key = a.Key;
            result.Add(new FlowInfo(
                a.Protocol,
                a.Family == 1,
                key.Camera,
                a.CameraPort,
                key.Peer,
                a.PeerPort,
                a.OuterVlan,
                a.InnerVlan,
                a.CameraSlot,
                a.Direction,
                a.State,
                a.PolicyVersion,
                nowMs - a.CreatedMs,
                a.ExpiresMs - nowMs,
                (a.Flags & FlowFlags.Monitored) != 0)
            { Replied = (a.Flags & FlowFlags.Replied) != 0, Packets = a.Packets, Bytes = a.Bytes, EverEstablished = (a.Learn & FlowLearn.Established) != 0 || a.State == FlowState.Established });
        }

        return result;
    }

    private bool TryEvictOne(long nowMs)
    {
        // Look at a bounded window after a rotating cursor: an expired entry is taken at once; otherwise the first
        // evictable (half-open, unanswered) one. Established flows are never pushed out by new ones.
        var i = _evictCursor;
        var victim = -1;
        for (var n = 0; n < EvictionScanLimit; n++)
        {
            ref var e = ref _slots[i];
            if (e.State != FlowState.Free)
            {
                if (e.ExpiresMs <= nowMs)
                {
                    victim = i;
                    _evictCursor = (i + 1) & _mask;
                    RemoveAt(victim, expired: true);
                    return true;
                }

                if (victim < 0 && e.IsEvictable)
                {
                    victim = i;
                }
            }

            i = (i + 1) & _mask;
        }

        _evictCursor = i;
        if (victim < 0)
        {
            return false;
        }

        RemoveAt(victim, expired: false);
        _evicted++;
        return true;
    }

    private void RemoveAt(int index, bool expired)
    {
        var slots = _slots;
        ref var gone = ref slots[index];
        if ((gone.Flags & FlowFlags.Offloaded) != 0)
        {
            // The fast path must stop forwarding it before the slot is reused or the next frame is decided.
            gone.Flags &= ~FlowFlags.Offloaded;
            _offload?.Withdraw(OffloadKey(in gone));
        }

        if ((gone.Learn & FlowLearn.Noted) != 0)
        {
            NoteClosed(in gone);
        }

        var slot = gone.CameraSlot;
        if ((uint)slot < (uint)_perCamera.Length)
        {
            _perCamera[slot]--;
        }

        RemovePeer(PeerHash(slot, gone.PeerHi, gone.PeerLo));
        Unlink(index);
        if (expired)
        {
            _expired++;
        }

        // Backward-shift deletion: walk the run after the hole and pull back every entry whose home is not
        // cyclically in (hole, j], so that every remaining entry stays reachable from its home without tombstones.
        var hole = index;
        var j = index;
        while (true)
        {
            j = (j + 1) & _mask;
            ref var e = ref slots[j];
            if (e.State == FlowState.Free)
            {
                break;
            }

            var home = Home(e.Key);
            var stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays)
            {
                slots[hole] = e;
                MoveLinks(j, hole);
                hole = j;
            }
        }

        slots[hole] = default;
        _next[hole] = 0;
        _prev[hole] = 0;
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>A learn-mode flow leaves the table: its last figures go to the learner (counted as lost when the ring is full).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NoteClosed(in FlowEntry gone)
    {
        var note = FlowNoteOf(in gone, FlowNoteKind.Closed);
        _notes?.TryWrite(in note);
    }

    /// <summary>A note about <paramref name="e"/>, as it is now.</summary>
    internal static FlowNote FlowNoteOf(in FlowEntry e, FlowNoteKind kind) => new()
    {
        Kind = kind,
        CreatedMs = e.CreatedMs,
        ExpiresMs = e.ExpiresMs,
        Bytes = e.Bytes,
        Packets = e.Packets,
        Camera = new IpAddr(new UInt128(e.CameraHi, e.CameraLo)),
        Peer = new IpAddr(new UInt128(e.PeerHi, e.PeerLo)),
        CameraPort = e.CameraPort,
        PeerPort = e.PeerPort,
        CameraSlot = e.CameraSlot,
        Protocol = e.Protocol,
        Direction = e.Direction,
        State = e.State,
        Replied = (e.Flags & FlowFlags.Replied) != 0,
        Established = (e.Learn & FlowLearn.Established) != 0,
    };

    /// <summary>Takes the entry in slot <paramref name="index"/> off whichever camera list it is on.</summary>
    private void Unlink(int index)
    {
        ref var e = ref _slots[index];
        if ((e.Flags & (FlowFlags.HalfOpenList | FlowFlags.ClosedList)) == 0)
        {
            return;
        }

        var list = (e.CameraSlot * 4) + ((e.Flags & FlowFlags.ClosedList) != 0 ? ClosedHead : OpenHead);
        var (prev, next) = (_prev[index], _next[index]);
        if (prev == 0)
        {
            _lists[list] = next;
        }
        else
        {
            _next[prev - 1] = next;
        }

        if (next == 0)
        {
            _lists[list + 1] = prev;
        }
        else
        {
            _prev[next - 1] = prev;
        }

        _next[index] = 0;
        _prev[index] = 0;
        e.Flags &= ~(FlowFlags.HalfOpenList | FlowFlags.ClosedList);
    }

    /// <summary>Backward shifting moved the entry in slot <paramref name="from"/> to <paramref name="to"/>: its list neighbours follow.</summary>
    private void MoveLinks(int from, int to)
    {
        ref var e = ref _slots[to];
        if ((e.Flags & (FlowFlags.HalfOpenList | FlowFlags.ClosedList)) == 0)
        {
            return;
        }

        var list = (e.CameraSlot * 4) + ((e.Flags & FlowFlags.ClosedList) != 0 ? ClosedHead : OpenHead);
        var (prev, next) = (_prev[from], _next[from]);
        _prev[to] = prev;
        _next[to] = next;
        _prev[from] = 0;
        _next[from] = 0;
        if (prev == 0)
        {
            _lists[list] = to + 1;
        }
        else
        {
            _next[prev - 1] = to + 1;
        }

        if (next == 0)
        {
            _lists[list + 1] = to + 1;
        }
        else
        {
            _prev[next - 1] = to + 1;
        }
    }

    /// <summary>The key fields of <paramref name="e"/> in the offload contract's shape.</summary>
    internal static OffloadedFlow OffloadKey(in FlowEntry e) => new()
    {
        Camera = new IpAddr(new UInt128(e.CameraHi, e.CameraLo)),
        Peer = new IpAddr(new UInt128(e.PeerHi, e.PeerLo)),
        CameraPort = e.CameraPort,
        PeerPort = e.PeerPort,
        OuterVlan = e.OuterVlan,
        InnerVlan = e.InnerVlan,
        Protocol = e.Protocol,
        IsIpv6 = e.Family == 1,
        PolicyVersion = e.PolicyVersion,
        CameraSlot = e.CameraSlot,
        Opener = e.Direction,
        CameraSequenceEnd = e.Direction == Direction.Egress ? e.OpenerSequenceEnd : e.ResponderSequenceEnd,
        PeerSequenceEnd = e.Direction == Direction.Egress ? e.ResponderSequenceEnd : e.OpenerSequenceEnd,
    };

    // ---- Per (camera, peer address) counts: open addressing on a seeded 64-bit hash of the pair, backward shifting ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong PeerHash(int cameraSlot, ulong peerHi, ulong peerLo)
        => Mix(Mix(peerLo ^ _seed2, peerHi ^ _seed1) ^ (uint)cameraSlot, _seed3) | 1; // never 0: 0 marks a free slot

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int PeerHome(ulong hash) => (int)(hash >> 32) & _mask;

    private int FindPeer(ulong hash)
    {
        var peers = _peers;
        var i = PeerHome(hash);
        while (peers[i].Hash != 0)
        {
            if (peers[i].Hash == hash)
            {
                return i;
            }

            i = (i + 1) & _mask;
        }

        return -1;
    }

    private void AddPeer(ulong hash)
    {
        // Pairs never outnumber entries, and there are at most half as many entries as slots: a free slot is near.
        var peers = _peers;
        var i = PeerHome(hash);
        while (peers[i].Hash != 0 && peers[i].Hash != hash)
        {
            i = (i + 1) & _mask;
        }

        peers[i].Hash = hash;
        peers[i].Count++;
    }

    private void RemovePeer(ulong hash)
    {
        var i = FindPeer(hash);
        if (i < 0 || --_peers[i].Count > 0)
        {
            return;
        }

        var peers = _peers;
        var hole = i;
        var j = i;
        while (true)
        {
            j = (j + 1) & _mask;
            if (peers[j].Hash == 0)
            {
                break;
            }

            var home = PeerHome(peers[j].Hash);
            var stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays)
            {
                peers[hole] = peers[j];
                hole = j;
            }
        }

        peers[hole] = default;
    }

    private struct PeerCount
    {
        public ulong Hash;
        public int Count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(in FlowKey key)
    {
        var h1 = Mix(key.CameraLo ^ _seed0, key.PeerLo ^ _seed1);
        var h2 = Mix(key.CameraHi ^ key.PackA() ^ _seed2, key.PeerHi ^ key.PackB() ^ _seed3);
        return (int)Mix(h1, h2 ^ _seed0) & _mask;
    }

    // 64x64->128 multiply, folded: the wyhash mixing step.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong a, ulong b)
    {
        var high = Math.BigMul(a, b, out var low);
        return high ^ low;
    }
}

/// <summary>One tracked flow as the API shows it (see <see cref="FlowTable.Snapshot"/>).</summary>
/// <param name="Protocol">IP protocol number.</param>
/// <param name="IsIpv6">Address family.</param>
/// <param name="CameraAddress">The camera's end.</param>
/// <param name="CameraPort">The camera's port (the echo id for ICMP echo; the fragment id for a fragment entry).</param>
/// <param name="PeerAddress">The other end.</param>
/// <param name="PeerPort">The peer's port.</param>
/// <param name="OuterVlan">Outer VLAN id, 0 untagged.</param>
/// <param name="InnerVlan">Inner VLAN id (QinQ), 0 otherwise.</param>
/// <param name="CameraSlot">The camera's counter slot.</param>
/// <param name="Direction">Who opened it.</param>
/// <param name="State">Where it is in its life.</param>
/// <param name="PolicyVersion">The policy version that admitted it (or last re-checked it).</param>
/// <param name="AgeMs">Milliseconds since it was created.</param>
/// <param name="ExpiresInMs">Milliseconds until it times out (negative: expired, not reclaimed yet).</param>
/// <param name="Monitored">Admitted only because its camera is in monitor mode.</param>
public readonly record struct FlowInfo(
    byte Protocol,
    bool IsIpv6,
    IpAddr CameraAddress,
    ushort CameraPort,
    IpAddr PeerAddress,
    ushort PeerPort,
    ushort OuterVlan,
    ushort InnerVlan,
    int CameraSlot,
    Direction Direction,
    FlowState State,
    uint PolicyVersion,
    long AgeMs,
    long ExpiresInMs,
    bool Monitored)
{
    /// <summary>The responder has answered (UDP, ICMP echo, TCP SYN-ACK): what learn mode counts as completed.</summary>
    public bool Replied { get; init; }

    /// <summary>TCP: the handshake completed at some point (the flow may be closing since).</summary>
    public bool EverEstablished { get; init; }

    /// <summary>Frames the flow carried so far, both ways: counted while its camera learns (see <c>FlowEntry.Packets</c>), else its first frame only.</summary>
    public uint Packets { get; init; }

    /// <summary>Wire bytes the flow carried so far, both ways: counted while its camera learns, like <see cref="Packets"/>.</summary>
    public long Bytes { get; init; }
}
