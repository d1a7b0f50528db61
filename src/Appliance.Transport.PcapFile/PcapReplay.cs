using System.Globalization;
using Appliance.Core;
using Appliance.Core.Engine;

namespace Appliance.Transport.PcapFile;

/// <summary>Where a replay writes besides its summary. Every member is optional.</summary>
public sealed record ReplayOutputs
{
    /// <summary>One line per frame: <c>index\tverdict\treason\trule</c> (0-based index, pass/drop, reason name, rule id or <c>-</c>).</summary>
    public TextWriter? Verdicts { get; init; }

    /// <summary>Receives the frames that passed.</summary>
    public string? PassedPath { get; init; }

    /// <summary>Receives the frames that were dropped.</summary>
    public string? DroppedPath { get; init; }
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

    /// <summary>Frames in the capture.</summary>
    public long Frames { get; }

    /// <summary>Frames that passed.</summary>
    public long FramesPassed { get; }

    /// <summary>Frames dropped.</summary>
    public long FramesDropped { get; }
}

/// <summary>
/// Runs a capture through one engine, in order, with the capture's own timestamps as the engine clock, so flows
/// open, match and expire as they did on the wire. Each frame's side comes from <see cref="CameraSideClassifier"/>.
/// </summary>
public static class PcapReplay
{
    /// <summary>Replays <paramref name="capturePath"/> (pcap or pcapng, Ethernet or raw IP).</summary>
    public static ReplayResult Run(string capturePath, PacketEngine engine, CameraSideClassifier classifier, ReplayOutputs? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(classifier);
        outputs ??= new ReplayOutputs();
        using var input = PcapFilePort.OpenRead(capturePath);
        using var passed = outputs.PassedPath is null ? null : PcapFileWriter.Create(outputs.PassedPath, input.LinkType);
        using var dropped = outputs.DroppedPath is null ? null : PcapFileWriter.Create(outputs.DroppedPath, input.LinkType);
        var state = new ReplayState(engine, classifier, input.LinkType, outputs.Verdicts, passed, dropped);
        var handler = new Handler(state);
        while (input.Receive(ref handler, 256) > 0)
        {
        }

        return state.Finish();
    }

    private readonly struct Handler(ReplayState state) : IFrameHandler
    {
        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata) => state.OnFrame(frame, metadata);
    }

    private sealed class ReplayState(PacketEngine engine, CameraSideClassifier classifier, PortLinkType linkType, TextWriter? verdicts, PcapFileWriter? passed, PcapFileWriter? dropped)
    {
        private readonly Dictionary<int, ReplayCameraSummary> _bySlot = [];
        private readonly long[] _reasons = new long[ReasonNames.Capacity];
        private ReplayCameraSummary? _noCamera;
        private long _index;
        private long _passed;
        private long _dropped;
        private long _lastMaintainMs = long.MinValue;

        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata)
        {
            var nowMs = metadata.TimestampMicros / 1000;
            Verdict verdict;
            if (frame.Length < metadata.WireLength)
            {
                // The capture cut it (snap length): the bridge would never forward it, and its headers may be partial.
                verdict = Verdict.Drop(Reason.TruncatedEthernet);
            }
            else if (linkType == PortLinkType.RawIp)
            {
                verdict = engine.ProcessPacket(frame, classifier.ClassifyPacket(frame), nowMs);
            }
            else
            {
                verdict = engine.ProcessFrame(frame, classifier.ClassifyFrame(frame), nowMs);
            }

            // Housekeeping as the bridge runs it: between batches, here at most once per captured millisecond.
            if (nowMs != _lastMaintainMs)
            {
                engine.Maintain(nowMs);
                _lastMaintainMs = nowMs;
            }

            _reasons[(int)verdict.Reason]++;
            Summary(verdict.CameraSlot).Add(verdict, metadata.WireLength);
            if (verdict.IsPass)
            {
                _passed++;
                passed?.Write(frame, metadata.TimestampMicros, metadata.WireLength);
            }
            else
            {
                _dropped++;
                dropped?.Write(frame, metadata.TimestampMicros, metadata.WireLength);
            }

            if (verdicts is not null)
            {
                var policy = engine.Policies.Current;
                var rule = policy is not null && (uint)verdict.RuleIndex < (uint)policy.RuleIds.Count ? policy.RuleIds[verdict.RuleIndex] : "-";
                verdicts.Write(_index.ToString(CultureInfo.InvariantCulture));
                verdicts.Write('\t');
                verdicts.Write(verdict.IsPass ? "pass" : "drop");
                verdicts.Write('\t');
                verdicts.Write(ReasonNames.Name(verdict.Reason));
                verdicts.Write('\t');
                verdicts.Write(rule);
                verdicts.Write('\n');
            }

            _index++;
        }

        public ReplayResult Finish()
        {
            var ordered = new List<ReplayCameraSummary>();
            var names = engine.Policies.Current?.Spec?.Cameras;
            var slots = engine.Policies.Slots;
            if (names is not null)
            {
                foreach (var camera in names)
                {
                    if (slots.TryGet(camera.Name, out var slot))
                    {
                        ordered.Add(Summary(slot));
                    }
                }
            }

            foreach (var (_, summary) in _bySlot)
            {
                if (!ordered.Contains(summary))
                {
                    ordered.Add(summary);
                }
            }

            if (_noCamera is not null)
            {
                ordered.Add(_noCamera);
            }

            verdicts?.Flush();
            return new ReplayResult(ordered, _reasons, _index, _passed, _dropped);
        }

        private ReplayCameraSummary Summary(int slot)
        {
            if (slot == Verdict.NoCamera)
            {
                return _noCamera ??= new ReplayCameraSummary("(no camera)");
            }

            if (!_bySlot.TryGetValue(slot, out var summary))
            {
                summary = new ReplayCameraSummary(engine.Policies.Slots.NameOf(slot) ?? $"(slot {slot})");
                _bySlot.Add(slot, summary);
            }

            return summary;
        }
    }
}
