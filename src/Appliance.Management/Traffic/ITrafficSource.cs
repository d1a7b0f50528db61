using Appliance.Core;

namespace Appliance.Management.Traffic;

/// <summary>One data plane (bridge port pair) as health and metrics see it.</summary>
/// <param name="Name">The pair's name, e.g. <c>pair0</c>.</param>
/// <param name="Healthy">False once its engine or thread died (the process then exits).</param>
/// <param name="Error">Why it is unhealthy.</param>
/// <param name="CaptureDrops">Frames the capture layer lost (kernel or ring full), both ports.</param>
/// <param name="FlowCount">Flows in its table.</param>
/// <param name="FlowCapacity">Its table's capacity.</param>
/// <param name="EventsLost">Drop events lost because its event ring was full.</param>
/// <param name="Ports">Its ports' link and loss counters (empty when the backend has none to report).</param>
/// <param name="QuotaEvictions">Flows its engine pushed out to fit a camera's new opener in its flow quota, since start.</param>
/// <param name="FastPath">Its in-kernel fast path (Bridge:XdpOffload), when it runs one; otherwise null.</param>
public sealed record DataPlaneStatus(string Name, bool Healthy, string? Error, long CaptureDrops, int FlowCount, int FlowCapacity, long EventsLost, IReadOnlyList<PortStatus>? Ports = null, long QuotaEvictions = 0, FastPathStatus? FastPath = null);

/// <summary>A data plane's XDP fast path: whether it is attached, what its flow map holds and what it forwarded.</summary>
/// <param name="Attached">True while its programs are attached to both ports.</param>
/// <param name="Flows">Flows in its map now.</param>
/// <param name="Installed">Flows installed since start.</param>
/// <param name="InstallFailures">Offers refused (map full, or the kernel refused): those flows stay on the engine's path.</param>
/// <param name="FramesForwarded">Frames the kernel forwarded (also counted in the engine's per-camera counters).</param>
/// <param name="BytesForwarded">Their bytes.</param>
public sealed record FastPathStatus(bool Attached, int Flows, long Installed, long InstallFailures, long FramesForwarded, long BytesForwarded);

/// <summary>One port of a data plane: its link and what it lost, for health and metrics.</summary>
/// <param name="Name">Interface name.</param>
/// <param name="Side"><c>camera</c> or <c>uplink</c>.</param>
/// <param name="Link"><c>up</c>, <c>admin-down</c>, <c>no-carrier</c>, <c>gone</c> or <c>unknown</c>.</param>
/// <param name="Mtu">The interface MTU now (0 when unknown).</param>
/// <param name="Problem">What is wrong with it (down, MTU or offloads changed since start), or null.</param>
/// <param name="SendErrorsByErrno">Frames it could not send, by errno name (ENOBUFS, EAGAIN, ENETDOWN, EMSGSIZE, other).</param>
/// <param name="SendRetries">Sends tried again after waiting for the port to become writable.</param>
/// <param name="Truncated">Frames that arrived on it cut short (dropped, never forwarded cut).</param>
/// <param name="CaptureDrops">Frames its capture buffer lost.</param>
/// <param name="InterfaceDrops">Frames its interface dropped.</param>
public sealed record PortStatus(
    string Name,
    string Side,
    string Link,
    int Mtu,
    string? Problem,
    IReadOnlyList<KeyValuePair<string, long>> SendErrorsByErrno,
    long SendRetries,
    long Truncated,
    long CaptureDrops,
    long InterfaceDrops);

/// <summary>Syslog shipping as health and metrics see it.</summary>
/// <param name="Connected">Whether the collector connection is up.</param>
/// <param name="Pending">Messages waiting (queue depth: memory and spool).</param>
/// <param name="SpoolRecords">Of those, messages in the on-disk spool.</param>
/// <param name="SpoolBytes">Bytes of the spool's files.</param>
/// <param name="OldestUndeliveredSeconds">Age of the oldest waiting message (0 when none).</param>
/// <param name="Sent">Messages delivered since start.</param>
/// <param name="Discarded">Messages lost since start, by reason (queue-full, low-severity, spool-full, spool-error, shutdown).</param>
/// <param name="SpoolCorruptRegions">Damaged spool regions skipped.</param>
/// <param name="Problem">Why events cannot be delivered (health is then <c>degraded</c>), or null.</param>
public sealed record SyslogShippingStatus(
    bool Connected,
    long Pending,
    long SpoolRecords,
    long SpoolBytes,
    double OldestUndeliveredSeconds,
    long Sent,
    IReadOnlyList<KeyValuePair<string, long>> Discarded,
    long SpoolCorruptRegions,
    string? Problem);

/// <summary>A camera's counters, summed over every data plane; <paramref name="NoDnsForPeer"/>: its connection attempts to public addresses it never resolved.</summary>
public readonly record struct CameraTotals(long FramesPassed, long FramesDropped, long BytesPassed, long BytesDropped, DateTimeOffset? LastSeen, long NoDnsForPeer = 0);

/// <summary>One tracked flow, for the API; <paramref name="PeerName"/> is the name the camera last resolved to the peer's address, or null.</summary>
public sealed record FlowView(string Plane, string? Camera, string Protocol, string Source, int SourcePort, string Destination, int DestinationPort, string Direction, string State, uint PolicyVersion, DateTimeOffset? LastSeen, string? PeerName = null);

/// <summary>One name a camera learned from the DNS answers it was forwarded, with one address it maps to.</summary>
/// <param name="Camera">The camera.</param>
/// <param name="Name">The name (lower case).</param>
/// <param name="Address">An address the camera's answers gave for it.</param>
/// <param name="RemainingSeconds">Seconds until it lapses; negative when lapsed (then kept only while a flow with the address lives).</param>
/// <param name="AdmitsSeconds">Seconds a name rule may still admit the address through it (negative: lapsed, kept by a live
/// flow); null when it admits nothing (taught by an answer to a query no rule admitted).</param>
public sealed record LearnedNameView(string Camera, string Name, string Address, double RemainingSeconds, double? AdmitsSeconds = null);

/// <summary>A page of flows.</summary>
public sealed record FlowPage(int Total, IReadOnlyList<FlowView> Flows);

/// <summary>
/// What the management API reads from the data path. The host implements it over its engines; every call is off
/// the hot path and reads counters the data-plane threads publish.
/// </summary>
public interface ITrafficSource
{
    /// <summary>Every data plane.</summary>
    IReadOnlyList<DataPlaneStatus> DataPlanes();

    /// <summary>Counters of the camera in <paramref name="slot"/>.</summary>
    CameraTotals Camera(int slot);

    /// <summary>Frames by reason (pass and drop reasons), summed over data planes; zero counts may be left out.</summary>
    IReadOnlyList<KeyValuePair<Reason, long>> Reasons();

    /// <summary>A page of tracked flows, in a stable order.</summary>
    FlowPage Flows(int offset, int limit);

    /// <summary>What every camera learned from its DNS answers (every data plane), for <c>policy show</c> and the API.</summary>
    IReadOnlyList<LearnedNameView> LearnedNames() => [];

    /// <summary>Syslog messages lost because the shipping queue was full.</summary>
    long SyslogQueueDropped { get; }

    /// <summary>Syslog shipping state, or null when no collector is configured.</summary>
    SyslogShippingStatus? Syslog => null;

    /// <summary>
    /// The policy proposal learned from the cameras in learn mode (<c>GET /api/v1/proposal</c>), or null when no
    /// camera is in learn mode. Never applied by itself.
    /// </summary>
    ProposalView? Proposal() => null;
}

/// <summary>
/// A learned policy proposal: its files (name relative to the policy directory to text; the <c>.yaml</c> ones
/// make a policy directory an admin can review and apply with <c>camfw apply DIR --confirm-within N</c>), a diff
/// against the running policy, and counts.
/// </summary>
public sealed record ProposalView(IReadOnlyDictionary<string, string> Files, string Diff, int Cameras, int Allowed, int NeedsDecision, int NotLearned, IReadOnlyList<string> Problems)
{
    /// <summary>Learn-mode notes the engines dropped because their ring was full (flows that may be missing).</summary>
    public long NotesLost { get; init; }

    /// <summary>Services and devices evicted from the bounded summary (never learned services; see the learner's bounds).</summary>
    public long Evicted { get; init; }
}

/// <summary>No data path, for tests that run the management server without engines: nothing counted.</summary>
internal sealed class NullTrafficSource : ITrafficSource
{
    public static NullTrafficSource Instance { get; } = new();

    public long SyslogQueueDropped => 0;

    public IReadOnlyList<DataPlaneStatus> DataPlanes() => [];

    public CameraTotals Camera(int slot) => default;

    public IReadOnlyList<KeyValuePair<Reason, long>> Reasons() => [];

    public FlowPage Flows(int offset, int limit) => new(0, []);
}
