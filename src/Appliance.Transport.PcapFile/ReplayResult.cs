using Appliance.Core;

namespace Appliance.Transport.PcapFile;

/// <summary>
/// Where a replay writes besides its summary. Every member is optional. Files named here are written under a
/// temporary name and renamed into place only when the whole capture was read and judged: a run that fails leaves
/// an existing file as it was.
/// </summary>
public sealed record ReplayOutputs
{
    /// <summary>
    /// One line per frame read: <c>index\tverdict\treason\trule</c> (0-based frame index in the capture,
    /// <c>pass</c>/<c>drop</c>, reason name, rule id or <c>-</c>); frames not judged say <c>skip</c> and why
    /// (<c>outbound-copy</c>, <c>unsupported-link-type</c>).
    /// </summary>
    public TextWriter? Verdicts { get; init; }

    /// <summary>Like <see cref="Verdicts"/>, into this file (temporary file, renamed on success).</summary>
    public string? VerdictsPath { get; init; }

    /// <summary>Receives the frames that passed (pcap; temporary file, renamed on success).</summary>
    public string? PassedPath { get; init; }

    /// <summary>Receives the frames that were dropped (pcap; temporary file, renamed on success).</summary>
    public string? DroppedPath { get; init; }

    /// <summary>Told about every judged frame, after the engine judged it (<c>camfw learn</c> aggregates from it).</summary>
    public IReplayObserver? Observer { get; init; }
}

/// <summary>Sees every frame a replay judged, in order, after the engine did.</summary>
public interface IReplayObserver
{
    /// <summary>
    /// One judged frame: an Ethernet frame, or a bare IP packet when <paramref name="rawIp"/>; the side it was judged
    /// from, the engine clock, the verdict and the frame's length on the wire.
    /// </summary>
    void OnJudged(ReadOnlySpan<byte> frame, bool rawIp, Side side, long nowMs, in Verdict verdict, int wireLength);
}

/// <summary>How a replay decides which bridge side each frame came from.</summary>
public sealed record ReplaySides
{
    /// <summary>
    /// Interfaces of a pcapng capture (if_name, or the 0-based interface index across the file) that are the
    /// bridge's camera port. When any is given, a frame's side is its interface's: camera side on these, uplink
    /// side on every other; the classifier is not asked. Empty: the classifier decides by addresses.
    /// </summary>
    public IReadOnlyCollection<string> CameraInterfaces { get; init; } = [];
}

/// <summary>How many frames a replay put on each side, and on what grounds.</summary>
public sealed record ReplaySideCounts
{
    /// <summary>Camera side: source is a listed camera.</summary>
    public long CameraByCameraAddress { get; init; }

    /// <summary>Camera side: source named with <c>--camera-side</c>.</summary>
    public long CameraByNamed { get; init; }

    /// <summary>Camera side: captured on a camera interface.</summary>
    public long CameraByInterface { get; init; }

    /// <summary>Uplink side: captured on another interface.</summary>
    public long UplinkByInterface { get; init; }

    /// <summary>Uplink side because nothing said camera side.</summary>
    public long UplinkByDefault { get; init; }
}

/// <summary>Frames and bytes of one camera (or of traffic no camera owns) in a replay.</summary>
public sealed class ReplayCameraSummary
{
    private readonly long[] _reasons = new long[ReasonNames.Capacity];

    internal ReplayCameraSummary(string name) => Name = name;

    /// <summary>Camera name, or <c>(no camera)</c>.</summary>
    public string Name { get; }

    /// <summary>Frames that passed (monitored ones included).</summary>
    public long FramesPassed { get; private set; }

    /// <summary>Wire bytes of <see cref="FramesPassed"/>.</summary>
    public long BytesPassed { get; private set; }

    /// <summary>Frames dropped.</summary>
    public long FramesDropped { get; private set; }

    /// <summary>Wire bytes of <see cref="FramesDropped"/>.</summary>
    public long BytesDropped { get; private set; }

    /// <summary>Drop reasons (and monitored would-be drops) by count, largest first.</summary>
    public IReadOnlyList<(Reason Reason, long Count)> DropReasons => Ranked(_reasons);

    internal void Add(in Verdict verdict, int length)
    {
        if (verdict.IsPass)
        {
            FramesPassed++;
            BytesPassed += length;
            if (verdict.Monitored)
            {
                _reasons[(int)verdict.Reason]++;
            }
        }
        else
        {
            FramesDropped++;
            BytesDropped += length;
            _reasons[(int)verdict.Reason]++;
        }
    }

    internal static IReadOnlyList<(Reason Reason, long Count)> Ranked(long[] counts)
    {
        var list = new List<(Reason, long)>();
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0)
            {
                list.Add(((Reason)i, counts[i]));
            }
        }

        list.Sort((x, y) => y.Item2 != x.Item2 ? y.Item2.CompareTo(x.Item2) : x.Item1.CompareTo(y.Item1));
        return list;
    }
}

/// <summary>What a replay decided.</summary>
public sealed class ReplayResult
{
    internal ReplayResult(IReadOnlyList<ReplayCameraSummary> cameras, long[] reasons, long frames, long passed, long dropped)
    {
        Cameras = cameras;
        ReasonTotals = ReplayCameraSummary.Ranked(reasons);
        Frames = frames;
        FramesPassed = passed;
        FramesDropped = dropped;
    }

    /// <summary>Per camera in policy order, then <c>(no camera)</c> when any frame had none.</summary>
    public IReadOnlyList<ReplayCameraSummary> Cameras { get; }

    /// <summary>Every reason (pass and drop) by count, largest first.</summary>
    public IReadOnlyList<(Reason Reason, long Count)> ReasonTotals { get; }

    /// <summary>Frames judged (passed plus dropped).</summary>
    public long Frames { get; }

    /// <summary>Frames that passed.</summary>
    public long FramesPassed { get; }

    /// <summary>Frames dropped.</summary>
    public long FramesDropped { get; }

    /// <summary>Frames read from the capture, judged or not.</summary>
    public long FramesRead { get; init; }

    /// <summary>Frames not judged because their interface's link type is neither Ethernet nor raw IP.</summary>
    public long FramesUnsupportedLinkType { get; init; }

    /// <summary>Frames not judged because they are a port's outbound copy of a frame another captured port received.</summary>
    public long FramesOutboundCopies { get; init; }

    /// <summary>How the engine clock treated the capture's timestamps.</summary>
    public ReplayClock Clock { get; init; }

    /// <summary>Which side frames were judged from.</summary>
    public ReplaySideCounts Sides { get; init; } = new();

    /// <summary>The capture's interfaces as messages name them (one, unnamed, for a pcap file).</summary>
    public IReadOnlyList<string> Interfaces { get; init; } = [];

    /// <summary>
    /// Why the replay is incomplete (capture cut short or damaged, frames it could not judge, an output it could
    /// not write), or null. Everything before the defect was judged and is counted above; outputs were not written.
    /// </summary>
    public string? Error { get; init; }

    /// <summary>True when the output files were written (renamed into place).</summary>
    public bool OutputsWritten { get; init; }
}
