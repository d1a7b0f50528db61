using Appliance.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Appliance.Transport;

/// <summary>One inline pair to bridge: the camera switch side and the uplink side.</summary>
/// <param name="Name">Name in logs, metrics and the API, e.g. <c>eth1-eth2</c>.</param>
/// <param name="CameraInterface">The port facing the camera switch.</param>
/// <param name="UplinkInterface">The port facing the rest of the network.</param>
public sealed record BridgePair(string Name, string CameraInterface, string UplinkInterface);

/// <summary>
/// One running data plane (a bridge pair or a gateway) as the host supervises it. The host chooses a backend by
/// registering its <see cref="IDataPlaneFactory"/> (for example <c>services.AddLibPcapBridge()</c>) and knows
/// nothing else about it, the way Kestrel knows its transports only through <c>IConnectionListenerFactory</c>.
/// </summary>
public interface IDataPlane : IAsyncDisposable
{
    /// <summary>The pair's name.</summary>
    string Name { get; }

    /// <summary>Completes when the loop ends; faults with the cause when it died.</summary>
    Task Completion { get; }

    /// <summary>
    /// True while it forwards: the loop turns, has not faulted, and every port is up. A down port or a lost
    /// carrier makes it false within the stall timeout even though the loop still turns.
    /// </summary>
    bool IsHealthy { get; }

    /// <summary>
    /// True when the loop runs but has not turned within its stall timeout (wedged in a driver, a livelock). A
    /// supervisor restarts a stalled plane; it does not restart one that waits for a port to come back, since that
    /// would not help (a plane that ended completes <see cref="Completion"/> instead).
    /// </summary>
    bool IsStalled { get; }

    /// <summary>The fault that stopped the loop, or null.</summary>
    Exception? Fault { get; }

    /// <summary>Counters and port conditions as of the last statistics refresh (about once a second).</summary>
    DataPlaneReport Report();

    /// <summary>Starts forwarding. Once only.</summary>
    void Start();

    /// <summary>Staged stop: stop receiving, drain the batch in hand, close the ports.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}

/// <summary>Builds the data plane of one pair around its engine. One per backend; the host registers one.</summary>
public interface IDataPlaneFactory
{
    /// <summary>
    /// Opens the pair's ports and returns its data plane, not yet started. Throws with a message that names the
    /// interface and what to do when a port cannot be opened; <see cref="PlatformNotSupportedException"/> when the
    /// backend cannot run on this OS.
    /// </summary>
    IDataPlane Create(BridgePair pair, PacketEngine engine, ILogger logger);
}

/// <summary>The state of a port's link as the OS reports it.</summary>
public enum PortLinkState
{
    /// <summary>Not known (the port has no link, e.g. a file, or it has not been read yet).</summary>
    Unknown = 0,

    /// <summary>Administratively up with carrier: frames can flow.</summary>
    Up = 1,

    /// <summary>Administratively down (<c>ip link set DEV down</c>).</summary>
    AdminDown = 2,

    /// <summary>Up, but without carrier or lower layer (cable out, veth peer down).</summary>
    NoCarrier = 3,

    /// <summary>The interface no longer exists.</summary>
    Gone = 4,
}

/// <summary>What a port knows about its link, re-read periodically off the per-frame path.</summary>
public readonly record struct PortCondition
{
    /// <summary>A port with no link to lose (in-memory, file).</summary>
    public static PortCondition NoLink => default;

    /// <summary>The link state.</summary>
    public PortLinkState Link { get; init; }

    /// <summary>The interface MTU now, or 0 when unknown.</summary>
    public int Mtu { get; init; }

    /// <summary>The MTU the port was opened with, or 0 when unknown.</summary>
    public int OpenedMtu { get; init; }

    /// <summary>
    /// Receive or segmentation offloads that are on now although they were off when the port opened (e.g.
    /// <c>gro</c>): merged frames then arrive larger than the MTU and cannot be forwarded. Null when none.
    /// </summary>
    public string? OffloadsOn { get; init; }

    /// <summary>True when the port can carry frames (or has no link to lose).</summary>
    public bool IsUsable => Link is PortLinkState.Up or PortLinkState.Unknown;

    /// <summary>A sentence for logs and the API naming what is wrong, or null when nothing is.</summary>
    public string? Problem(string port) => Link switch
    {
        PortLinkState.AdminDown => $"port {port} is administratively down",
        PortLinkState.NoCarrier => $"port {port} has no carrier",
        PortLinkState.Gone => $"port {port} no longer exists",
        _ when OpenedMtu > 0 && Mtu > 0 && Mtu != OpenedMtu => $"port {port} MTU changed from {OpenedMtu} to {Mtu} after start; restart to capture full frames",
        _ when OffloadsOn is not null => $"port {port} has offloads on again ({OffloadsOn}); merged frames cannot be forwarded",
        _ => null,
    };
}

/// <summary>One port of a data plane: what arrived on it and what became of it, its own counters and its link.</summary>
/// <param name="Name">Interface or file name.</param>
/// <param name="Traffic">Frames that arrived on this port and what became of them.</param>
/// <param name="Counters">The port's own counters (sends out of it, capture drops, send errors by errno).</param>
/// <param name="Condition">Its link, MTU and offloads.</param>
public sealed record PortReport(string Name, BridgeSideStatistics Traffic, PortStatistics Counters, PortCondition Condition)
{
    /// <summary>What is wrong with this port, or null.</summary>
    public string? Problem => Condition.Problem(Name);
}

/// <summary>A data plane's state as the management API and metrics show it.</summary>
/// <param name="Name">The pair's name.</param>
/// <param name="Healthy">See <see cref="IDataPlane.IsHealthy"/>.</param>
/// <param name="Problem">Why it is not healthy (or what degrades it), or null.</param>
/// <param name="Camera">The camera-side port.</param>
/// <param name="Uplink">The uplink-side port.</param>
/// <param name="FastPath">The in-kernel fast path's figures, when the plane has one (the XDP offload); otherwise null.</param>
public sealed record DataPlaneReport(string Name, bool Healthy, string? Problem, PortReport? Camera, PortReport? Uplink, FastPathReport? FastPath = null)
{
    /// <summary>Frames lost by capture before the engine saw them, both ports.</summary>
    public long CaptureDrops => (Camera?.Traffic.CaptureDrops ?? 0) + (Uplink?.Traffic.CaptureDrops ?? 0);
}

/// <summary>What a data plane's in-kernel fast path (the XDP flow offload) holds and has done since start.</summary>
/// <param name="Attached">True while its programs are attached to both ports (false after a fault detached them).</param>
/// <param name="Flows">Flows in its map now.</param>
/// <param name="Installed">Flows installed since start (re-offers after a policy change included).</param>
/// <param name="InstallFailures">Offers refused (map full, or the kernel refused the update): those flows stay on the engine's path.</param>
/// <param name="FramesForwarded">Frames the kernel forwarded, as accounted so far (sweeps and withdrawals).</param>
/// <param name="BytesForwarded">Their bytes.</param>
public sealed record FastPathReport(bool Attached, int Flows, long Installed, long InstallFailures, long FramesForwarded, long BytesForwarded);
