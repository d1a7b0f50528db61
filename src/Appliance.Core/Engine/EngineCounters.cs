using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Core.Engine;

/// <summary>
/// Counters of one engine. The engine's data-plane thread is the only writer (plain increments, no locks, no
/// interlocked operations); other threads read them with volatile 64-bit reads, which are torn-free on 64-bit
/// platforms. A reader may see a frame counted in one counter and not yet in another: figures are for display.
/// </summary>
public sealed class EngineCounters
{
    private readonly CameraCounterBlock[] _cameras;
    private readonly long[] _reasons = new long[ReasonNames.Capacity];
    private long _frames;
    private long _bytes;
    private long _passed;
    private long _dropped;
    private long _monitored;
    private long _faults;
    private long _noDnsForPeer;

    /// <summary>Preallocates one counter block per camera slot (at least 1); slots beyond it are counted only in the totals.</summary>
    public EngineCounters(int cameraSlots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cameraSlots, 1);
        _cameras = new CameraCounterBlock[cameraSlots];
    }

    /// <summary>How many camera slots are counted.</summary>
    public int CameraSlots => _cameras.Length;

    /// <summary>Frames decided (passed or dropped).</summary>
    public long FramesTotal => Volatile.Read(ref _frames);

    /// <summary>Bytes of every frame decided, whole frames as received.</summary>
    public long BytesTotal => Volatile.Read(ref _bytes);

    /// <summary>Frames forwarded, including those passed only because of monitor mode and those a fast path forwarded.</summary>
    public long FramesPassed => Volatile.Read(ref _passed);

    /// <summary>Frames dropped, whatever the reason (malformed, policy, state, fault).</summary>
    public long FramesDropped => Volatile.Read(ref _dropped);

    /// <summary>Frames that passed only because of monitor mode.</summary>
    public long FramesMonitored => Volatile.Read(ref _monitored);

    /// <summary>Frames dropped because the engine faulted (a bug: it should stay 0).</summary>
    public long Faults => Volatile.Read(ref _faults);

    /// <summary>
    /// Connection attempts (TCP and UDP openers, admitted or not) from cameras to a public address the camera holds no
    /// DNS name for: what hard-coded phone-home looks like (<c>no-dns-for-peer</c>).
    /// </summary>
    public long NoDnsForPeer => Volatile.Read(ref _noDnsForPeer);

    /// <summary>Frames decided with <paramref name="reason"/> (for a monitored frame, the would-be drop reason).</summary>
    public long ForReason(Reason reason)
    {
        var i = (int)reason;
        return (uint)i < (uint)_reasons.Length ? Volatile.Read(ref _reasons[i]) : 0;
    }

    /// <summary>The counters of the camera in <paramref name="slot"/> (zero for an unused or out-of-range slot).</summary>
    public CameraCounters ForCamera(int slot)
    {
        if ((uint)slot >= (uint)_cameras.Length)
        {
            return default;
        }

        ref var c = ref _cameras[slot];
        return new CameraCounters(
            Volatile.Read(ref c.FramesPassed),
            Volatile.Read(ref c.BytesPassed),
            Volatile.Read(ref c.FramesDropped),
            Volatile.Read(ref c.BytesDropped),
            Volatile.Read(ref c.FramesMonitored),
            Volatile.Read(ref c.LastSeenMs),
            Volatile.Read(ref c.NoDnsForPeer));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Record(Decision verdict, int length, long nowMs)
    {
        _frames++;
        _bytes += length;
        var reason = (int)verdict.Reason;
        if ((uint)reason < (uint)_reasons.Length)
        {
            _reasons[reason]++;
        }

        var passed = verdict.IsPass;
        if (passed)
        {
            _passed++;
        }
        else
        {
            _dropped++;
        }

        if (verdict.Monitored)
        {
            _monitored++;
        }

        var slot = verdict.CameraSlot;
        if ((uint)slot < (uint)_cameras.Length)
        {
            ref var c = ref _cameras[slot];
            if (passed)
            {
                c.FramesPassed++;
                c.BytesPassed += length;
            }
            else
            {
                c.FramesDropped++;
                c.BytesDropped += length;
            }

            if (verdict.Monitored)
            {
                c.FramesMonitored++;
            }

            c.LastSeenMs = nowMs;
        }
    }

    internal void RecordFault() => _faults++;

    internal void RecordNoDnsForPeer(int slot)
    {
        _noDnsForPeer++;
        if ((uint)slot < (uint)_cameras.Length)
        {
            _cameras[slot].NoDnsForPeer++;
        }
    }

    /// <summary>Frames a fast path forwarded for an established flow of camera <paramref name="slot"/>: passed, as <see cref="Reason.EstablishedFlow"/>.</summary>
    internal void RecordOffloaded(int slot, long frames, long bytes, long lastSeenMs)
    {
        _frames += frames;
        _bytes += bytes;
        _reasons[(int)Reason.EstablishedFlow] += frames;
        _passed += frames;
        if ((uint)slot < (uint)_cameras.Length)
        {
            ref var c = ref _cameras[slot];
            c.FramesPassed += frames;
            c.BytesPassed += bytes;
            c.LastSeenMs = Math.Max(c.LastSeenMs, lastSeenMs);
        }
    }

    // One camera's counters together: a frame touches one cache line (56 bytes of 64).
    [StructLayout(LayoutKind.Sequential)]
    private struct CameraCounterBlock
    {
        public long FramesPassed;
        public long BytesPassed;
        public long FramesDropped;
        public long BytesDropped;
        public long FramesMonitored;
        public long LastSeenMs;
        public long NoDnsForPeer;
    }
}

/// <summary>A camera's counters as read at one moment.</summary>
/// <param name="FramesPassed">Frames that passed (including monitored would-be drops).</param>
/// <param name="BytesPassed">Their bytes.</param>
/// <param name="FramesDropped">Frames dropped.</param>
/// <param name="BytesDropped">Their bytes.</param>
/// <param name="FramesMonitored">Frames that passed only because the camera is in monitor mode.</param>
/// <param name="LastSeenMs">Engine clock of the camera's last frame, 0 if never seen.</param>
/// <param name="NoDnsForPeer">Its connection attempts to public addresses it holds no DNS name for (see <see cref="EngineCounters.NoDnsForPeer"/>).</param>
public readonly record struct CameraCounters(
    long FramesPassed,
    long BytesPassed,
    long FramesDropped,
    long BytesDropped,
    long FramesMonitored,
    long LastSeenMs,
    long NoDnsForPeer = 0);
