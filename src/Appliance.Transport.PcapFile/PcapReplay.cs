using System.Globalization;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Transport.PcapFile.Pcapng;

namespace Appliance.Transport.PcapFile;

/// <summary>
/// Runs a capture through one engine, in order, with the capture's own timestamps as the engine clock (made
/// monotonic and non-negative by <see cref="ReplayClock"/>), so flows open, match and expire as they did on the wire.
/// <para>
/// Reading: pcap files through libpcap; pcapng files through <see cref="PcapngReader"/>, which takes what libpcap
/// refuses (several interfaces and sections, either byte order, per-interface link type, snapshot length and
/// timestamp resolution). A capture that is cut short or damaged part-way is judged up to the defect and the result
/// says what went wrong in <see cref="ReplayResult.Error"/>, next to the counts of what was judged.
/// </para>
/// <para>
/// Sides: a frame's bridge side comes from its interface when <see cref="ReplaySides.CameraInterfaces"/> names the
/// camera port(s) of a multi-port capture, otherwise from <see cref="CameraSideClassifier"/> (listed cameras and
/// named camera-side devices are camera side, everything else uplink). In a capture of several ports a frame the
/// bridge forwarded appears twice, received on one port and sent on the other; a frame the capture marks as sent
/// (pcapng epb_flags outbound) is therefore not judged again when the capture has more than one interface.
/// </para>
/// </summary>
public static class PcapReplay
{
    private const string SkipOutbound = "outbound-copy";
    private const string SkipLinkType = "unsupported-link-type";

    /// <summary>Replays <paramref name="capturePath"/> (pcap or pcapng, Ethernet or raw IP interfaces).</summary>
    /// <exception cref="PacketPortException">The capture cannot be opened at all (missing, not a capture, a pcap file of another link type), or an output would overwrite the capture or another output.</exception>
    /// <exception cref="IOException">An output's directory is not writable.</exception>
    /// <exception cref="UnauthorizedAccessException">An output's directory is not writable.</exception>
    public static ReplayResult Run(string capturePath, PacketEngine engine, CameraSideClassifier classifier, ReplayOutputs? outputs = null, ReplaySides? sides = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(capturePath);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(classifier);
        outputs ??= new ReplayOutputs();
        sides ??= new ReplaySides();
        CheckDistinct(capturePath, outputs);

        var isPcapng = IsPcapng(capturePath);
        using var files = new OutputSet(outputs);
        var state = new ReplayState(engine, classifier, sides, files);
        string? error;
        if (isPcapng)
        {
            error = ReadPcapng(capturePath, state);
        }
        else
        {
            error = ReadLibpcap(capturePath, state, files);
        }

        error ??= state.IncompleteReason();
        error ??= files.Problem;
        var written = false;
        if (error is null)
        {
            error = files.Commit(state.FirstLinkType);
            written = error is null;
        }

        return state.Finish(error, written);
    }

    private static bool IsPcapng(string path)
    {
        Span<byte> start = stackalloc byte[4];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return stream.ReadAtLeast(start, 4, throwOnEndOfStream: false) == 4 && PcapngReader.IsPcapng(start);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PacketPortException($"Cannot read capture {path}: {ex.Message}");
        }
    }

    private static void CheckDistinct(string capturePath, ReplayOutputs outputs)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal) { [Path.GetFullPath(capturePath)] = "the capture" };
        foreach (var (path, what) in new[] { (outputs.VerdictsPath, "--verdicts"), (outputs.PassedPath, "--write-passed"), (outputs.DroppedPath, "--write-dropped") })
        {
            if (path is null)
            {
                continue;
            }

            var full = Path.GetFullPath(path);
            if (seen.TryGetValue(full, out var other))
            {
                throw new PacketPortException($"{what} {path} is also {other}; every output needs a file of its own.");
            }

            seen.Add(full, what);
        }
    }

    private static string? ReadPcapng(string path, ReplayState state)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PacketPortException($"Cannot read capture {path}: {ex.Message}");
        }

        using var reader = new PcapngReader(stream);
        PcapngReadStatus status;
        while ((status = reader.Read(out var packet)) == PcapngReadStatus.Packet)
        {
            var iface = packet.Interface;
            state.Interfaces = reader.Interfaces;
            state.OnFrame(packet.Data, packet.WireLength, packet.TimestampMicros, packet.HasTimestamp, iface.LinkType, iface.Index, iface.Name, packet.Direction);
        }

        state.Interfaces = reader.Interfaces;
        return status == PcapngReadStatus.Error ? $"{path}: {reader.Error}" : null;
    }

    private static string? ReadLibpcap(string path, ReplayState state, OutputSet files)
    {
        using var input = PcapFilePort.OpenRead(path);
        files.PreferLinkType(input.DataLink);
        var handler = new Handler(state, input.DataLink);
        try
        {
            while (input.Receive(ref handler, 256) > 0)
            {
            }
        }
        catch (PacketPortException ex)
        {
            // libpcap stops at the first damage (a file cut short, a record longer than the snapshot length):
            // everything before it was judged and stays counted.
            return ex.Message;
        }

        return null;
    }

    private readonly struct Handler(ReplayState state, int linkType) : IFrameHandler
    {
        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata)
            => state.OnFrame(frame, metadata.WireLength, metadata.TimestampMicros, hasTimestamp: true, linkType, 0, null, PacketDirection.Unknown);
    }

    /// <summary>The output files of one run: reserved up front, written as frames are judged, renamed at the end.</summary>
    private sealed class OutputSet : IDisposable
    {
        private readonly TextWriter? _callerVerdicts;
        private readonly AtomicOutputFile? _verdictsFile;
        private readonly StreamWriter? _verdicts;
        private readonly AtomicOutputFile? _passedFile;
        private readonly AtomicOutputFile? _droppedFile;
        private PcapFileWriter? _passed;
        private PcapFileWriter? _dropped;
        private int _linkType = -1;

        public OutputSet(ReplayOutputs outputs)
        {
            Observer = outputs.Observer;
            _callerVerdicts = outputs.Verdicts;
            try
            {
                if (outputs.VerdictsPath is not null)
                {
                    _verdictsFile = AtomicOutputFile.Reserve(outputs.VerdictsPath);
                    _verdicts = new StreamWriter(new FileStream(_verdictsFile.TemporaryPath, FileMode.Truncate, FileAccess.Write), bufferSize: 1 << 16) { NewLine = "\n" };
                }

                _passedFile = outputs.PassedPath is null ? null : AtomicOutputFile.Reserve(outputs.PassedPath);
                _droppedFile = outputs.DroppedPath is null ? null : AtomicOutputFile.Reserve(outputs.DroppedPath);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public bool WantsVerdicts => _callerVerdicts is not null || _verdicts is not null;

        public IReplayObserver? Observer { get; }

        /// <summary>Why an output cannot be written as asked, once something made it so.</summary>
        public string? Problem { get; private set; }

        public void PreferLinkType(int linkType) => _linkType = _linkType < 0 ? linkType : _linkType;

        public void Verdict(string line)
        {
            _callerVerdicts?.Write(line);
            _verdicts?.Write(line);
        }

        public void Frame(bool pass, ReadOnlySpan<byte> frame, int linkType, long micros, int wireLength)
        {
            var file = pass ? _passedFile : _droppedFile;
            if (file is null)
            {
                return;
            }

            PreferLinkType(linkType);
            if (Normalise(linkType) != Normalise(_linkType))
            {
                // One pcap file has one link type; frames of another interface kind cannot go in without lying.
                Problem ??= $"{file.Path} holds {LinkTypes.Describe(_linkType)} frames and cannot take a {LinkTypes.Describe(linkType)} frame; replay each interface kind on its own";
                return;
            }

            if (pass)
            {
                _passed ??= Open(file);
                _passed?.Write(frame, micros, wireLength);
            }
            else
            {
                _dropped ??= Open(file);
                _dropped?.Write(frame, micros, wireLength);
            }
        }

        public string? Commit(int firstLinkType)
        {
            PreferLinkType(firstLinkType < 0 ? LinkTypes.Ethernet : firstLinkType);
            try
            {
                _callerVerdicts?.Flush();
                if (_verdicts is not null)
                {
                    _verdicts.Flush();
                    ((FileStream)_verdicts.BaseStream).Flush(flushToDisk: true);
                    _verdicts.Dispose();
                    _verdictsFile!.Commit();
                }

                CommitPcap(ref _passed, _passedFile);
                CommitPcap(ref _dropped, _droppedFile);
                return Problem;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PacketPortException)
            {
                return $"writing the outputs failed: {ex.Message}";
            }
        }

        public void Dispose()
        {
            _verdicts?.Dispose();
            _passed?.Dispose();
            _dropped?.Dispose();
            _verdictsFile?.Dispose();
            _passedFile?.Dispose();
            _droppedFile?.Dispose();
        }

        private static int Normalise(int linkType) => LinkTypes.TryMap(linkType, out var kind) ? (int)kind : linkType;

        private void CommitPcap(ref PcapFileWriter? writer, AtomicOutputFile? file)
        {
            if (file is null)
            {
                return;
            }

            writer ??= Open(file);
            if (writer is null)
            {
                throw new PacketPortException(Problem ?? $"cannot write {file.Path}");
            }

            writer.Flush();
            writer.Dispose();
            writer = null;
            file.Commit();
        }

        private PcapFileWriter? Open(AtomicOutputFile file)
        {
            try
            {
                return PcapFileWriter.Create(file.TemporaryPath, LinkTypes.TryMap(_linkType, out var kind) ? kind : PortLinkType.Ethernet);
            }
            catch (PacketPortException ex)
            {
                Problem ??= $"cannot write {file.Path}: {ex.Message}";
                return null;
            }
        }
    }

    private sealed class ReplayState(PacketEngine engine, CameraSideClassifier classifier, ReplaySides sides, OutputSet files)
    {
        private readonly Dictionary<int, ReplayCameraSummary> _bySlot = [];
        private readonly long[] _reasons = new long[ReasonNames.Capacity];
        private readonly List<sbyte> _isCameraInterface = [];
        private readonly Dictionary<int, long> _unsupported = [];
        private readonly HashSet<string> _matchedNames = new(StringComparer.Ordinal);
        private ReplayCameraSummary? _noCamera;
        private ReplayClock _clock;
        private long _read;
        private long _judged;
        private long _passed;
        private long _dropped;
        private long _outbound;
        private long _cameraByAddress;
        private long _cameraByNamed;
        private long _cameraByInterface;
        private long _uplinkByInterface;
        private long _uplinkByDefault;
        private long _lastMaintainMs = long.MinValue;

        /// <summary>The capture's interfaces (pcapng), or null for a pcap file (one unnamed interface).</summary>
        public IReadOnlyList<PcapngInterface>? Interfaces { get; set; }

        /// <summary>Link type of the first frame read, or -1.</summary>
        public int FirstLinkType { get; private set; } = -1;

        public void OnFrame(ReadOnlySpan<byte> frame, int wireLength, long timestampMicros, bool hasTimestamp, int linkType, int interfaceIndex, string? interfaceName, PacketDirection direction)
        {
            var index = _read++;
            if (FirstLinkType < 0)
            {
                FirstLinkType = linkType;
            }

            if (!LinkTypes.TryMap(linkType, out var kind))
            {
                _unsupported[interfaceIndex] = _unsupported.GetValueOrDefault(interfaceIndex) + 1;
                Skip(index, SkipLinkType);
                return;
            }

            if (direction == PacketDirection.Outbound && Interfaces is { Count: > 1 })
            {
                _outbound++;
                Skip(index, SkipOutbound);
                return;
            }

            var nowMicros = _clock.Advance(timestampMicros, hasTimestamp);
            var nowMs = nowMicros / 1000;
            var side = SideOf(frame, kind, interfaceIndex, interfaceName);
            Verdict verdict;
            if (frame.Length < wireLength)
            {
                // The capture cut it (snap length): the bridge would never forward it, and its headers may be partial.
                verdict = Core.Verdict.Drop(Reason.TruncatedEthernet);
            }
            else if (kind == PortLinkType.RawIp)
            {
                verdict = engine.ProcessPacket(frame, side, nowMs);
            }
            else
            {
                verdict = engine.ProcessFrame(frame, side, nowMs);
            }

            // Housekeeping as the bridge runs it: between batches, here at most once per captured millisecond.
            if (nowMs != _lastMaintainMs)
            {
                engine.Maintain(nowMs);
                _lastMaintainMs = nowMs;
            }

            _judged++;
            _reasons[(int)verdict.Reason]++;
            Summary(verdict.CameraSlot).Add(verdict, wireLength);
            if (verdict.IsPass)
            {
                _passed++;
            }
            else
            {
                _dropped++;
            }

            files.Observer?.OnJudged(frame, kind == PortLinkType.RawIp, side, nowMs, in verdict, wireLength);
            files.Frame(verdict.IsPass, frame, linkType, nowMicros, wireLength);
            if (files.WantsVerdicts)
            {
                var policy = engine.Policies.Current;
                var rule = policy is not null && (uint)verdict.RuleIndex < (uint)policy.RuleIds.Count ? policy.RuleIds[verdict.RuleIndex] : "-";
                files.Verdict(string.Create(CultureInfo.InvariantCulture, $"{index}\t{(verdict.IsPass ? "pass" : "drop")}\t{ReasonNames.Name(verdict.Reason)}\t{rule}\n"));
            }
        }

        /// <summary>Why not every frame could be judged as asked, or null.</summary>
        public string? IncompleteReason()
        {
            var problems = new List<string>();
            foreach (var (index, count) in _unsupported.OrderBy(x => x.Key))
            {
                var what = Interfaces is { } list && index < list.Count ? list[index].ToString() : "the capture";
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{count} frame{(count == 1 ? string.Empty : "s")} on {what} not judged: replay judges Ethernet and raw IP only"));
            }

            foreach (var name in sides.CameraInterfaces)
            {
                if (!_matchedNames.Contains(name))
                {
                    var known = Interfaces is { Count: > 0 } list
                        ? string.Join(", ", list.Select(i => i.Name is null ? i.Index.ToString(CultureInfo.InvariantCulture) : $"{i.Index} {i.Name}"))
                        : "one unnamed interface, 0";
                    problems.Add($"--camera-interface {name} names no interface of the capture (it has: {known})");
                }
            }

            return problems.Count == 0 ? null : string.Join("; ", problems);
        }

        public ReplayResult Finish(string? error, bool written)
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

            return new ReplayResult(ordered, _reasons, _judged, _passed, _dropped)
            {
                FramesRead = _read,
                FramesUnsupportedLinkType = _unsupported.Values.Sum(),
                FramesOutboundCopies = _outbound,
                Clock = _clock,
                Sides = new ReplaySideCounts
                {
                    CameraByCameraAddress = _cameraByAddress,
                    CameraByNamed = _cameraByNamed,
                    CameraByInterface = _cameraByInterface,
                    UplinkByInterface = _uplinkByInterface,
                    UplinkByDefault = _uplinkByDefault,
                },
                Interfaces = Interfaces is { } list ? [.. list.Select(i => i.ToString())] : [],
                Error = error,
                OutputsWritten = written,
            };
        }

        private Side SideOf(ReadOnlySpan<byte> frame, PortLinkType kind, int interfaceIndex, string? interfaceName)
        {
            if (sides.CameraInterfaces.Count > 0)
            {
                if (IsCameraInterface(interfaceIndex, interfaceName))
                {
                    _cameraByInterface++;
                    return Side.Camera;
                }

                _uplinkByInterface++;
                return Side.Uplink;
            }

            var side = kind == PortLinkType.RawIp ? classifier.ClassifyPacket(frame, out var basis) : classifier.ClassifyFrame(frame, out basis);
            switch (basis)
            {
                case SideBasis.CameraAddress:
                    _cameraByAddress++;
                    break;
                case SideBasis.NamedCameraSide:
                    _cameraByNamed++;
                    break;
                default:
                    _uplinkByDefault++;
                    break;
            }

            return side;
        }

        private bool IsCameraInterface(int index, string? name)
        {
            while (_isCameraInterface.Count <= index)
            {
                _isCameraInterface.Add(-1);
            }

            if (_isCameraInterface[index] < 0)
            {
                var match = false;
                var number = index.ToString(CultureInfo.InvariantCulture);
                foreach (var wanted in sides.CameraInterfaces)
                {
                    if (wanted == number || (name is not null && wanted == name))
                    {
                        _matchedNames.Add(wanted);
                        match = true;
                    }
                }

                _isCameraInterface[index] = match ? (sbyte)1 : (sbyte)0;
            }

            return _isCameraInterface[index] == 1;
        }

        private void Skip(long index, string why)
        {
            if (files.WantsVerdicts)
            {
                files.Verdict(string.Create(CultureInfo.InvariantCulture, $"{index}\tskip\t{why}\t-\n"));
            }
        }

        private ReplayCameraSummary Summary(int slot)
        {
            if (slot == Core.Verdict.NoCamera)
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
