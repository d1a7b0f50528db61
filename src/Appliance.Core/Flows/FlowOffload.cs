namespace Appliance.Core.Flows;

/// <summary>
/// One flow as the engine hands it to a flow-offload backend (a kernel fast path such as XDP): its camera-relative
/// key, the MAC addresses the frame that qualified it carried, and the policy version that admitted it. The
/// backend may forward later frames of the flow itself only while every one of these still matches; anything
/// else it must hand to the engine. A plain struct: notifications allocate nothing.
/// </summary>
public readonly record struct OffloadedFlow
{
    /// <summary>The camera's address (IPv4-mapped for IPv4).</summary>
    public IpAddr Camera { get; init; }

    /// <summary>The peer's address.</summary>
    public IpAddr Peer { get; init; }

    /// <summary>The camera's port.</summary>
    public ushort CameraPort { get; init; }

    /// <summary>The peer's port.</summary>
    public ushort PeerPort { get; init; }

    /// <summary>Outer VLAN id, 0 untagged.</summary>
    public ushort OuterVlan { get; init; }

    /// <summary>Inner VLAN id (QinQ), 0 otherwise.</summary>
    public ushort InnerVlan { get; init; }

    /// <summary>IP protocol number (TCP or UDP).</summary>
    public byte Protocol { get; init; }

    /// <summary>Address family.</summary>
    public bool IsIpv6 { get; init; }

    /// <summary>The camera's MAC address (source of its frames, destination of its peer's).</summary>
    public MacAddress CameraMac { get; init; }

    /// <summary>The peer-side MAC address (the router or host the camera talks to on the uplink).</summary>
    public MacAddress PeerMac { get; init; }

    /// <summary>The policy version the engine's verdict was made under.</summary>
    public uint PolicyVersion { get; init; }

    /// <summary>The camera's counter slot.</summary>
    public int CameraSlot { get; init; }

    /// <summary>Who opened the flow.</summary>
    public Direction Opener { get; init; }

    /// <summary>
    /// TCP: where the camera's sequence numbers end (its next byte) as far as the engine has seen, so that a fast path
    /// can go on following them and judge a FIN or RST the way the engine does. 0 for UDP.
    /// </summary>
    public uint CameraSequenceEnd { get; init; }

    /// <summary>TCP: where the peer's sequence numbers end, as <see cref="CameraSequenceEnd"/>.</summary>
    public uint PeerSequenceEnd { get; init; }
}

/// <summary>
/// A fast path that forwards frames of established flows without the engine, told by the engine which flows
/// qualify and when they stop qualifying. Called on the engine's data-plane thread, from inside a frame's decision
/// or from housekeeping; implementations must not call back into the engine and must not throw.
/// </summary>
public interface IFlowOffload
{
    /// <summary>
    /// The engine just passed a frame of <paramref name="flow"/>, which is established and eligible: the fast path
    /// may forward its frames from now on (under the conditions of <see cref="OffloadedFlow"/>).
    /// </summary>
    void Offload(in OffloadedFlow flow);

    /// <summary>
    /// <paramref name="flow"/> (key fields only) stopped qualifying: it is closing, closed, expired, revoked or
    /// removed. Nothing more of it may be forwarded without the engine.
    /// </summary>
    void Withdraw(in OffloadedFlow flow);

    /// <summary>
    /// TCP: where each side's sequence numbers end now, after the segments the fast path forwarded without the
    /// engine, for <paramref name="flow"/> (key fields only). The engine asks when a FIN or RST of an offloaded flow
    /// reaches it, so that it judges those against where the sender really is, as for flows it carries itself. False
    /// when the fast path cannot say (the engine then takes FIN and RST unchecked, see <c>FlowFlags.SequenceUnknown</c>).
    /// </summary>
    bool TryReadSequenceEnds(in OffloadedFlow flow, out uint cameraEnd, out uint peerEnd)
    {
        cameraEnd = 0;
        peerEnd = 0;
        return false;
    }
}

/// <summary>What <c>PacketEngine.SyncOffloaded</c> found.</summary>
public enum OffloadSync
{
    /// <summary>The flow is still offloaded; its counters and deadline were brought up to date.</summary>
    Keep = 0,

    /// <summary>The engine no longer has the flow as offloaded (expired, closed, replaced): delete the fast-path entry.</summary>
    Remove = 1,
}
