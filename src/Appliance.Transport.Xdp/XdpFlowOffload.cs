using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Flows;
using Appliance.Core.Policy;

namespace Appliance.Transport.Xdp;

/// <summary>
/// The XDP fast path of one bridge pair: <c>flow_offload.bpf.o</c> loaded once and attached in native (driver) mode
/// to both ports through BPF links this process owns, so the kernel detaches the programs the moment the process
/// ends, however it ends (a link is released with its last file descriptor; nothing is pinned). Frames that the
/// program does not forward go up unchanged to the libpcap sockets, i.e. to the engine.
/// <para>
/// It implements the engine's <see cref="IFlowOffload"/>: the engine offers each established flow once (installed
/// into the BPF hash map with the policy version and MAC addresses of the frame that qualified it) and withdraws it
/// when it closes, expires, is revoked or removed. <see cref="Sweep"/>, run from the data plane's housekeeping,
/// reads the map's per-flow counters and last-seen times back into the engine (counters, flow deadlines, answered
/// datagram flows), so expiry, per-camera counters, /metrics and the flow API stay exact. A policy swap writes the
/// new version into the program's version map before the policy is published: from the next frame on every
/// installed flow goes up to the engine, which re-checks it and offers it again under the new version.
/// </para>
/// Offload, Withdraw and Sweep run on the data-plane thread only; the version update runs on the swapping thread.
/// </summary>
public sealed partial class XdpFlowOffload : IFlowOffload, IDisposable
{
    /// <summary>The BPF object's file name, shipped next to this assembly.</summary>
    public const string ObjectFileName = "flow_offload.bpf.o";

    /// <summary>Most flows the BPF map holds (its <c>max_entries</c>); further offers stay on the engine's path.</summary>
    public const int MapCapacity = 65536;

    private const int BatchSize = 1024;
    private const int EPERM = 1;
    private const int EACCES = 13;

    private readonly PolicyHolder _policies;
    private readonly Action<CompiledPolicy> _onSwapping;
    private readonly Dictionary<BpfFlowKey, Shadow> _shadow = new(MapCapacity);
    private readonly BpfFlowKey[] _batchKeys = new BpfFlowKey[BatchSize];
    private readonly BpfFlowValue[] _batchValues = new BpfFlowValue[BatchSize];
    private readonly BpfFlowKey[] _stale = new BpfFlowKey[MapCapacity];
    private readonly Lock _lifecycle = new();
    private readonly long _sweepEveryTicks;
    private nint _object;
    private int _flowsFd = -1;
    private int _policyFd = -1;
    private int _cameraLink = -1;
    private int _uplinkLink = -1;
    private PacketEngine? _engine;
    private long _nextSweep;
    private volatile bool _disposed;
    private long _installed;
    private long _withdrawn;
    private long _installFailures;
    private long _framesForwarded;
    private long _bytesForwarded;
    private int _entries;

    private XdpFlowOffload(PolicyHolder policies, TimeSpan sweepInterval, string cameraInterface, string uplinkInterface)
    {
        _policies = policies;
        _onSwapping = OnSwapping;
        _sweepEveryTicks = (long)(sweepInterval.TotalSeconds * Stopwatch.Frequency);
        CameraInterface = cameraInterface;
        UplinkInterface = uplinkInterface;
    }

    /// <summary>The camera-side port.</summary>
    public string CameraInterface { get; }

    /// <summary>The uplink-side port.</summary>
    public string UplinkInterface { get; }

    /// <summary>Flows installed (offers, re-offers after a policy swap included).</summary>
    public long Installed => Volatile.Read(ref _installed);

    /// <summary>Flows taken out of the map because the engine withdrew them or no longer had them.</summary>
    public long Withdrawn => Volatile.Read(ref _withdrawn);

    /// <summary>Offers refused (map full, or the kernel refused the update): those flows stay on the engine's path.</summary>
    public long InstallFailures => Volatile.Read(ref _installFailures);

    /// <summary>Flows in the map now (as of the data-plane thread's last change; readable from any thread).</summary>
    public int Entries => Volatile.Read(ref _entries);

    /// <summary>Frames the kernel forwarded for installed flows, as accounted so far (by sweeps and withdrawals).</summary>
    public long FramesForwarded => Volatile.Read(ref _framesForwarded);

    /// <summary>Their bytes.</summary>
    public long BytesForwarded => Volatile.Read(ref _bytesForwarded);

    /// <summary>
    /// Loads the program and attaches it natively to both ports of a pair. Throws <see cref="XdpUnavailableException"/>
    /// (with the kernel's reason) when that is not possible: no BPF object, no permission, a kernel or driver without
    /// native XDP; nothing is left attached then.
    /// </summary>
    /// <param name="cameraInterface">The camera-side port.</param>
    /// <param name="uplinkInterface">The uplink-side port.</param>
    /// <param name="policies">The policy holder whose swaps revoke installed flows.</param>
    /// <param name="sweepInterval">How often counters and last-seen times are read back; default 0.5 s.</param>
    /// <param name="objectPath">The BPF object; default <see cref="ObjectFileName"/> next to this assembly.</param>
    public static XdpFlowOffload Attach(string cameraInterface, string uplinkInterface, PolicyHolder policies, TimeSpan? sweepInterval = null, string? objectPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(cameraInterface);
        ArgumentException.ThrowIfNullOrEmpty(uplinkInterface);
        ArgumentNullException.ThrowIfNull(policies);
        if (!OperatingSystem.IsLinux())
        {
            throw new XdpUnavailableException("XDP needs Linux");
        }

        var offload = new XdpFlowOffload(policies, sweepInterval ?? TimeSpan.FromMilliseconds(500), cameraInterface, uplinkInterface);
        try
        {
            offload.Load(objectPath ?? Path.Combine(AppContext.BaseDirectory, ObjectFileName));
            return offload;
        }
        catch
        {
            offload.Dispose();
            throw;
        }
    }

    /// <summary>Connects this fast path to the pair's engine (once, before traffic).</summary>
    public void Bind(PacketEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (!ReferenceEquals(engine.Policies, _policies))
        {
            throw new ArgumentException("The engine must decide with the policy holder the offload follows.", nameof(engine));
        }

        if (Interlocked.CompareExchange(ref _engine, engine, null) is not null)
        {
            throw new InvalidOperationException("The offload is bound to an engine already.");
        }

        engine.AttachOffload(this);
    }

    private unsafe void Load(string objectPath)
    {
        if (!File.Exists(objectPath))
        {
            throw new XdpUnavailableException($"the XDP program {objectPath} is missing (built with clang from bpf/flow_offload.bpf.c)");
        }

        var camera = IfIndex(CameraInterface);
        var uplink = IfIndex(UplinkInterface);
        _object = LibBpf.bpf_object__open_file(objectPath, null);
        if (_object == 0)
        {
            throw new XdpUnavailableException($"libbpf cannot open {objectPath}: {LibBpf.Describe(Marshal.GetLastPInvokeError())}");
        }

        var rc = LibBpf.bpf_object__load(_object);
        if (rc < 0)
        {
            // EPERM: no CAP_BPF, or bpf(2) filtered out (the packaged unit without its XDP drop-in). EACCES: the verifier
            // refused the program; libbpf has written its log to standard error (the journal, under systemd).
            var hint = -rc switch
            {
                EPERM => "; camfw needs CAP_BPF, CAP_NET_ADMIN and the bpf system call for it: under camfw.service, install /usr/share/camfw/xdp-offload.conf as a drop-in (README, \"XDP fast path\")",
                EACCES => "; the kernel's verifier refused it (libbpf wrote the verifier's log to standard error)",
                _ => "",
            };
            throw new XdpUnavailableException($"the kernel refused to load the XDP program: {LibBpf.Describe(-rc)}{hint}");
        }

        var program = LibBpf.bpf_object__find_program_by_name(_object, "flow_offload");
        var programFd = program == 0 ? -1 : LibBpf.bpf_program__fd(program);
        _flowsFd = LibBpf.bpf_object__find_map_fd_by_name(_object, "flows");
        _policyFd = LibBpf.bpf_object__find_map_fd_by_name(_object, "policy");
        var portsFd = LibBpf.bpf_object__find_map_fd_by_name(_object, "ports");
        var txFd = LibBpf.bpf_object__find_map_fd_by_name(_object, "tx");
        if (programFd < 0 || _flowsFd < 0 || _policyFd < 0 || portsFd < 0 || txFd < 0)
        {
            throw new XdpUnavailableException($"{objectPath} is not camfw's flow offload program (program or maps missing)");
        }

        // Both maps are indexed by side (0 camera, 1 uplink): ports[side] is that side's port, tx[side] where its
        // frames go.
        uint cameraSide = 0, uplinkSide = 1;
        Check(LibBpf.bpf_map_update_elem(portsFd, &cameraSide, &camera, LibBpf.UpdateAny), "ports");
        Check(LibBpf.bpf_map_update_elem(portsFd, &uplinkSide, &uplink, LibBpf.UpdateAny), "ports");
        Check(LibBpf.bpf_map_update_elem(txFd, &cameraSide, &uplink, LibBpf.UpdateAny), $"the device map ({UplinkInterface} cannot take redirected frames)");
        Check(LibBpf.bpf_map_update_elem(txFd, &uplinkSide, &camera, LibBpf.UpdateAny), $"the device map ({CameraInterface} cannot take redirected frames)");

        // The version in force before anything attaches, and every later one before it is published.
        _policies.Swapping += _onSwapping;
        WriteVersion(_policies.Current?.Version ?? 0);

        _cameraLink = AttachLink(programFd, camera, CameraInterface);
        _uplinkLink = AttachLink(programFd, uplink, UplinkInterface);
    }

    private static unsafe int AttachLink(int programFd, uint ifindex, string name)
    {
        var options = new LibBpf.LinkCreateOptions { Size = (nuint)sizeof(LibBpf.LinkCreateOptions), Flags = LibBpf.XdpFlagsDriverMode };
        var fd = LibBpf.bpf_link_create(programFd, (int)ifindex, LibBpf.AttachXdp, &options);
        if (fd < 0)
        {
            var why = -fd switch
            {
                95 => "its driver has no native XDP", // EOPNOTSUPP
                16 => "another XDP program is attached to it", // EBUSY
                _ => LibBpf.Describe(-fd),
            };
            throw new XdpUnavailableException($"cannot attach the XDP program natively to {name}: {why}");
        }

        return fd;
    }

    private static uint IfIndex(string name)
    {
        var index = LibBpf.if_nametoindex(name);
        return index != 0 ? index : throw new XdpUnavailableException($"interface {name} does not exist");
    }

    private static void Check(int rc, string what)
    {
        if (rc < 0)
        {
            throw new XdpUnavailableException($"cannot fill {what}: {LibBpf.Describe(-rc)}");
        }
    }

    private void OnSwapping(CompiledPolicy next) => WriteVersion(next.Version);

    private unsafe void WriteVersion(uint version)
    {
        lock (_lifecycle)
        {
            if (_disposed || _policyFd < 0)
            {
                return;
            }

            uint zero = 0;
            if (LibBpf.bpf_map_update_elem(_policyFd, &zero, &version, LibBpf.UpdateAny) < 0)
            {
                // The fast path cannot follow the policy any more: it must stop replaying the old one at once.
                DetachLinks();
            }
        }
    }

    /// <inheritdoc />
    public unsafe void Offload(in OffloadedFlow flow)
    {
        if (_disposed)
        {
            return;
        }

        var key = ToKey(in flow);
        var value = default(BpfFlowValue);
        ref var shadow = ref CollectionsMarshal.GetValueRefOrNullRef(_shadow, key);
        var known = !Unsafe.IsNullRef(ref shadow);
        var carried = false;
        if (known)
        {
            // Re-offered (a new policy version): nothing was forwarded since the version changed, so carrying the
            // counters over races with nothing.
            carried = LibBpf.bpf_map_lookup_elem(_flowsFd, &key, &value) == 0;
            if (!carried)
            {
                value = default;
                shadow.Frames = 0;
                shadow.Bytes = 0;
            }
        }
        else if (_shadow.Count >= MapCapacity)
        {
            _installFailures++;
            return;
        }

        // Where the engine has each side's sequence end; the program moves them on. A re-offered entry keeps what the
        // kernel followed since, unless the engine is further on (it saw segments the kernel passed up).
        value.CameraSequenceEnd = carried ? Furthest(value.CameraSequenceEnd, flow.CameraSequenceEnd) : flow.CameraSequenceEnd;
        value.PeerSequenceEnd = carried ? Furthest(value.PeerSequenceEnd, flow.PeerSequenceEnd) : flow.PeerSequenceEnd;
        value.PolicyVersion = flow.PolicyVersion;
        value.Flags = 0;
        WriteMac(flow.CameraMac, value.CameraMac);
        WriteMac(flow.PeerMac, value.PeerMac);
        if (LibBpf.bpf_map_update_elem(_flowsFd, &key, &value, LibBpf.UpdateAny) < 0)
        {
            Volatile.Write(ref _installFailures, _installFailures + 1);
            if (known)
            {
                _shadow.Remove(key);
                PublishEntries();
            }

            return;
        }

        if (!known)
        {
            _shadow.Add(key, new Shadow { Slot = flow.CameraSlot });
            PublishEntries();
        }

        Volatile.Write(ref _installed, _installed + 1);
    }

    /// <inheritdoc />
    public unsafe bool TryReadSequenceEnds(in OffloadedFlow flow, out uint cameraEnd, out uint peerEnd)
    {
        cameraEnd = 0;
        peerEnd = 0;
        if (_disposed)
        {
            return false;
        }

        // One lookup, only for a FIN or RST of an offloaded flow (or when one leaves the fast path): not per frame.
        var key = ToKey(in flow);
        var value = default(BpfFlowValue);
        if (LibBpf.bpf_map_lookup_elem(_flowsFd, &key, &value) != 0)
        {
            return false;
        }

        cameraEnd = value.CameraSequenceEnd;
        peerEnd = value.PeerSequenceEnd;
        return true;
    }

    /// <inheritdoc />
    public unsafe void Withdraw(in OffloadedFlow flow)
    {
        if (_disposed)
        {
            return;
        }

        var key = ToKey(in flow);
        var value = default(BpfFlowValue);

        // Atomically: frames forwarded up to this moment are in the value, none after it.
        var found = LibBpf.bpf_map_lookup_and_delete_elem(_flowsFd, &key, &value) == 0;
        if (_shadow.Remove(key, out var shadow))
        {
            PublishEntries();
            Volatile.Write(ref _withdrawn, _withdrawn + 1);
            if (found)
            {
                AccountFinal(in shadow, in value, MonotonicNowNs(), _engineNowMs);
            }
        }
    }

    private void PublishEntries() => Volatile.Write(ref _entries, _shadow.Count);

    private static uint Furthest(uint a, uint b) => (int)(b - a) > 0 ? b : a;

    // The engine clock as of the last sweep; a withdrawal inside a frame's decision has no clock of its own.
    private long _engineNowMs;

    /// <summary>
    /// Housekeeping on the data-plane thread, at most every sweep interval: reads every installed flow's counters and
    /// last-seen time, accounts what the kernel forwarded since the last sweep in the engine, moves flow deadlines,
    /// and deletes entries the engine no longer has as offloaded (expired, replaced) or never had.
    /// </summary>
    /// <param name="nowMs">The engine clock.</param>
    /// <param name="force">Sweep now regardless of the interval (tests, shutdown).</param>
    public unsafe void Sweep(long nowMs, bool force = false)
    {
        _engineNowMs = nowMs;
        var engine = _engine;
        if (_disposed || engine is null)
        {
            return;
        }

        var ticks = Stopwatch.GetTimestamp();
        if (!force && ticks < _nextSweep)
        {
            return;
        }

        _nextSweep = ticks + _sweepEveryTicks;
        var monoNs = MonotonicNowNs();
        var stale = 0;
        ulong inBatch = 0, outBatch = 0;
        var first = true;
        var options = new LibBpf.BatchOptions { Size = (nuint)sizeof(LibBpf.BatchOptions) };
        fixed (BpfFlowKey* keys = _batchKeys)
        fixed (BpfFlowValue* values = _batchValues)
        {
            while (true)
            {
                var count = (uint)BatchSize;
                var rc = LibBpf.bpf_map_lookup_batch(_flowsFd, first ? null : &inBatch, &outBatch, keys, values, &count, &options);
                if (rc < 0 && -rc != LibBpf.ENOENT)
                {
                    break; // read again at the next sweep
                }

                for (var i = 0; i < (int)count; i++)
                {
                    if (!SyncOne(engine, ref _batchKeys[i], in _batchValues[i], monoNs, nowMs) && stale < _stale.Length)
                    {
                        _stale[stale++] = _batchKeys[i];
                    }
                }

                if (rc < 0)
                {
                    break; // ENOENT: that was the last batch
                }

                inBatch = outBatch;
                first = false;
            }

            for (var i = 0; i < stale; i++)
            {
                fixed (BpfFlowKey* k = &_stale[i])
                {
                    var value = default(BpfFlowValue);
                    if (LibBpf.bpf_map_lookup_and_delete_elem(_flowsFd, k, &value) == 0 && _shadow.Remove(*k, out var shadow))
                    {
                        PublishEntries();
                        Volatile.Write(ref _withdrawn, _withdrawn + 1);
                        AccountFinal(in shadow, in value, monoNs, nowMs);
                    }
                }
            }
        }
    }

    /// <returns>False when the entry must go.</returns>
    private bool SyncOne(PacketEngine engine, ref BpfFlowKey key, in BpfFlowValue value, long monoNs, long nowMs)
    {
        ref var shadow = ref CollectionsMarshal.GetValueRefOrNullRef(_shadow, key);
        if (Unsafe.IsNullRef(ref shadow))
        {
            return false; // not installed by this process (cannot happen with an unpinned map; harmless to remove)
        }

        var frames = (long)value.Packets - shadow.Frames;
        var bytes = (long)value.Bytes - shadow.Bytes;
        var lastSeenMs = LastSeenMs(in value, monoNs, nowMs);
        var flow = ToFlow(in key, shadow.Slot);
        var sync = engine.SyncOffloaded(in flow, frames, bytes, lastSeenMs, (value.Flags & BpfFlowValue.SeenCamera) != 0, (value.Flags & BpfFlowValue.SeenUplink) != 0);
        if (sync == OffloadSync.Remove)
        {
            return false; // counted when it is deleted, from its final figures
        }

        shadow.Frames = (long)value.Packets;
        shadow.Bytes = (long)value.Bytes;
        _framesForwarded += frames;
        _bytesForwarded += bytes;
        return true;
    }

    private void AccountFinal(in Shadow shadow, in BpfFlowValue value, long monoNs, long nowMs)
    {
        var frames = (long)value.Packets - shadow.Frames;
        var bytes = (long)value.Bytes - shadow.Bytes;
        if (frames > 0)
        {
            _engine?.AccountOffloaded(shadow.Slot, frames, bytes, LastSeenMs(in value, monoNs, nowMs));
            Volatile.Write(ref _framesForwarded, _framesForwarded + frames);
            Volatile.Write(ref _bytesForwarded, _bytesForwarded + bytes);
        }
    }

    // bpf_ktime_get_coarse_ns is CLOCK_MONOTONIC as of the last tick and Stopwatch CLOCK_MONOTONIC on Linux: "how long
    // ago" carries over to the engine clock, at most a tick early (a flow then looks a few ms older, never younger).
    private static long LastSeenMs(in BpfFlowValue value, long monoNs, long nowMs)
        => value.LastSeenNs == 0 ? nowMs : nowMs - (Math.Max(0, monoNs - (long)value.LastSeenNs) / 1_000_000);

    private static long MonotonicNowNs() => (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));

    private static unsafe BpfFlowKey ToKey(in OffloadedFlow flow)
    {
        var key = default(BpfFlowKey);
        BinaryPrimitives.WriteUInt128BigEndian(new Span<byte>(key.Camera, 16), flow.Camera.Value);
        BinaryPrimitives.WriteUInt128BigEndian(new Span<byte>(key.Peer, 16), flow.Peer.Value);
        key.CameraPort = flow.CameraPort;
        key.PeerPort = flow.PeerPort;
        key.OuterVlan = flow.OuterVlan;
        key.InnerVlan = flow.InnerVlan;
        key.Protocol = flow.Protocol;
        key.Family = flow.IsIpv6 ? (byte)1 : (byte)0;
        return key;
    }

    private static unsafe OffloadedFlow ToFlow(in BpfFlowKey key, int slot)
    {
        fixed (byte* camera = key.Camera)
        fixed (byte* peer = key.Peer)
        {
            return new OffloadedFlow
            {
                Camera = new IpAddr(BinaryPrimitives.ReadUInt128BigEndian(new ReadOnlySpan<byte>(camera, 16))),
                Peer = new IpAddr(BinaryPrimitives.ReadUInt128BigEndian(new ReadOnlySpan<byte>(peer, 16))),
                CameraPort = key.CameraPort,
                PeerPort = key.PeerPort,
                OuterVlan = key.OuterVlan,
                InnerVlan = key.InnerVlan,
                Protocol = key.Protocol,
                IsIpv6 = key.Family == 1,
                CameraSlot = slot,
            };
        }
    }

    private static unsafe void WriteMac(MacAddress mac, byte* six) => mac.WriteTo(new Span<byte>(six, 6));

    /// <summary>
    /// Detaches both programs (nothing more is forwarded by the kernel; every frame goes up to the sockets) and
    /// releases the maps. Idempotent, from any thread; the process ending does the same.
    /// </summary>
    public void Dispose()
    {
        lock (_lifecycle)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _policies.Swapping -= _onSwapping;
            DetachLinks();
            if (_object != 0)
            {
                LibBpf.bpf_object__close(_object);
                _object = 0;
            }

            _flowsFd = -1;
            _policyFd = -1;
        }
    }

    /// <summary>
    /// Detaches both programs (the kernel forwards nothing more; every frame goes up to the sockets) but keeps the
    /// maps, so that a last <see cref="SweepFinal"/> can account what the kernel forwarded. Idempotent.
    /// </summary>
    public void DetachPrograms()
    {
        lock (_lifecycle)
        {
            DetachLinks();
        }
    }

    /// <summary>
    /// After the data plane stopped (its thread ended): accounts what the kernel forwarded since the last sweep, so
    /// the engine's counters are exact at shutdown. Call with the programs detached.
    /// </summary>
    public void SweepFinal() => Sweep(_engineNowMs, force: true);

    /// <summary>True while both programs are attached.</summary>
    public bool IsAttached => !_disposed && _cameraLink >= 0 && _uplinkLink >= 0;

    private void DetachLinks()
    {
        if (_cameraLink >= 0)
        {
            _ = LibBpf.close(_cameraLink);
            _cameraLink = -1;
        }

        if (_uplinkLink >= 0)
        {
            _ = LibBpf.close(_uplinkLink);
            _uplinkLink = -1;
        }
    }

    private struct Shadow
    {
        public int Slot;
        public long Frames;
        public long Bytes;
    }
}

/// <summary>Native XDP cannot be used on a pair (and why); the bridge then runs without the fast path, or refuses to start when offload is <c>on</c>.</summary>
public sealed class XdpUnavailableException : Exception
{
    /// <summary>Creates the exception with the reason.</summary>
    public XdpUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public XdpUnavailableException()
    {
    }

    /// <summary>Creates the exception with the reason and its cause.</summary>
    public XdpUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
