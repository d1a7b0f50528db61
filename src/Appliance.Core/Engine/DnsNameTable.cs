using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Appliance.Core.Engine;

/// <summary>
/// What each camera learned from the DNS answers it received: per camera, name to addresses. Preallocated and bounded
/// (addresses per name, names per camera, names and addresses in total); when a bound is reached the entry that lapses
/// soonest (or lapsed longest ago) makes room and the eviction is counted. Written only by the engine's data-plane
/// thread, allocation-free; other threads read names and snapshots through per-entry sequence counters (a seqlock),
/// so a reader never sees half of an update.
/// </summary>
/// <remarks>
/// <para>Layout: two entry pools. A name entry holds one camera's name (lower case, in a fixed 256-byte cell of one
/// arena) and heads the list of its address entries; name entries are chained per camera and in a hash index by
/// (camera, name). An address entry holds (camera, address, lapse time, learn sequence) and sits in a hash index by
/// (camera, address), the key the data path asks with.</para>
/// <para>Lapse: an address lapses at max(TTL, min TTL) after its last answer. A lapsed address is still kept (and still
/// admits) while the camera has a live flow with it; it is reclaimed lazily, when it is looked up or needs its place.</para>
/// <para>Admission: every mapping names the camera in reports, but only one taught by an answer to a query the policy
/// admitted (<see cref="DnsAnswerSource.Admitted"/>) lets a name rule admit its address, until the lapse of the last such
/// answer. A learn-mode or monitored camera's queries that no rule admitted pass, and their answers are learned for the
/// proposal and the reports, but under enforcement those queries would have been dropped: such an answer (the camera may
/// have asked its own resolver, with any TTL it liked) must not admit anything after the camera is switched to enforce.
/// Each admitted mapping keeps what it was asked of whom (resolver, transport, question) and the policy version that
/// judged it; under a newer policy it is judged again, on the first name-rule lookup that meets it (an opener, never the
/// established-flow path): a rule must still admit the query to that resolver and the camera's query filter must still
/// allow the question, else the mapping admits nothing until an admitted answer teaches it again.</para>
/// </remarks>
public sealed class DnsNameTable
{
    /// <summary>Bytes per name cell: any name's dotted text (at most 253) fits.</summary>
    public const int NameCell = 256;

    /// <summary>Entries a bounded eviction scan looks at for the global pools.</summary>
    internal const int EvictionScan = 64;

    private const ushort DnsPort = 53;

    private readonly NameEntry[] _names;
    private readonly AddressEntry[] _addresses;
    private readonly byte[] _text;
    private readonly int[] _nameBuckets;
    private readonly int[] _addressBuckets;
    private readonly int[] _cameraNames;     // per camera slot: head of its name list
    private readonly int[] _cameraNameCount; // per camera slot
    private readonly int _namesPerCamera;
    private readonly int _addressesPerName;
    private readonly ulong _seed;
    private int _freeName;
    private int _freeAddress;
    private int _nameCursor;
    private int _addressCursor;
    private long _sequence;
    private long _evictions;
    private long _learned;
    private int _nameCount;
    private int _addressCount;

    /// <summary>Creates the table.</summary>
    /// <param name="nameCapacity">Names in total (all cameras).</param>
    /// <param name="addressCapacity">Addresses in total.</param>
    /// <param name="namesPerCamera">Names one camera may hold.</param>
    /// <param name="addressesPerName">Addresses one name may hold.</param>
    /// <param name="cameraSlots">Camera slot capacity.</param>
    public DnsNameTable(int nameCapacity, int addressCapacity, int namesPerCamera, int addressesPerName, int cameraSlots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nameCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(addressCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(namesPerCamera, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(addressesPerName, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cameraSlots, 1);
        _names = new NameEntry[nameCapacity];
        _addresses = new AddressEntry[addressCapacity];
        _text = new byte[(long)nameCapacity * NameCell];
        _nameBuckets = new int[(int)BitOperations.RoundUpToPowerOf2((uint)nameCapacity * 2)];
        _addressBuckets = new int[(int)BitOperations.RoundUpToPowerOf2((uint)addressCapacity * 2)];
        Array.Fill(_nameBuckets, -1);
        Array.Fill(_addressBuckets, -1);
        _cameraNames = new int[cameraSlots];
        Array.Fill(_cameraNames, -1);
        _cameraNameCount = new int[cameraSlots];
        _namesPerCamera = namesPerCamera;
        _addressesPerName = addressesPerName;
        _seed = (ulong)Random.Shared.NextInt64() | 1;
        for (var i = 0; i < _names.Length; i++)
        {
            _names[i].Slot = -1;
            _names[i].Next = i + 1 < _names.Length ? i + 1 : -1;
        }

        for (var i = 0; i < _addresses.Length; i++)
        {
            _addresses[i].Name = -1;
            _addresses[i].Next = i + 1 < _addresses.Length ? i + 1 : -1;
        }

        _freeName = 0;
        _freeAddress = 0;
    }

    /// <summary>Names held now.</summary>
    public int NameCount => Volatile.Read(ref _nameCount);

    /// <summary>Addresses held now.</summary>
    public int AddressCount => Volatile.Read(ref _addressCount);

    /// <summary>Names and addresses pushed out because a bound was reached.</summary>
    public long Evictions => Volatile.Read(ref _evictions);

    /// <summary>Name-to-address mappings learned or refreshed.</summary>
    public long Learned => Volatile.Read(ref _learned);

    /// <summary>Name capacity in total.</summary>
    public int NameCapacity => _names.Length;

    /// <summary>Address capacity in total.</summary>
    public int AddressCapacity => _addresses.Length;

    /// <summary>
    /// Learns that camera <paramref name="slot"/> resolved the lower-case dotted <paramref name="name"/> to
    /// <paramref name="address"/>, lapsing at <paramref name="expiresMs"/> (a new answer only ever extends it). Data-plane
    /// thread only; allocation-free.
    /// </summary>
    /// <returns>The name's index (a handle for <see cref="DnsAnswerSource.Question"/>), or -1 when nothing was learned.</returns>
    public int Learn(int slot, ReadOnlySpan<byte> name, IpAddr address, long expiresMs, long nowMs, in DnsAnswerSource source)
    {
        if ((uint)slot >= (uint)_cameraNames.Length || name.Length is 0 or > NameCell)
        {
            return -1;
        }

        var n = FindOrAddName(slot, name, nowMs);
        if (n < 0)
        {
            return -1;
        }

        var sequence = ++_sequence;
        for (var a = _names[n].Addresses; a >= 0; a = _addresses[a].NextOfName)
        {
            ref var e = ref _addresses[a];
            if (e.Address.Value == address.Value)
            {
                BeginWrite(ref e.Generation);
                e.ExpiresMs = Math.Max(e.ExpiresMs, expiresMs);
                e.Sequence = sequence;
                if (source.Admitted)
                {
                    Admit(ref e, n, expiresMs, in source);
                }

                EndWrite(ref e.Generation);
                RaiseNameExpiry(n, expiresMs);
                Interlocked.Increment(ref _learned);
                return n;
            }
        }

        if (_names[n].AddressCount >= _addressesPerName)
        {
            RemoveAddress(SoonestOfName(n), keepName: n);
            Interlocked.Increment(ref _evictions);
        }

        if (_freeAddress < 0)
        {
            EvictAddressScan(keepName: n);
        }

        var i = _freeAddress;
        if (i < 0)
        {
            return -1;
        }

        ref var entry = ref _addresses[i];
        _freeAddress = entry.Next;
        BeginWrite(ref entry.Generation);
        entry.Name = n;
        entry.Slot = slot;
        entry.Address = address;
        entry.ExpiresMs = expiresMs;
        entry.Sequence = sequence;
        entry.AdmitsUntilMs = long.MinValue;
        if (source.Admitted)
        {
            Admit(ref entry, n, expiresMs, in source);
        }

        entry.NextOfName = _names[n].Addresses;
        var bucket = AddressBucket(slot, address);
        entry.Next = _addressBuckets[bucket];
        EndWrite(ref entry.Generation);
        Volatile.Write(ref _addressBuckets[bucket], i); // published after the entry is whole (concurrent TryFindName)
        _names[n].Addresses = i;
        _names[n].AddressCount++;
        RaiseNameExpiry(n, expiresMs);
        Interlocked.Increment(ref _addressCount);
        Interlocked.Increment(ref _learned);
        return n;
    }

    /// <summary>The generation of name <paramref name="name"/>'s cell now (for a <see cref="DnsAnswerSource.Question"/> handle).</summary>
    public int GenerationOf(int name) => (uint)name < (uint)_names.Length ? Volatile.Read(ref _names[name].Generation) : 1;

    /// <summary>
    /// The index of camera <paramref name="slot"/>'s lower-case dotted <paramref name="name"/>, or -1 when it holds none.
    /// Data-plane thread, or the starting thread before the data plane runs (the state file).
    /// </summary>
    public int FindName(int slot, ReadOnlySpan<byte> name)
    {
        if ((uint)slot >= (uint)_cameraNames.Length || name.Length is 0 or > NameCell)
        {
            return -1;
        }

        var hash = Hash(slot, name);
        for (var n = _nameBuckets[(int)(hash & (ulong)(_nameBuckets.Length - 1))]; n >= 0; n = _names[n].Next)
        {
            ref var e = ref _names[n];
            if (e.Hash == hash && e.Slot == slot && _text.AsSpan(n * NameCell, e.Length).SequenceEqual(name))
            {
                return n;
            }
        }

        return -1;
    }

    /// <summary>An admitted answer's mapping (inside the entry's write window): it admits until this answer lapses, judged by this source.</summary>
    private static void Admit(ref AddressEntry e, int name, long expiresMs, in DnsAnswerSource source)
    {
        e.AdmitsUntilMs = Math.Max(e.AdmitsUntilMs, expiresMs);
        e.Resolver = source.Resolver;
        e.Protocol = source.Protocol;
        e.JudgedVersion = source.PolicyVersion;
        if (source.Question == -1)
        {
            e.Question = name;
            e.QuestionGeneration = -1; // the entry's own name: always current
        }
        else
        {
            e.Question = source.Question;
            e.QuestionGeneration = source.QuestionGeneration;
        }
    }

    /// <summary>
    /// Whether camera <paramref name="slot"/> has any name for <paramref name="address"/> that has not lapsed (or that
    /// a live flow keeps: <paramref name="peerHasFlow"/>). Lapsed entries without a flow are reclaimed on the way.
    /// </summary>
    internal bool HasLiveName(int slot, IpAddr address, long nowMs, bool peerHasFlow)
    {
        var found = false;
        var a = _addressBuckets[AddressBucket(slot, address)];
        while (a >= 0)
        {
            ref var e = ref _addresses[a];
            var next = e.Next;
            if (e.Slot == slot && e.Address.Value == address.Value)
            {
                if (nowMs < e.ExpiresMs || peerHasFlow)
                {
                    found = true;
                }
                else
                {
                    RemoveAddress(a, keepName: -1);
                }
            }

            a = next;
        }

        return found;
    }

    /// <summary>
    /// Whether camera <paramref name="slot"/> holds any name for <paramref name="address"/> (lapsed or not). Data-plane
    /// thread only (no sequence checks: it is the writer); allocation-free.
    /// </summary>
    internal bool HasAnyName(int slot, IpAddr address)
    {
        for (var a = _addressBuckets[AddressBucket(slot, address)]; a >= 0; a = _addresses[a].Next)
        {
            if (_addresses[a].Slot == slot && _addresses[a].Address.Value == address.Value)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether any name camera <paramref name="slot"/> holds for <paramref name="address"/> (lapsed or not) matches
    /// <paramref name="names"/>. Data-plane thread only (the writer); allocation-free.
    /// </summary>
    internal bool AnyNameMatches(int slot, IpAddr address, Policy.DnsQueryFilter names)
    {
        if ((uint)slot >= (uint)_cameraNames.Length)
        {
            return false;
        }

        for (var a = _addressBuckets[AddressBucket(slot, address)]; a >= 0; a = _addresses[a].Next)
        {
            ref var e = ref _addresses[a];
            if (e.Slot == slot && e.Address.Value == address.Value && names.Allows(_text.AsSpan(e.Name * NameCell, _names[e.Name].Length)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The union, over the names camera <paramref name="slot"/> has for <paramref name="address"/> that admit (taught by an
    /// admitted answer that has not lapsed, or that a live flow keeps), of the patterns of <paramref name="rules"/> each
    /// matches (computed once per name and policy version, then cached). A mapping judged under an older policy is judged
    /// again under this one first (see the remarks): <paramref name="rules"/> must still admit its query and
    /// <paramref name="queries"/> (null: any name) allow its question.
    /// </summary>
    internal ulong MaskOf(int slot, IpAddr address, Policy.RuleSetIndex rules, Policy.DnsQueryFilter? queries, uint policyVersion, long nowMs, bool peerHasFlow)
    {
        ulong mask = 0;
        for (var a = _addressBuckets[AddressBucket(slot, address)]; a >= 0; a = _addresses[a].Next)
        {
            ref var e = ref _addresses[a];
            if (e.Slot != slot || e.Address.Value != address.Value || e.AdmitsUntilMs == long.MinValue
                || (nowMs >= e.AdmitsUntilMs && !peerHasFlow))
            {
                continue;
            }

            if (e.JudgedVersion != policyVersion && !Rejudge(ref e, rules, queries, policyVersion))
            {
                continue;
            }

            ref var n = ref _names[e.Name];
            if (n.MaskVersion != policyVersion || !ReferenceEquals(n.MaskRules, rules))
            {
                n.Mask = rules.MaskOf(_text.AsSpan(e.Name * NameCell, n.Length));
                n.MaskVersion = policyVersion;
                n.MaskRules = rules;
            }

            mask |= n.Mask;
        }

        return mask;
    }

    /// <summary>
    /// Judges an admitted mapping under a newer policy: would <paramref name="rules"/> admit its query (UDP or TCP to port
    /// 53 of its resolver; address rules only: a resolver reached only through a name rule is not re-judged) and
    /// <paramref name="queries"/> allow its question (which must still be held: an evicted question cannot be judged)?
    /// Passed, it is stamped with <paramref name="policyVersion"/>; failed, it admits nothing until re-learned.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Rejudge(ref AddressEntry e, Policy.RuleSetIndex rules, Policy.DnsQueryFilter? queries, uint policyVersion)
    {
        var admitted = rules.Match(!e.Resolver.IsV4, Direction.Egress, e.Protocol, DnsPort, e.Resolver) >= 0;
        if (admitted && queries is not null)
        {
            var q = e.Question;
            admitted = (uint)q < (uint)_names.Length && _names[q].Slot == e.Slot
                && (e.QuestionGeneration == -1 || _names[q].Generation == e.QuestionGeneration)
                && queries.Allows(_text.AsSpan(q * NameCell, _names[q].Length));
        }

        BeginWrite(ref e.Generation);
        if (admitted)
        {
            e.JudgedVersion = policyVersion;
        }
        else
        {
            e.AdmitsUntilMs = long.MinValue;
        }

        EndWrite(ref e.Generation);
        return admitted;
    }

    /// <summary>
    /// The name camera <paramref name="slot"/> resolved to <paramref name="address"/> most recently (lapsed or not, while
    /// it is held), as a (name index, generation) handle for <see cref="TryGetName"/>; false when it has none.
    /// Allocation-free; safe from any thread: each entry of the bucket chain is read under its sequence counter (a walk
    /// that meets an entry being changed starts again, a few times at most) and the walk is bounded by the pool size,
    /// so a reader racing the data-plane thread gets a name that was right at some instant, or none, never garbage.
    /// </summary>
    public bool TryFindName(int slot, IpAddr address, out int name, out int generation)
    {
        name = -1;
        generation = 0;
        if ((uint)slot >= (uint)_cameraNames.Length)
        {
            return false;
        }

        for (var attempt = 0; attempt < 4; attempt++)
        {
            if (TryWalk(slot, address, out name, out generation, out var torn) && !torn)
            {
                break;
            }

            if (!torn)
            {
                return false;
            }

            name = -1;
        }

        if (name < 0)
        {
            return false;
        }

        return (generation & 1) == 0;
    }

    private bool TryWalk(int slot, IpAddr address, out int name, out int nameGeneration, out bool torn)
    {
        name = -1;
        nameGeneration = 0;
        torn = false;
        long best = -1;
        var a = Volatile.Read(ref _addressBuckets[AddressBucket(slot, address)]);
        for (var steps = 0; a >= 0 && steps < _addresses.Length; steps++)
        {
            ref var e = ref _addresses[a];
            var g = Volatile.Read(ref e.Generation);
            var entrySlot = e.Slot;
            var entryAddress = e.Address;
            var entrySequence = e.Sequence;
            var entryName = e.Name;
            var next = e.Next;

            // The name cell's generation is read inside the entry's read window: read after the walk, the cell could
            // already hold another name (evicted and reused), and the handle would then name the wrong one.
            var entryNameGeneration = (uint)entryName < (uint)_names.Length ? Volatile.Read(ref _names[entryName].Generation) : 1;
            Interlocked.MemoryBarrier();
            if ((g & 1) != 0 || Volatile.Read(ref e.Generation) != g)
            {
                torn = true;
                return false;
            }

            if (entryName >= 0 && entrySlot == slot && entryAddress.Value == address.Value && entrySequence > best)
            {
                best = entrySequence;
                name = entryName;
                nameGeneration = entryNameGeneration;
            }

            a = next;
        }

        return name >= 0;
    }

    /// <summary>
    /// The text of a name handle from <see cref="TryFindName"/> (or a drop event), from any thread; null when the cell
    /// has been reused for another name since (the handle's generation no longer matches).
    /// </summary>
    public string? TryGetName(int name, int generation)
    {
        if ((uint)name >= (uint)_names.Length || (generation & 1) != 0)
        {
            return null;
        }

        Span<byte> copy = stackalloc byte[NameCell];
        ref var entry = ref _names[name];
        if (Volatile.Read(ref entry.Generation) != generation)
        {
            return null;
        }

        var length = Math.Clamp(Volatile.Read(ref entry.Length), 0, NameCell);
        _text.AsSpan(name * NameCell, length).CopyTo(copy);
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref entry.Generation) == generation && entry.Slot >= 0 ? Encoding.ASCII.GetString(copy[..length]) : null;
    }

    /// <summary>
    /// A consistent copy of every mapping, from any thread (each entry read under its sequence counter; entries changing
    /// during the copy are retried a few times, then skipped). Off the hot path: allocates the result.
    /// </summary>
    public List<LearnedName> Snapshot(long nowMs)
    {
        var result = new List<LearnedName>();
        for (var i = 0; i < _addresses.Length; i++)
        {
            for (var attempt = 0; attempt < 4; attempt++)
            {
                ref var e = ref _addresses[i];
                var g = Volatile.Read(ref e.Generation);
                if ((g & 1) != 0)
                {
                    continue;
                }

                var copy = e;
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref e.Generation) != g)
                {
                    continue;
                }

                if (copy.Name >= 0)
                {
                    var text = TryGetName(copy.Name, Volatile.Read(ref _names[copy.Name].Generation));
                    if (text is not null)
                    {
                        var admits = copy.AdmitsUntilMs != long.MinValue;
                        var question = !admits ? null
                            : copy.QuestionGeneration == -1 ? text
                            : TryGetName(copy.Question, copy.QuestionGeneration);
                        result.Add(new LearnedName(copy.Slot, text, copy.Address, copy.ExpiresMs - nowMs, copy.Sequence)
                        {
                            AdmitsRemainingMs = admits ? copy.AdmitsUntilMs - nowMs : null,
                            Resolver = admits ? copy.Resolver : default,
                            Protocol = admits ? copy.Protocol : (byte)0,
                            Question = question,
                        });
                    }
                }

                break;
            }
        }

        return result;
    }

    // ---- internals (data-plane thread) ----

    private int FindOrAddName(int slot, ReadOnlySpan<byte> name, long nowMs)
    {
        var hash = Hash(slot, name);
        var bucket = (int)(hash & (ulong)(_nameBuckets.Length - 1));
        for (var n = _nameBuckets[bucket]; n >= 0; n = _names[n].Next)
        {
            ref var e = ref _names[n];
            if (e.Hash == hash && e.Slot == slot && _text.AsSpan(n * NameCell, e.Length).SequenceEqual(name))
            {
                return n;
            }
        }

        if (_cameraNameCount[slot] >= _namesPerCamera)
        {
            RemoveName(SoonestNameOfCamera(slot, nowMs));
            Interlocked.Increment(ref _evictions);
        }

        if (_freeName < 0)
        {
            EvictNameScan();
        }

        var i = _freeName;
        if (i < 0)
        {
            return -1;
        }

        ref var entry = ref _names[i];
        _freeName = entry.Next;
        BeginWrite(ref entry.Generation);
        name.CopyTo(_text.AsSpan(i * NameCell, NameCell));
        entry.Length = name.Length;
        entry.Hash = hash;
        entry.Slot = slot;
        entry.Addresses = -1;
        entry.AddressCount = 0;
        entry.ExpiresMs = long.MinValue;
        entry.MaskRules = null;
        entry.MaskVersion = 0;
        entry.Mask = 0;
        entry.Next = _nameBuckets[bucket];
        entry.NextOfCamera = _cameraNames[slot];
        EndWrite(ref entry.Generation);
        _nameBuckets[bucket] = i;
        _cameraNames[slot] = i;
        _cameraNameCount[slot]++;
        Interlocked.Increment(ref _nameCount);
        return i;
    }

    private void RaiseNameExpiry(int n, long expiresMs)
    {
        if (expiresMs > _names[n].ExpiresMs)
        {
            _names[n].ExpiresMs = expiresMs;
        }
    }

    private int SoonestOfName(int n)
    {
        var best = -1;
        var bestExpiry = long.MaxValue;
        for (var a = _names[n].Addresses; a >= 0; a = _addresses[a].NextOfName)
        {
            if (_addresses[a].ExpiresMs < bestExpiry || best < 0)
            {
                best = a;
                bestExpiry = _addresses[a].ExpiresMs;
            }
        }

        return best;
    }

    private int SoonestNameOfCamera(int slot, long nowMs)
    {
        _ = nowMs;
        var best = -1;
        var bestExpiry = long.MaxValue;
        for (var n = _cameraNames[slot]; n >= 0; n = _names[n].NextOfCamera)
        {
            if (_names[n].ExpiresMs < bestExpiry || best < 0)
            {
                best = n;
                bestExpiry = _names[n].ExpiresMs;
            }
        }

        return best;
    }

    private void EvictNameScan()
    {
        var best = -1;
        var bestExpiry = long.MaxValue;
        for (var k = 0; k < EvictionScan && k < _names.Length; k++)
        {
            var i = _nameCursor;
            _nameCursor = _nameCursor + 1 == _names.Length ? 0 : _nameCursor + 1;
            if (_names[i].Slot >= 0 && (best < 0 || _names[i].ExpiresMs < bestExpiry))
            {
                best = i;
                bestExpiry = _names[i].ExpiresMs;
            }
        }

        if (best >= 0)
        {
            RemoveName(best);
            Interlocked.Increment(ref _evictions);
        }
    }

    private void EvictAddressScan(int keepName)
    {
        var best = -1;
        var bestExpiry = long.MaxValue;
        for (var k = 0; k < EvictionScan && k < _addresses.Length; k++)
        {
            var i = _addressCursor;
            _addressCursor = _addressCursor + 1 == _addresses.Length ? 0 : _addressCursor + 1;
            if (_addresses[i].Name >= 0 && (best < 0 || _addresses[i].ExpiresMs < bestExpiry))
            {
                best = i;
                bestExpiry = _addresses[i].ExpiresMs;
            }
        }

        if (best >= 0)
        {
            RemoveAddress(best, keepName);
            Interlocked.Increment(ref _evictions);
        }
    }

    /// <summary>Removes a name and all its addresses.</summary>
    private void RemoveName(int n)
    {
        if (n < 0 || _names[n].Slot < 0)
        {
            return;
        }

        while (_names[n].Addresses >= 0)
        {
            RemoveAddress(_names[n].Addresses, keepName: n);
        }

        FreeName(n);
    }

    /// <summary>Removes one address; its name goes too when it has no address left, unless it is <paramref name="keepName"/>.</summary>
    private void RemoveAddress(int a, int keepName)
    {
        if (a < 0 || _addresses[a].Name < 0)
        {
            return;
        }

        ref var e = ref _addresses[a];
        var n = e.Name;

        // Unlink from the (camera, address) bucket chain and from the name's list.
        var bucket = AddressBucket(e.Slot, e.Address);
        if (_addressBuckets[bucket] == a)
        {
            _addressBuckets[bucket] = e.Next;
        }
        else
        {
            for (var p = _addressBuckets[bucket]; p >= 0; p = _addresses[p].Next)
            {
                if (_addresses[p].Next == a)
                {
                    _addresses[p].Next = e.Next;
                    break;
                }
            }
        }

        if (_names[n].Addresses == a)
        {
            _names[n].Addresses = e.NextOfName;
        }
        else
        {
            for (var p = _names[n].Addresses; p >= 0; p = _addresses[p].NextOfName)
            {
                if (_addresses[p].NextOfName == a)
                {
                    _addresses[p].NextOfName = e.NextOfName;
                    break;
                }
            }
        }

        _names[n].AddressCount--;
        BeginWrite(ref e.Generation);
        e.Name = -1;
        e.Slot = -1;
        e.Next = _freeAddress;
        EndWrite(ref e.Generation);
        _freeAddress = a;
        Interlocked.Decrement(ref _addressCount);
        if (_names[n].AddressCount == 0 && n != keepName)
        {
            FreeName(n);
        }
    }

    private void FreeName(int n)
    {
        ref var e = ref _names[n];
        var slot = e.Slot;
        var bucket = (int)(e.Hash & (ulong)(_nameBuckets.Length - 1));
        if (_nameBuckets[bucket] == n)
        {
            _nameBuckets[bucket] = e.Next;
        }
        else
        {
            for (var p = _nameBuckets[bucket]; p >= 0; p = _names[p].Next)
            {
                if (_names[p].Next == n)
                {
                    _names[p].Next = e.Next;
                    break;
                }
            }
        }

        if (_cameraNames[slot] == n)
        {
            _cameraNames[slot] = e.NextOfCamera;
        }
        else
        {
            for (var p = _cameraNames[slot]; p >= 0; p = _names[p].NextOfCamera)
            {
                if (_names[p].NextOfCamera == n)
                {
                    _names[p].NextOfCamera = e.NextOfCamera;
                    break;
                }
            }
        }

        _cameraNameCount[slot]--;
        BeginWrite(ref e.Generation);
        e.Slot = -1;
        e.Length = 0;
        e.MaskRules = null;
        e.Next = _freeName;
        EndWrite(ref e.Generation);
        _freeName = n;
        Interlocked.Decrement(ref _nameCount);
    }

    // Seqlock writer side: odd while an entry changes. Interlocked gives the full fence before the field writes
    // (so a reader that sees the old even value cannot see new fields); Volatile.Write orders them before the even one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BeginWrite(ref int generation) => Interlocked.Increment(ref generation);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EndWrite(ref int generation) => Volatile.Write(ref generation, generation + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int AddressBucket(int slot, IpAddr address)
    {
        var v = address.Value;
        var h = Mix((ulong)v ^ _seed, (ulong)(v >> 64) ^ ((ulong)(uint)slot << 32) ^ 0x9E37_79B9_7F4A_7C15UL);
        return (int)(h & (ulong)(_addressBuckets.Length - 1));
    }

    private ulong Hash(int slot, ReadOnlySpan<byte> name)
    {
        var h = Mix(_seed, (ulong)(uint)slot + 1);
        var i = 0;
        for (; i + 8 <= name.Length; i += 8)
        {
            h = Mix(h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(name[i..]), 0x9E37_79B9_7F4A_7C15UL);
        }

        ulong tail = 0;
        for (var k = 0; i < name.Length; i++, k += 8)
        {
            tail |= (ulong)name[i] << k;
        }

        h = Mix(h ^ tail, (uint)name.Length | 0xA076_1D64_78BD_642FUL);
        return h == 0 ? 1 : h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong a, ulong b)
    {
        var high = Math.BigMul(a, b, out var low);
        return high ^ low;
    }

    private struct NameEntry
    {
        public int Generation;
        public int Slot;       // -1: free
        public int Length;
        public ulong Hash;
        public int Next;       // bucket chain, or the free list
        public int NextOfCamera;
        public int Addresses;  // head of its address list
        public int AddressCount;
        public long ExpiresMs; // the latest of its addresses'
        public Policy.RuleSetIndex? MaskRules;
        public uint MaskVersion;
        public ulong Mask;
    }

    private struct AddressEntry
    {
        public int Generation;
        public int Name;       // -1: free
        public int Slot;
        public IpAddr Address;
        public long ExpiresMs;
        public long Sequence;
        public int Next;       // bucket chain, or the free list
        public int NextOfName;

        // Admission (see the remarks): until when a name rule may admit the address (long.MinValue: never, an answer to a
        // query no rule admitted), and what judges it again under a newer policy.
        public long AdmitsUntilMs;
        public IpAddr Resolver;
        public uint JudgedVersion;
        public int Question;           // the question's name index
        public int QuestionGeneration; // that cell's generation then; -1: the entry's own name
        public byte Protocol;
    }
}

/// <summary>One learned mapping, as <see cref="DnsNameTable.Snapshot"/> copies it.</summary>
/// <param name="CameraSlot">The camera's counter slot.</param>
/// <param name="Name">The name (lower case).</param>
/// <param name="Address">An address the camera's answers gave for it.</param>
/// <param name="RemainingMs">Milliseconds until it lapses (negative: lapsed, kept by a live flow or not yet reclaimed).</param>
/// <param name="Sequence">Learn order: higher is more recent.</param>
public readonly record struct LearnedName(int CameraSlot, string Name, IpAddr Address, long RemainingMs, long Sequence)
{
    /// <summary>
    /// Milliseconds a name rule may still admit the address for (negative: lapsed, kept by a live flow), or null when no
    /// admitted query taught it (a learn-mode camera's own lookup) or a newer policy judged it no longer admitted.
    /// </summary>
    public long? AdmitsRemainingMs { get; init; }

    /// <summary>The resolver the admitted answer came from (when <see cref="AdmitsRemainingMs"/> has a value).</summary>
    public IpAddr Resolver { get; init; }

    /// <summary>The admitted answer's transport: 17 (UDP) or 6 (TCP); 0 when it does not admit.</summary>
    public byte Protocol { get; init; }

    /// <summary>The question the admitted answer answered (the name itself, or the start of its CNAME chain); null when unknown.</summary>
    public string? Question { get; init; }
}

/// <summary>
/// Where an answer a camera learns from came from, for name rules (see <see cref="DnsNameTable"/>'s remarks).
/// </summary>
/// <param name="Admitted">Its query was admitted by the policy (a rule let it go to the resolver, its name passed the
/// camera's query filter and the tunnel guard did not refuse it): only then may its mapping admit through a name rule.</param>
/// <param name="Resolver">The resolver it was asked of.</param>
/// <param name="Protocol">17 (UDP) or 6 (TCP).</param>
/// <param name="PolicyVersion">The version of the policy that admitted the query (0: none known; judged again at the first lookup).</param>
/// <param name="Question">The name index of the question, when the mapping is a CNAME target's (-1: the learned name itself;
/// -2: not known, so a query filter can never pass it again).</param>
/// <param name="QuestionGeneration">That name cell's generation (<see cref="DnsNameTable.GenerationOf"/>).</param>
public readonly record struct DnsAnswerSource(bool Admitted, IpAddr Resolver, byte Protocol, uint PolicyVersion = 0, int Question = -1, int QuestionGeneration = 0)
{
    /// <summary>An answer to a query no rule admitted (a learn-mode camera's own lookup): named in reports, admits nothing.</summary>
    public static DnsAnswerSource NotAdmitted => default;
}
