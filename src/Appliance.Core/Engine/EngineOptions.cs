using System.Globalization;

namespace Appliance.Core.Engine;

/// <summary>Sizes and timeouts of one engine instance (one per bridge port pair).</summary>
/// <remarks>
/// The properties are settable, not <c>init</c>: the host binds its <c>Engine</c> configuration section onto an
/// existing instance with the configuration-binding source generator, which cannot call an <c>init</c> accessor
/// there and skips such a property without a word (the key would be ignored in the field). The engine copies the
/// values its frame path uses when it is built (<see cref="PacketEngine(Policy.PolicyHolder, EngineOptions?)"/>), so
/// a later change to the object does not reach a running engine's decisions.
/// </remarks>
public sealed record EngineOptions
{
    /// <summary>Flow table capacity (entries). 1,000,000 fit in under 256 MiB (96-byte entries, load at most one half); pages are resident only once used.</summary>
    public int FlowCapacity { get; set; } = 262_144;

    /// <summary>Flows one camera may hold when its policy sets no quota.</summary>
    public int DefaultFlowQuota { get; set; } = 4_096;

    /// <summary>
    /// Share of a camera's flow quota, in percent, that one peer address may hold (at least one flow). At the default
    /// no single address, a spoofed one included, can take more than half of a camera's flows, so the rest of the
    /// site (the NVR, the admins) always has the other half; 100 turns the per-peer limit off.
    /// </summary>
    public int PeerFlowSharePercent { get; set; } = 50;

    /// <summary>Drop-event ring capacity.</summary>
    public int EventRingCapacity { get; set; } = 65_536;

    /// <summary>
    /// Learn mode's note ring capacity (<see cref="PacketEngine.FlowNotes"/>): flows of learn-mode cameras opened and
    /// closed between two drains of the learner (about 100 bytes a note: 8,192 take under 800 KiB). More are counted as lost.
    /// </summary>
    public int FlowNoteRingCapacity { get; set; } = 8_192;

    /// <summary>
    /// How long a TCP flow lives between an allowed SYN and the handshake's end. Short, so unanswered openers
    /// (scans, a dead peer) give their quota place back soon.
    /// </summary>
    public TimeSpan TcpHalfOpenTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Idle time after which an established TCP flow is forgotten; every segment renews it. Long, because camera
    /// streams and NVR control connections can sit idle between events.
    /// </summary>
    public TimeSpan TcpEstablishedTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long a TCP flow lives after a FIN or RST, so the last segments and retransmissions of the close pass.</summary>
    public TimeSpan TcpClosingTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Idle time after which a UDP flow is forgotten; every datagram renews it. Also how long a camera's DHCP
    /// broadcast keeps the door open for a unicast offer or ack from the uplink.
    /// </summary>
    public TimeSpan UdpTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an allowed ICMP echo request waits for its reply (and after each reply, for the next).</summary>
    public TimeSpan IcmpTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the later fragments of an allowed first fragment are let through; after it they are orphans.</summary>
    public TimeSpan FragmentTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Flow-table slots <see cref="PacketEngine.Maintain"/> examines per call. At the default a 262,144-entry table
    /// (524,288 slots) is swept every 128 calls; each call costs a few microseconds.
    /// </summary>
    public int MaintenanceSlotsPerCall { get; set; } = 4_096;

    /// <summary>DNS queries (all cameras) whose answers are awaited; an answer teaches only when it matches one.</summary>
    public int DnsQueryCapacity { get; set; } = 4_096;

    /// <summary>Unanswered DNS queries one camera may have; more are forwarded but their answers teach nothing.</summary>
    public int DnsQueriesPerCamera { get; set; } = 32;

    /// <summary>How long a DNS query waits for its answer.</summary>
    public TimeSpan DnsQueryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Learned names in total (each takes a 256-byte cell: 16,384 names are 4 MiB).</summary>
    public int DnsNameCapacity { get; set; } = 16_384;

    /// <summary>Learned addresses in total.</summary>
    public int DnsAddressCapacity { get; set; } = 65_536;

    /// <summary>Learned names one camera may hold.</summary>
    public int DnsNamesPerCamera { get; set; } = 256;

    /// <summary>Learned addresses one name may hold for one camera.</summary>
    public int DnsAddressesPerName { get; set; } = 16;

    /// <summary>The largest table or ring an engine accepts (entries).</summary>
    public const int MaxCapacity = 16_777_216;

    /// <summary>The longest timeout an engine accepts.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(7);

    /// <summary>
    /// Every size or timeout that cannot work, one message each, naming the property and the allowed range (the host
    /// prefixes its configuration section). Empty when the options are usable.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        Range(problems, nameof(FlowCapacity), FlowCapacity, 16, MaxCapacity);
        Range(problems, nameof(DefaultFlowQuota), DefaultFlowQuota, 1, MaxCapacity); // above FlowCapacity it simply never binds
        Range(problems, nameof(PeerFlowSharePercent), PeerFlowSharePercent, 1, 100);
        Range(problems, nameof(EventRingCapacity), EventRingCapacity, 2, MaxCapacity);
        Range(problems, nameof(FlowNoteRingCapacity), FlowNoteRingCapacity, 2, MaxCapacity);
        Range(problems, nameof(MaintenanceSlotsPerCall), MaintenanceSlotsPerCall, 1, MaxCapacity);
        Timeout(problems, nameof(TcpHalfOpenTimeout), TcpHalfOpenTimeout);
        Timeout(problems, nameof(TcpEstablishedTimeout), TcpEstablishedTimeout);
        Timeout(problems, nameof(TcpClosingTimeout), TcpClosingTimeout);
        Timeout(problems, nameof(UdpTimeout), UdpTimeout);
        Timeout(problems, nameof(IcmpTimeout), IcmpTimeout);
        Timeout(problems, nameof(FragmentTimeout), FragmentTimeout);
        Range(problems, nameof(DnsQueryCapacity), DnsQueryCapacity, 1, MaxCapacity);
        Range(problems, nameof(DnsQueriesPerCamera), DnsQueriesPerCamera, 1, MaxCapacity);
        Range(problems, nameof(DnsNameCapacity), DnsNameCapacity, 1, MaxCapacity);
        Range(problems, nameof(DnsAddressCapacity), DnsAddressCapacity, 1, MaxCapacity);
        Range(problems, nameof(DnsNamesPerCamera), DnsNamesPerCamera, 1, MaxCapacity);
        Range(problems, nameof(DnsAddressesPerName), DnsAddressesPerName, 1, MaxCapacity);
        Timeout(problems, nameof(DnsQueryTimeout), DnsQueryTimeout);
        return problems;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> listing every <see cref="Problems"/> entry.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(EngineOptions), string.Join("; ", problems));
        }
    }

    private static void Range(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {value} must be between {min} and {max}"));
        }
    }

    private static void Timeout(List<string> problems, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > MaxTimeout)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {value} must be positive and at most 7 days"));
        }
    }
}
