using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Flows;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Learn;

/// <summary>
/// Learn mode on a running appliance. The engines note every flow of a camera in learn mode when it is admitted and
/// when it leaves their table, with its packets and bytes (<see cref="PacketEngine.FlowNotes"/>, written by the data
/// path without allocating); <see cref="Drain"/> feeds them to the same bounded summary <c>camfw learn</c> builds from
/// captures, so a connection that opens and closes in a millisecond is learned like a week-long stream.
/// <see cref="Sample"/> adds the flows still open (long streams, whose figures are otherwise known only when they end).
/// Unlisted camera-side devices are noted while the site is in learn mode. Thread-safe.
/// </summary>
public sealed class LiveLearner(LearnOptions? options = null)
{
    private readonly Lock _gate = new();
    private readonly TrafficLearner _learner = new(options);
    private readonly Dictionary<PacketEngine, long> _lostSeen = [];
    private long _notesLost;
    private long _notes;

    /// <summary>Notes read from the engines so far.</summary>
    public long Notes => Interlocked.Read(ref _notes);

    /// <summary>Notes the engines dropped because their ring was full (summed over engines, as last drained).</summary>
    public long NotesLost => Interlocked.Read(ref _notesLost);

    /// <summary>Reads every note <paramref name="engine"/> has written since the last drain; returns how many.</summary>
    public int Drain(PacketEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var policy = engine.Policies.Current;
        var read = 0;
        lock (_gate)
        {
            var devices = new Dictionary<int, (CompiledCamera Camera, DeviceKey Key)>();
            _learner.NameOf = (device, peer) => SlotOf(policy, device) is { } slot ? engine.NameFor(slot, peer) : null;
            while (engine.FlowNotes.TryRead(out var note))
            {
                read++;
                Apply(engine, policy, in note, devices);
            }

            _learner.NameOf = null;
            var lost = engine.FlowNotes.Lost;
            _notesLost += lost - _lostSeen.GetValueOrDefault(engine);
            _lostSeen[engine] = lost;
            _notes += read;
        }

        return read;
    }

    /// <summary>
    /// Adds <paramref name="engine"/>'s open flows of cameras in learn mode at engine time <paramref name="nowMs"/>,
    /// with their figures so far (off the data path: <see cref="FlowTable.Snapshot"/> copies entries without touching
    /// the data plane's thread); returns how many flows were looked at. Drains the notes first, so that a flow's
    /// closing figures are never older than a sample.
    /// </summary>
    public int Sample(PacketEngine engine, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Drain(engine);
        if (engine.Policies.Current is not { } policy)
        {
            return 0;
        }

        var learning = new Dictionary<int, (CompiledCamera Camera, DeviceKey Key)>();
        foreach (var camera in policy.Cameras)
        {
            if (camera.Mode == CameraMode.Learn)
            {
                learning[camera.Slot] = (camera, KeyOf(camera));
            }
        }

        if (learning.Count == 0)
        {
            return 0;
        }

        var flows = engine.Flows.Snapshot(nowMs);
        var learned = 0;
        lock (_gate)
        {
            _learner.NameOf = (device, peer) => SlotOf(policy, device) is { } slot ? engine.NameFor(slot, peer) : null;
            foreach (var (_, (camera, key)) in learning)
            {
                NoteCamera(camera, key, nowMs);
            }

            foreach (var flow in flows)
            {
                if (!learning.TryGetValue(flow.CameraSlot, out var owner) || flow.State is FlowState.Free or FlowState.Fragment)
                {
                    continue;
                }

                var completed = flow.Protocol == IpProtocols.Tcp ? flow.EverEstablished : flow.Replied;
                _learner.ObserveFlow(owner.Key, flow.Direction, flow.Protocol, flow.CameraAddress, flow.CameraPort, flow.PeerAddress, flow.PeerPort, completed, nowMs - flow.AgeMs, nowMs, flow.Packets, flow.Bytes);
                learned++;
            }

            _learner.NameOf = null;
            _learner.Sweep(nowMs);
        }

        return learned;
    }

    /// <summary>Starts from a summary kept earlier (see <see cref="TrafficLearner.Restore"/>).</summary>
    public void Restore(LearnSnapshot kept)
    {
        lock (_gate)
        {
            _learner.Restore(kept);
            _notesLost += kept.Counters.NotesLost;
        }
    }

    /// <summary>What was learned so far.</summary>
    public LearnSnapshot Snapshot()
    {
        lock (_gate)
        {
            var snapshot = _learner.Snapshot();
            return snapshot with { Counters = snapshot.Counters with { NotesLost = _notesLost } };
        }
    }

    /// <summary>A camera is known by its MAC, else by its first address (as the proposal names it).</summary>
    public static DeviceKey KeyOf(CompiledCamera camera)
    {
        ArgumentNullException.ThrowIfNull(camera);
        return camera.Mac is { } mac ? new DeviceKey(mac, default) : new DeviceKey(default, camera.Addresses.Count > 0 ? IpAddr.FromIPAddress(camera.Addresses[0]) : default);
    }

    private static int? SlotOf(CompiledPolicy? policy, DeviceKey device)
    {
        if (policy is null)
        {
            return null;
        }

        foreach (var camera in policy.Cameras)
        {
            if (KeyOf(camera) == device)
            {
                return camera.Slot;
            }
        }

        return null;
    }

    /// <summary>
    /// DHCP and discovery are not flows, so the engine does not note them: they come from the camera's allowances.
    /// DHCP only for a camera listed without an address (one listed with its address is not expected to ask for one,
    /// and keeping it bound by MAC and address is the stronger proposal).
    /// </summary>
    private void NoteCamera(CompiledCamera camera, DeviceKey key, long nowMs)
    {
        var address = camera.Addresses.Count > 0 ? IpAddr.FromIPAddress(camera.Addresses[0]) : default;
        _learner.NoteDevice(key, address, nowMs, camera.AllowDhcp && camera.Addresses.Count == 0, camera.Discovery);
    }

    private void Apply(PacketEngine engine, CompiledPolicy? policy, in FlowNote note, Dictionary<int, (CompiledCamera Camera, DeviceKey Key)> devices)
    {
        if (note.Kind == FlowNoteKind.UnknownDevice)
        {
            // Listed since (a reload between the frame and now): the camera's own flows teach about it.
            var mac = note.CameraMac;
            if (policy is not null && policy.Cameras.Any(c => c.Mac == mac))
            {
                return;
            }

            _learner.NoteDevice(new DeviceKey(note.CameraMac, default), note.Camera, note.CreatedMs, dhcp: false, DiscoveryProtocols.None);
            return;
        }

        if (!devices.TryGetValue(note.CameraSlot, out var owner))
        {
            if (policy is null || !policy.TryGetCameraBySlot(note.CameraSlot, out var camera))
            {
                return; // the camera left the policy since: nothing to propose for it
            }

            owner = (camera, KeyOf(camera));
            devices[note.CameraSlot] = owner;
        }

        // Closed: its last frame was its deadline less the timeout of the state it was in. The device is seen at
        // every note (a min and max, so however the notes fall into drains the summary is the same).
        var completed = note.Protocol == IpProtocols.Tcp ? note.Established : note.Replied;
        var last = note.Kind == FlowNoteKind.Opened ? note.CreatedMs : Math.Max(note.CreatedMs, note.ExpiresMs - TimeoutMs(engine.Options, in note));
        NoteCamera(owner.Camera, owner.Key, note.CreatedMs);
        NoteCamera(owner.Camera, owner.Key, last);
        if (note.Kind == FlowNoteKind.Opened)
        {
            _learner.ObserveFlow(owner.Key, note.Direction, note.Protocol, note.Camera, note.CameraPort, note.Peer, note.PeerPort, completed, note.CreatedMs, note.CreatedMs);
            return;
        }

        _learner.ObserveFlow(owner.Key, note.Direction, note.Protocol, note.Camera, note.CameraPort, note.Peer, note.PeerPort, completed, note.CreatedMs, last, note.Packets, note.Bytes, closed: true);
    }

    private static long TimeoutMs(EngineOptions options, in FlowNote note) => (long)(note.State switch
    {
        FlowState.SynSent or FlowState.SynReceived => options.TcpHalfOpenTimeout,
        FlowState.Established or FlowState.FinWait => options.TcpEstablishedTimeout,
        FlowState.Closing or FlowState.Closed => options.TcpClosingTimeout,
        FlowState.IcmpEcho => options.IcmpTimeout,
        _ => options.UdpTimeout,
    }).TotalMilliseconds;
}
