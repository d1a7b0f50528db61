using System.Globalization;
using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;

namespace Appliance.Learn;

/// <summary>
/// The engine a capture is learned through: every camera-side device is a camera that may do anything, so the
/// engine forwards its DNS answers and learns each device's names exactly as it does under enforcement (an answer
/// teaches only the device that asked, only when it matches its query), and the learner asks it which name a device
/// resolved for a peer.
/// </summary>
public static class LearningEngine
{
    private static readonly IPNetwork[] Anywhere = [IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")];

    /// <summary>
    /// A policy with one allow-everything camera per device (by MAC; by address when it has none), compiled into a
    /// new engine; <paramref name="learner"/>'s <see cref="TrafficLearner.NameOf"/> is wired to the engine's names.
    /// </summary>
    public static (PacketEngine Engine, PolicySpec Spec) Create(IReadOnlyList<LearnedDevice> devices, TrafficLearner learner, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(learner);
        var names = new Dictionary<DeviceKey, string>();
        var cameras = new List<CameraSpec>();
        foreach (var device in devices)
        {
            var name = "d" + cameras.Count.ToString(CultureInfo.InvariantCulture);
            names[device.Key] = name;
            cameras.Add(new CameraSpec
            {
                Name = name,
                Mac = device.Key.HasMac ? device.Key.Mac : null,
                Addresses = device.Key.HasMac ? [] : [device.Key.Ip.ToIPAddress()],
                Mode = CameraMode.Enforce,
                AllowIpv6 = true,
                Discovery = DiscoveryProtocols.WsDiscovery | DiscoveryProtocols.Ssdp | DiscoveryProtocols.Mdns,
                Rules =
                [
                    new RuleSpec { Id = "learn-out", Direction = Direction.Egress, Protocol = RuleProtocol.Any, Peers = Anywhere },
                    new RuleSpec { Id = "learn-in", Direction = Direction.Ingress, Protocol = RuleProtocol.Any, Peers = Anywhere },
                ],
            });
        }

        var spec = new PolicySpec { Cameras = cameras, Sha256 = "learn" };
        var holder = new PolicyHolder();
        holder.Swap(CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots));
        var engine = new PacketEngine(holder, options);
        learner.NameOf = (device, peer) => names.TryGetValue(device, out var camera) && holder.Slots.TryGet(camera, out var slot) ? engine.NameFor(slot, peer) : null;
        return (engine, spec);
    }
}
