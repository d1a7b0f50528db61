using System.Runtime.CompilerServices;
using Appliance.Core.Flows;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Core.Engine;

/// <summary>
/// Decides pass or drop for one frame. One instance per data-plane thread (one bridge port pair): the flow
/// table, counters and event ring are that thread's alone, so the hot path takes no locks. The policy is shared
/// through <see cref="PolicyHolder"/> and read once per frame.
/// </summary>
/// <remarks>
/// <para>Per frame: parse into a <see cref="PacketInfo"/> on the stack, read the policy once, find the camera
/// (by MAC and/or address, with spoof checks), then either a special case (ARP, DHCP, discovery, neighbour
/// discovery, broadcast) or the stateful path: a frame of a tracked flow passes, an opener is decided against the
/// camera's compiled rules and tracked, anything else is dropped with its reason. Counters are bumped and a
/// <see cref="DropEvent"/> is written for every drop, every monitored would-be drop and every match of a rule
/// with <c>log: true</c>.</para>
/// <para>Orientation: a frame from the camera side has the camera as its source, so its openers are egress;
/// a frame from the uplink side has the camera as its destination, so its openers are ingress. Traffic that
/// crosses no camera boundary is not a camera's: camera-to-camera frames are dropped (<see cref="Reason.NotForCamera"/>:
/// cameras must not talk to each other); frames from or to devices that are not listed are
/// <see cref="Reason.UnknownDevice"/> (dropped, or passed and reported when the site monitors unknown devices).</para>
/// <para>Allocation-free, lock-free and exception-free per frame (an unexpected exception is caught, counted as
/// a fault and the frame dropped: fail closed).</para>
/// </remarks>
public sealed partial class PacketEngine
{
    private const int UnknownNoteSlots = 256;

    private readonly PolicyHolder _policies;
    private readonly FlowTable _flows;
    private readonly long _tcpHalfOpenMs;
    private readonly long _tcpEstablishedMs;
    private readonly long _tcpClosingMs;
    private readonly long _udpMs;
    private readonly long _icmpMs;
    private readonly long _fragmentMs;
    private readonly int _defaultQuota;
    private readonly int _peerSharePercent;
    private readonly int _maintenanceSlots;

    // Per camera slot: until when a unicast DHCP offer/ack from the uplink answers the camera's own broadcast.
    // long.MinValue means never asked: no clock value, negative ones included (replay), is before it.
    private readonly long[] _dhcpAskedUntil;

    // The fast path told about established flows (null: none), and the flow the frame being decided passed on.
    private IFlowOffload? _offload;
    private int _passedFlow = -1;

    /// <summary>The slot <see cref="Open"/> last admitted a flow into.</summary>
    private int _openedFlow = -1;

    /// <summary>The wire length of the frame being decided: a flow's volume grows by it.</summary>
    private int _frameLength;

    // Learn mode: the last unknown camera-side devices noted and when, direct-mapped by MAC (see NoteUnknown).
    private readonly ulong[] _unknownNoted = new ulong[UnknownNoteSlots];
    private readonly long[] _unknownNotedMs = new long[UnknownNoteSlots];

    /// <summary>
    /// Creates an engine and preallocates everything it will use (flow table, event ring, counters, DNS tables):
    /// after this nothing on the per-frame path allocates. One engine per bridge, driven by one data-plane thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="options"/> has a value out of range (every one is named).</exception>
    public PacketEngine(PolicyHolder policies, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        _policies = policies;
        Options = options ?? new EngineOptions();
        Options.Validate();
        Events = new DropEventRing(Options.EventRingCapacity);
        Counters = new EngineCounters(policies.Slots.Capacity);
        _flows = new FlowTable(Options.FlowCapacity, policies.Slots.Capacity);
        _tcpHalfOpenMs = (long)Options.TcpHalfOpenTimeout.TotalMilliseconds;
        _tcpEstablishedMs = (long)Options.TcpEstablishedTimeout.TotalMilliseconds;
        _tcpClosingMs = (long)Options.TcpClosingTimeout.TotalMilliseconds;
        _udpMs = (long)Options.UdpTimeout.TotalMilliseconds;
        _icmpMs = (long)Options.IcmpTimeout.TotalMilliseconds;
        _fragmentMs = (long)Options.FragmentTimeout.TotalMilliseconds;
        _defaultQuota = Options.DefaultFlowQuota;
        _peerSharePercent = Options.PeerFlowSharePercent;
        _maintenanceSlots = Options.MaintenanceSlotsPerCall;
        _dhcpAskedUntil = new long[policies.Slots.Capacity];
        Array.Fill(_dhcpAskedUntil, long.MinValue);
        _dnsNames = new DnsNameTable(Options.DnsNameCapacity, Options.DnsAddressCapacity, Options.DnsNamesPerCamera, Options.DnsAddressesPerName, policies.Slots.Capacity);
        _dnsQueries = new DnsQueryTable(Options.DnsQueryCapacity, Options.DnsQueriesPerCamera, Options.DnsQueryTimeout, policies.Slots.Capacity);
        Events.Names = _dnsNames;
        FlowNotes = new SpscRing<FlowNote>(Options.FlowNoteRingCapacity);
        _flows.Notes = FlowNotes;
        _queryNames = new DnsQueryNameLog();
        Events.QueryNames = _queryNames;
        _guard = new DnsTunnelGuard(policies.Slots.Capacity);
    }

    /// <summary>How often one unknown camera-side device is noted while the site learns: the learner needs it once, not per frame.</summary>
    public const long UnknownNoteIntervalMs = 10_000;

    /// <summary>
    /// Learn mode's observations for the learner off the hot path: every flow of a camera in learn mode when it is
    /// admitted and when it leaves the table (with its packets and bytes), and unlisted camera-side devices while the
    /// site learns. Written by the data-plane thread without allocating; full, a note is counted in
    /// <see cref="SpscRing{T}.Lost"/> and dropped. One consumer drains it.
    /// </summary>
    public SpscRing<FlowNote> FlowNotes { get; }

    /// <summary>The validated sizes and timeouts the engine was built with.</summary>
    public EngineOptions Options { get; }

    /// <summary>Where the engine reads the policy in force on every frame; reloads swap it there, never in the engine.</summary>
    public PolicyHolder Policies => _policies;

    /// <summary>Reported decisions for a consumer off the hot path.</summary>
    public DropEventRing Events { get; }

    /// <summary>Per-camera and per-reason counters; readable from any thread.</summary>
    public EngineCounters Counters { get; }

    /// <summary>The connection-tracking table (count, capacity, snapshot for the API).</summary>
    public FlowTable Flows => _flows;

    /// <summary>Decides one Ethernet frame (FCS stripped) that arrived on <paramref name="side"/>: the bridge entry.</summary>
    /// <param name="frame">The frame; not retained.</param>
    /// <param name="side">The port it arrived on.</param>
    /// <param name="nowMs">The engine clock in milliseconds (<c>Environment.TickCount64</c> live, capture time in replay).</param>
    public Verdict ProcessFrame(ReadOnlySpan<byte> frame, Side side, long nowMs)
    {
        FrameParser.ParseEthernet(frame, out var info);
        return Process(ref info, frame, side, nowMs, frame.Length);
    }

    /// <summary>
    /// Decides one bare IP packet (no layer 2): the gateway entry. Cameras are found by address alone;
    /// <paramref name="side"/> says whether it came from the camera side.
    /// </summary>
    public Verdict ProcessPacket(ReadOnlySpan<byte> packet, Side side, long nowMs)
    {
        FrameParser.ParseIp(packet, out var info);
        return Process(ref info, packet, side, nowMs, packet.Length);
    }

    /// <summary>
    /// Bounded housekeeping between batches: reclaims expired flows among the next
    /// <see cref="EngineOptions.MaintenanceSlotsPerCall"/> table slots. Never a whole-table sweep.
    /// Call it from the data-plane thread that owns this engine.
    /// </summary>
    /// <returns>Flows reclaimed.</returns>
    public int Maintain(long nowMs) => _flows.Maintain(nowMs, _maintenanceSlots);

    /// <summary>
    /// Connects a fast path (e.g. XDP) that forwards established flows without the engine. From then on the engine
    /// offers it every established TCP flow and tracked UDP flow a frame passes on (once per flow and policy
    /// version) and withdraws them when they close, expire, are revoked or removed. Call once, before traffic, on
    /// the thread that will run the engine.
    /// </summary>
    public void AttachOffload(IFlowOffload offload)
    {
        ArgumentNullException.ThrowIfNull(offload);
        if (_offload is not null)
        {
            throw new InvalidOperationException("A flow offload is attached already.");
        }

        _offload = offload;
        _flows.Offload = offload;
    }

    /// <summary>
    /// Brings an offloaded flow up to date with what the fast path forwarded since the last call: counts the frames
    /// (per camera and in total, as passed established-flow frames), moves the flow's deadline to
    /// <paramref name="lastSeenMs"/> plus its timeout, and marks a datagram flow answered when the fast path saw
    /// the responder's direction. Housekeeping on the data-plane thread, never per frame.
    /// </summary>
    /// <returns><see cref="OffloadSync.Remove"/> when the engine no longer has the flow as offloaded: the fast path
    /// must delete its entry.</returns>
    public OffloadSync SyncOffloaded(in OffloadedFlow flow, long frames, long bytes, long lastSeenMs, bool seenFromCamera, bool seenFromUplink)
    {
        var key = FlowKey.Create(flow.Camera, flow.CameraPort, flow.Peer, flow.PeerPort, flow.Protocol, flow.IsIpv6, flow.OuterVlan, flow.InnerVlan);

        // Looked up as of the start of time: an entry past its deadline is not reclaimed before its traffic is seen.
        var index = _flows.Find(in key, long.MinValue);
        if (index < 0 || (_flows.At(index).Flags & FlowFlags.Offloaded) == 0)
        {
            return OffloadSync.Remove;
        }

        ref var e = ref _flows.At(index);
        if (frames > 0)
        {
            Counters.RecordOffloaded(e.CameraSlot, frames, bytes, lastSeenMs);
            e.Packets += (uint)frames;
            e.Bytes += bytes;
            var timeout = e.Protocol == IpProtocols.Tcp ? _tcpEstablishedMs : _udpMs;
            e.ExpiresMs = Math.Max(e.ExpiresMs, lastSeenMs + timeout);
        }

        var answered = e.Direction == Direction.Egress ? seenFromUplink : seenFromCamera;
        if (answered && (e.Flags & FlowFlags.Replied) == 0)
        {
            e.Flags |= FlowFlags.Replied;
            _flows.Settle(index);
        }

        return OffloadSync.Keep;
    }

    /// <summary>
    /// Counts frames the fast path forwarded for a flow that has since left it (its last figures, read when it was
    /// withdrawn), as passed established-flow frames of camera slot <paramref name="cameraSlot"/>.
    /// </summary>
    public void AccountOffloaded(int cameraSlot, long frames, long bytes, long lastSeenMs)
    {
        if (frames > 0)
        {
            Counters.RecordOffloaded(cameraSlot, frames, bytes, lastSeenMs);
        }
    }

    /// <summary>Decides an already parsed frame: the whole pipeline after parsing (tests feed hand-made infos).</summary>
    internal Verdict Decide(ref PacketInfo info, Side side, long nowMs) => Process(ref info, default, side, nowMs, info.IpLength);

    /// <summary>The decision, failing closed: an exception is a bug, never input; the frame is dropped and the fault counted.</summary>
    private Decision DecideGuarded(CompiledPolicy? policy, ref PacketInfo info, Side side, long nowMs)
    {
        try
        {
            return policy is null ? Decision.Drop(Reason.NoPolicy)
                : info.Error != 0 ? Decision.Drop(info.Error)
                : Decide(policy, ref info, side, nowMs);
        }
        catch (Exception)
        {
            Counters.RecordFault();
            return Decision.Drop(Reason.EngineFault);
        }
    }

    /// <summary>The DNS inspection of an admitted frame, failing closed like <see cref="DecideGuarded"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision InspectDnsGuarded(CompiledPolicy policy, ref PacketInfo info, ReadOnlySpan<byte> bytes, Side side, long nowMs, Decision decision)
    {
        try
        {
            return InspectDns(policy, ref info, bytes, side, nowMs, decision);
        }
        catch (Exception)
        {
            Counters.RecordFault();
            return Decision.Drop(Reason.EngineFault);
        }
    }

    private Verdict Process(ref PacketInfo info, ReadOnlySpan<byte> bytes, Side side, long nowMs, int length)
    {
        // 1. Read the policy once: a swap in the middle of a frame must not mix two policies.
        var policy = _policies.Current;
        _frameLength = length;
        var decision = DecideGuarded(policy, ref info, side, nowMs);

        // DNS a camera sends or receives is read after it is admitted and before it is forwarded, so that an answer has
        // taught the camera's names before the camera can act on it (see PacketEngine.Dns). Out here, not in the
        // decision's try block: the frame's bytes are needed only for this, and keeping them live through the whole
        // inlined decision cost the established path more than the test itself.
        var dns = false;
        if (decision.IsPass && IsDns(ref info))
        {
            dns = true;
            decision = InspectDnsGuarded(policy!, ref info, bytes, side, nowMs, decision);
        }

        // 2. Count, then 3. report what is worth reporting.
        Counters.Record(decision, length, nowMs);
        if ((!decision.IsPass || decision.Monitored || (decision.Reason == Reason.RuleMatch && policy!.IsLogged(decision.RuleIndex))) && !(dns && _quietReport))
        {
            Report(policy, ref info, side, nowMs, length, decision, dns ? _reportQueryName : 0);
            if (decision.Reason == Reason.UnknownDevice && side == Side.Camera && policy is { LearnsUnknownDevices: true })
            {
                NoteUnknown(ref info, nowMs);
            }
        }

        // The public form is built once, here (see Decision).
        return decision.ToVerdict();
    }

    /// <summary>
    /// Learn mode: an unlisted device sent from the camera side. Noted at most once per <see cref="UnknownNoteIntervalMs"/>
    /// per device (a direct-mapped memory of 256 devices; a collision only notes a device again early).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NoteUnknown(ref PacketInfo info, long nowMs)
    {
        var mac = info.SourceMac;
        if (info.Kind is not (L3Kind.Ipv4 or L3Kind.Ipv6 or L3Kind.Arp) || mac.IsMulticast || mac.Value == 0)
        {
            return;
        }

        var i = (int)((mac.Value * 0x9E3779B97F4A7C15UL) >> 56) & (UnknownNoteSlots - 1);
        if (_unknownNoted[i] == mac.Value && nowMs - _unknownNotedMs[i] < UnknownNoteIntervalMs && nowMs >= _unknownNotedMs[i])
        {
            return;
        }

        _unknownNoted[i] = mac.Value;
        _unknownNotedMs[i] = nowMs;
        var note = new FlowNote
        {
            Kind = FlowNoteKind.UnknownDevice,
            CreatedMs = nowMs,
            CameraMac = mac,
            Camera = info.Kind == L3Kind.Arp ? info.ArpSenderIp : info.Source,
            CameraSlot = Verdict.NoCamera,
        };
        FlowNotes.TryWrite(in note);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Report(CompiledPolicy? policy, ref PacketInfo info, Side side, long nowMs, int length, Decision verdict, int queryName)
    {
        var arp = info.Kind == L3Kind.Arp;
        var e = new DropEvent
        {
            TimestampMs = nowMs,
            Source = arp ? info.ArpSenderIp : info.Source,
            Destination = arp ? info.ArpTargetIp : info.Destination,
            SourceMac = info.SourceMac,
            DestinationMac = info.DestinationMac,
            PolicyVersion = policy?.Version ?? 0,
            CameraSlot = verdict.CameraSlot,
            RuleIndex = verdict.RuleIndex,
            FrameLength = length,
            SourcePort = info.SourcePort,
            DestinationPort = info.DestinationPort,
            Reason = verdict.Reason,
            Vlan = info.OuterVlan,
            EtherType = info.EtherType,
            Protocol = arp ? (byte)0 : info.Protocol,
            Direction = side == Side.Camera ? Direction.Egress : Direction.Ingress,
            Side = side,
            Action = verdict.Action,
            Monitored = verdict.Monitored,
            IsLoggedMatch = verdict.IsPass && !verdict.Monitored,
            IcmpType = info.IcmpType,
            IcmpCode = info.IcmpCode,
            QueryName = queryName,
        };

        // The peer's name is captured now, as a handle: by the time the event is read the name may have lapsed or its
        // cell been reused (the generation tells), and this thread is the table's writer, so no reader race here.
        if (!arp && verdict.CameraSlot >= 0 && info.Kind != L3Kind.None && _dnsNames.NameCount > 0
            && _dnsNames.TryFindName(verdict.CameraSlot, side == Side.Camera ? info.Destination : info.Source, out var cell, out var generation))
        {
            e.PeerNameCell = cell + 1;
            e.PeerNameGeneration = generation;
        }

        Events.TryWrite(in e);
    }
}
