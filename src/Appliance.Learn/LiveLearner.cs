using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Flows;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Learn;

/// <summary>
/// Learn mode on a running appliance: samples each engine's flow table (off the data path: <see cref="FlowTable.Snapshot"/>
/// copies entries without touching the frames or the data plane's thread) and aggregates the flows of cameras in
/// <see cref="CameraMode.Learn"/> into the same bounded summary <c>camfw learn</c> builds from captures. Flows that
/// start and end between two samples are missed; a sample every few seconds sees every flow the engine keeps for its
/// idle timeout (UDP and closed TCP flows stay in the table for seconds after their last packet). Thread-safe.
/// </summary>
public sealed class LiveLearner(LearnOptions? options = null)
{
    private readonly Lock _gate = new();
    private readonly TrafficLearner _learner = new(options);

    /// <summary>Samples <paramref name="engine"/>'s flows of cameras in learn mode at engine time <paramref name="nowMs"/>; returns how many flows were learned from.</summary>
    public int Sample(PacketEngine engine, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (engine.Policies.Current?.Spec is not { } spec)
        {
            return 0;
        }

        var learning = new Dictionary<int, (CameraSpec Camera, DeviceKey Key)>();
        foreach (var camera in spec.Cameras)
        {
            if (camera.Mode == CameraMode.Learn && engine.Policies.Slots.TryGet(camera.Name, out var slot))
            {
                var key = camera.Mac is { } mac ? new DeviceKey(mac, default) : new DeviceKey(default, camera.Addresses.Count > 0 ? IpAddr.FromIPAddress(camera.Addresses[0]) : default);
                learning[slot] = (camera, key);
            }
        }

        if (learning.Count == 0)
        {
            return 0;
        }

        var flows = engine.Flows.Snapshot(nowMs);
        var slots = learning.ToDictionary(l => l.Value.Key, l => l.Key);
        var learned = 0;
        lock (_gate)
        {
            _learner.NameOf = (device, peer) => slots.TryGetValue(device, out var slot) ? engine.NameFor(slot, peer) : null;
            foreach (var (_, (camera, key)) in learning)
            {
                var address = camera.Addresses.Count > 0 ? IpAddr.FromIPAddress(camera.Addresses[0]) : default;
                _learner.NoteDevice(key, address, nowMs, camera.AllowDhcp, camera.Discovery);
            }

            foreach (var flow in flows)
            {
                if (!learning.TryGetValue(flow.CameraSlot, out var owner) || flow.State is FlowState.Free or FlowState.Fragment)
                {
                    continue;
                }

                var completed = flow.Protocol == IpProtocols.Tcp
                    ? flow.State is FlowState.Established or FlowState.FinWait or FlowState.Closing
                    : flow.Replied;
                _learner.ObserveFlow(owner.Key, flow.Direction, flow.Protocol, flow.CameraAddress, flow.CameraPort, flow.PeerAddress, flow.PeerPort, completed, nowMs - flow.AgeMs, nowMs);
                learned++;
            }

            _learner.NameOf = null;
            _learner.Sweep(nowMs);
        }

        return learned;
    }

    /// <summary>What was learned so far.</summary>
    public LearnSnapshot Snapshot()
    {
        lock (_gate)
        {
            return _learner.Snapshot();
        }
    }
}
