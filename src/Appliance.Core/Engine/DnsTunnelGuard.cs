using System.Numerics;
using System.Runtime.CompilerServices;
using Appliance.Core.Policy;

namespace Appliance.Core.Engine;

/// <summary>
/// The DNS tunnel guard's state: per camera a query-rate budget (GCRA) and when it was last reported, and a bounded
/// set-associative table of (camera, parent domain) windows counting distinct subdomains in a 256-bit map. Everything
/// is allocated here, once; <see cref="Check"/> and <see cref="ShouldReport"/> allocate nothing. Data-plane thread only.
/// </summary>
/// <remarks>
/// A tunnel through the site resolver has to put its data in the query names (each one new, so it is not cached on
/// the way) and wants its answers in big records: it shows as unusual query types, long or random-looking labels,
/// many distinct names under its one domain, and a high query rate. Cameras ask a handful of names, A/AAAA, every
/// few seconds.
/// </remarks>
public sealed class DnsTunnelGuard
{
    /// <summary>Each camera gets at most one event per trigger in this many milliseconds; every query is counted.</summary>
    public const long ReportIntervalMs = 10_000;

    private const int Ways = 4;

    private readonly long[] _tat;
    private readonly long[] _reportWindow;
    private readonly byte[] _reported;
    private readonly ParentWindow[] _parents;
    private readonly int _setMask;
    private long _evicted;

    /// <summary>Preallocates state for <paramref name="cameraSlots"/> cameras and <paramref name="parentCapacity"/> (camera, parent) windows.</summary>
    public DnsTunnelGuard(int cameraSlots, int parentCapacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cameraSlots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parentCapacity, Ways);
        _tat = new long[cameraSlots];
        Array.Fill(_tat, long.MinValue);
        _reportWindow = new long[cameraSlots];
        Array.Fill(_reportWindow, long.MinValue);
        _reported = new byte[cameraSlots];
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)parentCapacity);
        _parents = new ParentWindow[size];
        for (var i = 0; i < size; i++)
        {
            _parents[i].Slot = -1;
        }

        _setMask = (size / Ways) - 1;
    }

    /// <summary>(Camera, parent) windows that pushed out another camera's or parent's live window.</summary>
    public long Evicted => Volatile.Read(ref _evicted);

    /// <summary>
    /// Judges one query of camera <paramref name="slot"/>: type <paramref name="type"/>, name <paramref name="wire"/>
    /// (uncompressed labels ending in the root octet, <see cref="Wire.DnsName.CopyWire"/>), at <paramref name="nowMs"/>.
    /// Updates the camera's rate budget and the parent's window whatever it finds. Returns the first trigger in the
    /// order query type, long name, entropy, subdomains, rate; or 0.
    /// </summary>
    internal Reason Check(DnsGuardSettings g, int slot, ushort type, ReadOnlySpan<byte> wire, long nowMs)
    {
        if ((uint)slot >= (uint)_tat.Length)
        {
            return 0;
        }

        var overRate = !Conforms(g, slot, nowMs);

        // Labels: how many, the longest, where the last two start, and whether any holds a byte no hostname has.
        int labels = 0, longest = 0, textLength = -1, parentStart = -1, lastStart = -1;
        var binary = false;
        for (var at = 0; at < wire.Length && wire[at] != 0; at += 1 + wire[at])
        {
            int length = wire[at];
            labels++;
            longest = Math.Max(longest, length);
            textLength += length + 1;
            parentStart = lastStart;
            lastStart = at;
            foreach (var b in wire.Slice(at + 1, Math.Min(length, wire.Length - at - 1)))
            {
                binary |= b is <= 0x20 or >= 0x7F or (byte)'.';
            }
        }

        var subdomainEnd = labels >= 3 ? parentStart : 0;
        var subdomains = labels >= 3 && CountSubdomain(g, slot, wire, subdomainEnd, nowMs) > g.UniqueSubdomains;

        if (!g.IsUsualType(type))
        {
            return Reason.DnsTunnelQueryType;
        }

        if (longest > g.MaxLabelLength || textLength > g.MaxNameLength)
        {
            return Reason.DnsTunnelLongName;
        }

        if (binary || (subdomainEnd > 0 && HighEntropy(g, wire[..subdomainEnd])))
        {
            return Reason.DnsTunnelEntropy;
        }

        if (subdomains)
        {
            return Reason.DnsTunnelSubdomains;
        }

        return overRate ? Reason.DnsTunnelRate : 0;
    }

    /// <summary>
    /// Whether trigger <paramref name="reason"/> of camera <paramref name="slot"/> is reported now: the first of each
    /// trigger per <see cref="ReportIntervalMs"/>, so a tunnel does not flood the event ring and the SIEM.
    /// </summary>
    internal bool ShouldReport(int slot, Reason reason, long nowMs)
    {
        if ((uint)slot >= (uint)_reported.Length)
        {
            return false;
        }

        if (_reportWindow[slot] == long.MinValue || nowMs - _reportWindow[slot] >= ReportIntervalMs || nowMs < _reportWindow[slot])
        {
            _reportWindow[slot] = nowMs;
            _reported[slot] = 0;
        }

        var bit = (byte)(1 << ((int)reason - (int)Reason.DnsTunnelRate));
        if ((_reported[slot] & bit) != 0)
        {
            return false;
        }

        _reported[slot] |= bit;
        return true;
    }

    /// <summary>GCRA: a query conforms when the camera's theoretical arrival time is at most a burst ahead of now.</summary>
    private bool Conforms(DnsGuardSettings g, int slot, long nowMs)
    {
        const long limit = long.MaxValue / 2000;
        var now = Math.Clamp(nowMs, -limit, limit) * 1000;
        ref var tat = ref _tat[slot];
        var start = tat < now ? now : tat;
        if (start - now > g.BurstMicros)
        {
            return false;
        }

        tat = start + g.EmissionMicros;
        return true;
    }

    /// <summary>
    /// Adds the subdomain part to its (camera, parent) window and returns the distinct count over this window and the
    /// one before it (approximate: 256-bit maps).
    /// </summary>
    private int CountSubdomain(DnsGuardSettings g, int slot, ReadOnlySpan<byte> wire, int subdomainEnd, long nowMs)
    {
        var parent = Fnv(wire[subdomainEnd..]);
        var sub = Fnv(wire[..subdomainEnd]);
        var set = (int)((parent ^ ((uint)slot * 0x9E3779B1u)) & (uint)_setMask) * Ways;
        var victim = -1;
        for (var i = set; i < set + Ways; i++)
        {
            ref var w = ref _parents[i];
            if (w.Slot == slot && w.Parent == parent)
            {
                victim = i;
                break;
            }

            // Otherwise a free way, else the oldest window.
            if (victim < 0 || (_parents[victim].Slot >= 0 && (w.Slot < 0 || w.StartMs < _parents[victim].StartMs)))
            {
                victim = i;
            }
        }

        ref var e = ref _parents[victim];
        if (e.Slot != slot || e.Parent != parent)
        {
            if (e.Slot >= 0 && nowMs - e.StartMs < g.WindowMs)
            {
                _evicted++;
            }

            e = new ParentWindow { Slot = slot, Parent = parent, StartMs = nowMs };
        }
        else if (nowMs - e.StartMs >= g.WindowMs || nowMs < e.StartMs)
        {
            // A new window remembers the one just ended, so a slow tunnel is not forgotten at each window's start: the
            // count covers the last one to two windows.
            var follows = nowMs >= e.StartMs && nowMs - e.StartMs < 2 * g.WindowMs;
            e = new ParentWindow
            {
                Slot = slot,
                Parent = parent,
                StartMs = nowMs,
                Prev0 = follows ? e.Bits0 : 0,
                Prev1 = follows ? e.Bits1 : 0,
                Prev2 = follows ? e.Bits2 : 0,
                Prev3 = follows ? e.Bits3 : 0,
            };
        }

        var bit = sub & 255;
        switch (bit >> 6)
        {
            case 0: e.Bits0 |= 1UL << (int)(bit & 63); break;
            case 1: e.Bits1 |= 1UL << (int)(bit & 63); break;
            case 2: e.Bits2 |= 1UL << (int)(bit & 63); break;
            default: e.Bits3 |= 1UL << (int)(bit & 63); break;
        }

        return BitOperations.PopCount(e.Bits0 | e.Prev0) + BitOperations.PopCount(e.Bits1 | e.Prev1)
            + BitOperations.PopCount(e.Bits2 | e.Prev2) + BitOperations.PopCount(e.Bits3 | e.Prev3);
    }

    /// <summary>Shannon entropy of the label bytes (length octets skipped) of the subdomain part, when it is long enough to judge.</summary>
    private static bool HighEntropy(DnsGuardSettings g, ReadOnlySpan<byte> subdomain)
    {
        Span<int> counts = stackalloc int[128];
        counts.Clear();
        var n = 0;
        for (var at = 0; at < subdomain.Length; at += 1 + subdomain[at])
        {
            foreach (var b in subdomain.Slice(at + 1, Math.Min(subdomain[at], subdomain.Length - at - 1)))
            {
                counts[ToLower(b) & 127]++;
                n++;
            }
        }

        if (n < g.EntropyMinLength)
        {
            return false;
        }

        var entropy = 0.0;
        foreach (var c in counts)
        {
            if (c > 0)
            {
                var p = (double)c / n;
                entropy -= p * Math.Log2(p);
            }
        }

        return entropy > g.MaxEntropy;
    }

    /// <summary>Longest text <see cref="Escape"/> writes: every byte of a 255-byte name as <c>\DDD</c>.</summary>
    public const int MaxEscapedLength = 1024;

    /// <summary>
    /// The name's labels (<paramref name="wire"/>, uncompressed) as text for a report: labels joined by dots, each byte
    /// outside printable ASCII, a dot or a backslash inside a label written <c>\DDD</c> (RFC 1035 5.1), so a binary
    /// tunnel label is shown, not hidden, and cannot forge a field. Returns the length written.
    /// </summary>
    public static int Escape(ReadOnlySpan<byte> wire, Span<byte> destination)
    {
        var w = 0;
        for (var at = 0; at < wire.Length && wire[at] != 0; at += 1 + wire[at])
        {
            if (w > 0 && w < destination.Length)
            {
                destination[w++] = (byte)'.';
            }

            foreach (var b in wire.Slice(at + 1, Math.Min(wire[at], wire.Length - at - 1)))
            {
                if (b is > 0x20 and < 0x7F and not (byte)'.' and not (byte)'\\')
                {
                    if (w < destination.Length)
                    {
                        destination[w++] = ToLower(b);
                    }
                }
                else if (w + 4 <= destination.Length)
                {
                    destination[w++] = (byte)'\\';
                    destination[w++] = (byte)('0' + (b / 100));
                    destination[w++] = (byte)('0' + (b / 10 % 10));
                    destination[w++] = (byte)('0' + (b % 10));
                }
            }
        }

        return w;
    }

    /// <summary>FNV-1a over the bytes, ASCII letters folded to lower case (names compare case-insensitively).</summary>
    private static uint Fnv(ReadOnlySpan<byte> bytes)
    {
        var h = 2166136261u;
        foreach (var b in bytes)
        {
            h = (h ^ ToLower(b)) * 16777619u;
        }

        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte ToLower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    private struct ParentWindow
    {
        public int Slot; // -1: free
        public uint Parent;
        public long StartMs;
        public ulong Bits0;
        public ulong Bits1;
        public ulong Bits2;
        public ulong Bits3;
        public ulong Prev0;
        public ulong Prev1;
        public ulong Prev2;
        public ulong Prev3;
    }
}
