using System.Runtime.InteropServices;
using Appliance.Core.Flows;

namespace Appliance.Core.Engine;

/// <summary>What a <see cref="FlowNote"/> tells.</summary>
public enum FlowNoteKind : byte
{
    /// <summary>A flow of a camera in learn mode was admitted (its opener passed).</summary>
    Opened = 1,

    /// <summary>A flow of a camera in learn mode left the table (closed, expired, evicted, revoked or replaced): its last figures.</summary>
    Closed = 2,

    /// <summary>
    /// A device the policy does not list sent from the camera side while the site is in learn mode (at most once per
    /// device every <see cref="PacketEngine.UnknownNoteIntervalMs"/>): only <see cref="FlowNote.CameraMac"/>,
    /// <see cref="FlowNote.Camera"/> and <see cref="FlowNote.CreatedMs"/> are set.
    /// </summary>
    UnknownDevice = 3,
}

/// <summary>
/// One learn-mode observation the data path writes into <see cref="PacketEngine.FlowNotes"/> for the learner off the
/// hot path: a flow opened or closed (with its volume), or an unlisted camera-side device. Blittable, no references.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlowNote
{
    /// <summary>When the flow was created (engine clock, ms); for <see cref="FlowNoteKind.UnknownDevice"/> when it was seen.</summary>
    public long CreatedMs;

    /// <summary>Closed: the flow's deadline when it left (its last frame plus the timeout of its last state).</summary>
    public long ExpiresMs;

    /// <summary>Closed: wire bytes of the frames the flow carried, both ways (the fast path's included).</summary>
    public long Bytes;

    /// <summary>The camera's end (or the unknown device's source address).</summary>
    public IpAddr Camera;

    /// <summary>The other end.</summary>
    public IpAddr Peer;

    /// <summary>The unknown device's MAC (<see cref="FlowNoteKind.UnknownDevice"/> only).</summary>
    public MacAddress CameraMac;

    /// <summary>Closed: frames the flow carried, both ways.</summary>
    public uint Packets;

    /// <summary>The camera's counter slot.</summary>
    public int CameraSlot;

    /// <summary>The camera's port (the echo id for ICMP echo).</summary>
    public ushort CameraPort;

    /// <summary>The peer's port (0 for ICMP echo).</summary>
    public ushort PeerPort;

    /// <summary>The IP protocol.</summary>
    public byte Protocol;

    /// <summary>What this note tells.</summary>
    public FlowNoteKind Kind;

    /// <summary>Who opened the flow, seen from the camera.</summary>
    public Direction Direction;

    /// <summary>The flow's state when the note was written.</summary>
    public FlowState State;

    /// <summary>The responder answered (TCP SYN-ACK, a UDP reply, an echo reply).</summary>
    public bool Replied;

    /// <summary>TCP: the handshake completed at some point (the flow may have closed since).</summary>
    public bool Established;
}
