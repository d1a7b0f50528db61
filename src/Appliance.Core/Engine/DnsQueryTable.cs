using System.Numerics;
using System.Runtime.CompilerServices;

namespace Appliance.Core.Engine;

/// <summary>
/// The DNS queries cameras sent and have not had answered yet: (camera, client port, resolver address and port,
/// transport, transaction id) with the question asked. An answer teaches a camera only when it matches one of these.
/// Preallocated and set-associative (a keyed hash picks a bucket of <see cref="Ways"/> entries), with a per-camera cap so
/// one camera's query flood cannot push out the others' queries. Data-plane thread only; allocation-free.
/// </summary>
public sealed class DnsQueryTable
{
    /// <summary>Entries per bucket.</summary>
    public const int Ways = 8;

    private readonly Entry[] _entries;
    private readonly byte[] _names;
    private readonly int[] _perCamera;
    private readonly int _perCameraLimit;
    private readonly long _timeoutMs;
    private readonly int _bucketMask;
    private readonly ulong _seed;
    private long _untracked;
    private long _overwritten;
    private int _count;

    /// <summary>Creates the table.</summary>
    /// <param name="capacity">Outstanding queries in total (rounded up to a power of two, at least one bucket).</param>
    /// <param name="perCamera">Outstanding queries one camera may have.</param>
    /// <param name="timeout">How long a query waits for its answer.</param>
    /// <param name="cameraSlots">Camera slot capacity.</param>
    public DnsQueryTable(int capacity, int perCamera, TimeSpan timeout, int cameraSlots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perCamera, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cameraSlots, 1);
        var buckets = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, (capacity + Ways - 1) / Ways));
        _entries = new Entry[buckets * Ways];
        _names = new byte[(long)_entries.Length * DnsNameTable.NameCell];
        _bucketMask = buckets - 1;
        _perCamera = new int[cameraSlots];
        _perCameraLimit = perCamera;
        _timeoutMs = Math.Max(1, (long)timeout.TotalMilliseconds);
        _seed = (ulong)Random.Shared.NextInt64() | 1;
        for (var i = 0; i < _entries.Length; i++)
        {
            _entries[i].Slot = -1;
        }
    }

    /// <summary>Queries waiting for an answer (some may have timed out and not been reclaimed yet).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Queries not tracked because their camera already had its share outstanding.</summary>
    public long Untracked => Volatile.Read(ref _untracked);

    /// <summary>Live queries pushed out by a new one in a full bucket.</summary>
    public long Overwritten => Volatile.Read(ref _overwritten);

    /// <summary>
    /// Records a query. <paramref name="question"/> is its lower-case dotted name; <paramref name="admitted"/> says whether
    /// policy version <paramref name="policyVersion"/> admitted it (a learn-mode camera's unadmitted queries are kept too,
    /// so their answers name peers for the proposal, but those answers admit nothing). False when it is not tracked (the
    /// camera is at its cap): its answer will teach nothing.
    /// </summary>
    public bool Add(in DnsQueryKey key, ReadOnlySpan<byte> question, ushort type, ushort @class, long nowMs, bool admitted = true, uint policyVersion = 0)
    {
        if ((uint)key.Slot >= (uint)_perCamera.Length || question.Length > DnsNameTable.NameCell)
        {
            return false;
        }

        var start = Bucket(in key);
        int same = -1, free = -1, oldestIndex = -1;
        var oldest = long.MaxValue;
        for (var i = start; i < start + Ways; i++)
        {
            ref var e = ref _entries[i];
            if (e.Slot >= 0 && nowMs >= e.ExpiresMs)
            {
                Clear(i);
            }

            if (e.Slot < 0)
            {
                free = free < 0 ? i : free;
                continue;
            }

            if (e.Key.Equals(key))
            {
                // A retransmission of the same query: refresh it.
                same = i;
                break;
            }

            if (e.ExpiresMs < oldest)
            {
                oldest = e.ExpiresMs;
                oldestIndex = i;
            }
        }

        var victim = same >= 0 ? same : free >= 0 ? free : oldestIndex;
        ref var v = ref _entries[victim];
        var replacing = v.Slot >= 0;
        var refresh = same >= 0;
        if (!refresh && _perCamera[key.Slot] >= _perCameraLimit)
        {
            _untracked++;
            return false;
        }

        if (replacing)
        {
            if (!refresh)
            {
                _overwritten++;
            }

            Clear(victim);
        }

        v.Key = key;
        v.Slot = key.Slot;
        v.Type = type;
        v.Class = @class;
        v.NameLength = question.Length;
        v.ExpiresMs = nowMs + _timeoutMs;
        v.Admitted = admitted;
        v.PolicyVersion = policyVersion;
        question.CopyTo(_names.AsSpan(victim * DnsNameTable.NameCell, DnsNameTable.NameCell));
        _perCamera[key.Slot]++;
        _count++;
        return true;
    }

    /// <summary>
    /// Finds the live query an answer with <paramref name="key"/> answers, or -1. The caller checks the question with
    /// <see cref="QuestionMatches"/> and then <see cref="Remove"/>s it.
    /// </summary>
    public int Find(in DnsQueryKey key, long nowMs)
    {
        if ((uint)key.Slot >= (uint)_perCamera.Length)
        {
            return -1;
        }

        var start = Bucket(in key);
        for (var i = start; i < start + Ways; i++)
        {
            ref var e = ref _entries[i];
            if (e.Slot >= 0 && e.Key.Equals(key))
            {
                if (nowMs >= e.ExpiresMs)
                {
                    Clear(i);
                    return -1;
                }

                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether the answer's question (lower-case name, type, class) is the one the query at <paramref name="index"/> asked.</summary>
    public bool QuestionMatches(int index, ReadOnlySpan<byte> question, ushort type, ushort @class)
    {
        ref var e = ref _entries[index];
        return e.Type == type && e.Class == @class
            && _names.AsSpan(index * DnsNameTable.NameCell, e.NameLength).SequenceEqual(question);
    }

    /// <summary>Whether the query at <paramref name="index"/> was admitted, and by which policy version.</summary>
    public bool WasAdmitted(int index, out uint policyVersion)
    {
        ref var e = ref _entries[index];
        policyVersion = e.PolicyVersion;
        return e.Admitted;
    }

    /// <summary>Forgets an answered query.</summary>
    public void Remove(int index)
    {
        if ((uint)index < (uint)_entries.Length && _entries[index].Slot >= 0)
        {
            Clear(index);
        }
    }

    private void Clear(int i)
    {
        ref var e = ref _entries[i];
        _perCamera[e.Slot]--;
        _count--;
        e.Slot = -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Bucket(in DnsQueryKey key)
    {
        var a = (ulong)key.Resolver.Value ^ _seed;
        var b = (ulong)(key.Resolver.Value >> 64) ^ ((ulong)key.ClientPort << 48) ^ ((ulong)key.ResolverPort << 32) ^ ((ulong)key.TransactionId << 16) ^ key.Protocol;
        var high = Math.BigMul(a ^ ((ulong)(uint)key.Slot << 20), b ^ 0x9E37_79B9_7F4A_7C15UL, out var low);
        return (int)((high ^ low) & (ulong)_bucketMask) * Ways;
    }

    private struct Entry
    {
        public DnsQueryKey Key;
        public int Slot; // -1: free
        public ushort Type;
        public ushort Class;
        public int NameLength;
        public long ExpiresMs;
        public uint PolicyVersion;
        public bool Admitted;
    }
}

/// <summary>What ties an answer to its query: the camera, both ends' ports, the resolver, the transport and the id.</summary>
/// <param name="Slot">The camera's counter slot.</param>
/// <param name="ClientPort">The camera's source port.</param>
/// <param name="Resolver">The resolver's address.</param>
/// <param name="ResolverPort">The resolver's port (53).</param>
/// <param name="TransactionId">The DNS message id.</param>
/// <param name="Protocol">17 (UDP) or 6 (TCP).</param>
public readonly record struct DnsQueryKey(int Slot, ushort ClientPort, IpAddr Resolver, ushort ResolverPort, ushort TransactionId, byte Protocol);
