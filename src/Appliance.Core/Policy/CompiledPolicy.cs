using System.Runtime.CompilerServices;

namespace Appliance.Core.Policy;

/// <summary>
/// An immutable, compiled policy: the lookup tables the data path consults. Built off the hot path by
/// <see cref="Compile"/>, published through <see cref="PolicyHolder.Swap"/>, never mutated after.
/// </summary>
/// <remarks>
/// Layout (every lookup is a hash probe or a binary search; nothing scans cameras or rules):
/// <list type="bullet">
/// <item><see cref="MacIndex"/> and <see cref="IpIndex"/>: open-addressing maps from a MAC or an address to a
/// dense camera index into <c>CameraRecords</c>, the flat per-camera facts the data path needs.</item>
/// <item>One <see cref="RuleSetIndex"/> per distinct effective rule set, shared by every camera that has it,
/// so 100,000 cameras built from a few profiles cost a few rule tables.</item>
/// <item>Rules are numbered globally (<see cref="RuleIds"/>); a verdict's <see cref="Verdict.RuleIndex"/>
/// indexes them.</item>
/// </list>
/// </remarks>
public sealed partial class CompiledPolicy
{
    private readonly CameraRecord[] _records;
    private readonly int[] _cameraBySlot;
    private readonly bool[] _ruleLogs;
    private readonly bool[] _ruleEncryptedDns;

    private CompiledPolicy(
        CameraRecord[] records,
        CompiledCamera[] cameras,
        int[] cameraBySlot,
        MacIndex macs,
        IpIndex addresses,
        RuleInfo[] rules,
        int ruleSetCount)
    {
        _records = records;
        _cameraBySlot = cameraBySlot;
        Cameras = cameras;
        Macs = macs;
        Addresses = addresses;
        Rules = rules;
        RuleSetCount = ruleSetCount;
        _ruleLogs = new bool[rules.Length];
        _ruleEncryptedDns = new bool[rules.Length];
        var ids = new string[rules.Length];
        for (var i = 0; i < rules.Length; i++)
        {
            ids[i] = rules[i].Id;
            _ruleLogs[i] = rules[i].Log;
            _ruleEncryptedDns[i] = rules[i].EncryptedDns;
        }

        RuleIds = ids;
    }

    /// <summary>Monotonic version assigned by <see cref="PolicyHolder.NextVersion"/>.</summary>
    public uint Version { get; private init; }

    /// <summary>sha256 of the sources (from the spec).</summary>
    public string Sha256 { get; private init; } = "";

    /// <summary>When <see cref="Compile"/> built it (UTC).</summary>
    public DateTimeOffset CompiledAt { get; private init; }

    /// <summary>The resolved spec this was compiled from (for display, diffing and the API).</summary>
    public PolicySpec Spec { get; private init; } = null!;

    /// <summary>Rule ids by <see cref="Verdict.RuleIndex"/>.</summary>
    public IReadOnlyList<string> RuleIds { get; }

    /// <summary>Every camera, in spec order, with its counter slot and its decompiled rules.</summary>
    public IReadOnlyList<CompiledCamera> Cameras { get; }

    /// <summary>How many distinct effective rule sets the cameras share (a measure of table deduplication).</summary>
    public int RuleSetCount { get; }

    /// <summary>What the site does with devices that are not listed.</summary>
    public UnknownDeviceMode UnknownDevices { get; private init; }

    /// <summary>The site is in learn mode: the engine notes camera-side devices the policy does not list.</summary>
    internal bool LearnsUnknownDevices { get; private init; }

    internal MacIndex Macs { get; }

    internal IpIndex Addresses { get; }

    internal RuleInfo[] Rules { get; }

    /// <summary>Union over cameras: a broadcast DHCP reply from the uplink may pass if any camera uses DHCP.</summary>
    internal bool AnyDhcp { get; private init; }

    /// <summary>The site's DHCP servers; empty: any uplink host. A handful at most (the policy limits the list).</summary>
    internal IpAddr[] DhcpServers { get; private init; } = [];

    /// <summary>The site's IPv6 routers (link-local); empty: any uplink host.</summary>
    internal IpAddr[] Routers { get; private init; } = [];

    /// <summary>Union over cameras: uplink multicast neighbour discovery may pass if any camera uses IPv6.</summary>
    internal bool AnyIpv6 { get; private init; }

    /// <summary>Union over cameras: which discovery protocols an uplink probe may use to reach the camera side.</summary>
    internal DiscoveryProtocols AnyDiscovery { get; private init; }

    /// <summary>The DNS tunnel guard's thresholds.</summary>
    internal DnsGuardSettings Guard { get; private init; } = new(new DnsGuardSpec());

    /// <summary><see cref="SiteSpec.DnsMinTtl"/> in milliseconds.</summary>
    internal long DnsMinTtlMs { get; private init; }

    /// <summary>Looks a camera up by its counter slot (stable across reloads).</summary>
    public bool TryGetCameraBySlot(int slot, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CompiledCamera? camera)
    {
        var index = CameraIndexOfSlot(slot);
        camera = index >= 0 ? Cameras[index] : null;
        return camera is not null;
    }

    /// <summary>Looks a camera up by name (ordinal). Off the hot path.</summary>
    public bool TryGetCamera(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CompiledCamera? camera)
    {
        foreach (var c in Cameras)
        {
            if (string.Equals(c.Name, name, StringComparison.Ordinal))
            {
                camera = c;
                return true;
            }
        }

        camera = null;
        return false;
    }

    /// <summary>
    /// The rules of <paramref name="cameraName"/> reconstructed from the compiled tables (not copied from the spec),
    /// in canonical form: ports merged and sorted, peers as the fewest CIDR blocks, "any" as an empty list.
    /// </summary>
    public IReadOnlyList<RuleSpec> EffectiveRules(string cameraName)
        => TryGetCamera(cameraName, out var camera) ? camera.EffectiveRules() : [];

    /// <summary>True when the rule at <paramref name="ruleIndex"/> asks for its matches to be logged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsLogged(int ruleIndex) => (uint)ruleIndex < (uint)_ruleLogs.Length && _ruleLogs[ruleIndex];

    /// <summary>True when the rule at <paramref name="ruleIndex"/> may admit encrypted DNS (<see cref="RuleSpec.EncryptedDns"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool AllowsEncryptedDns(int ruleIndex) => (uint)ruleIndex < (uint)_ruleEncryptedDns.Length && _ruleEncryptedDns[ruleIndex];

    /// <summary>The known DoH resolvers' addresses (<see cref="SiteSpec.DohResolvers"/>); a few dozen at most.</summary>
    internal IpAddr[] DohAddresses { get; private init; } = [];

    /// <summary>The known DoH resolvers' names and wildcards, or null when the list has none.</summary>
    internal DnsQueryFilter? DohNames { get; private init; }

    /// <summary>Whether <paramref name="address"/> is a listed DoH resolver's address.</summary>
    internal bool IsDohAddress(IpAddr address) => Contains(DohAddresses, address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref readonly CameraRecord Record(int cameraIndex) => ref _records[cameraIndex];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int CameraIndexOfSlot(int slot) => (uint)slot < (uint)_cameraBySlot.Length ? _cameraBySlot[slot] : -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int CameraByMac(MacAddress mac) => Macs.Find(mac);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int CameraByAddress(IpAddr address) => Addresses.Find(address);

    /// <summary>Whether <paramref name="source"/> may answer as a DHCP server: it is listed, or the site lists none.</summary>
    internal bool IsDhcpServer(IpAddr source) => DhcpServers.Length == 0 || Contains(DhcpServers, source);

    /// <summary>Whether <paramref name="source"/> may advertise itself as an IPv6 router: it is listed, or the site lists none.</summary>
    internal bool IsRouter(IpAddr source) => Routers.Length == 0 || Contains(Routers, source);

    private static bool Contains(IpAddr[] list, IpAddr address)
    {
        foreach (var a in list)
        {
            if (a.Value == address.Value)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>What the data path needs to know about one camera, flat, in a dense array.</summary>
internal struct CameraRecord
{
    public int Slot;
    public MacAddress Mac;
    public bool HasMac;
    public bool HasAddresses;
    public bool Monitor;

    /// <summary>Learn mode: the engine tells the learner about the camera's flows (see <see cref="Engine.FlowNote"/>).</summary>
    public bool Learn;
    public bool AllowArp;
    public bool AllowDhcp;
    public bool AllowIpv6;
    public DiscoveryProtocols Discovery;

    /// <summary>Flow quota from the policy, or 0 for the engine's default.</summary>
    public int FlowQuota;

    public RuleSetIndex Rules;

    /// <summary>The names the camera may ask its resolver about, or null: any (see <see cref="DnsQueryFilter"/>).</summary>
    public DnsQueryFilter? Queries;

    /// <summary>What the DNS tunnel guard does with the camera's queries.</summary>
    public DnsGuardAction Guard;
}

/// <summary>The parts of a rule that are not lookup keys: its identity and what to print.</summary>
internal sealed record RuleInfo(string Id, Direction Direction, RuleProtocol Protocol, bool Log, string? Comment, string? Origin)
{
    /// <summary>The rule's DNS names (<see cref="RuleSpec.Names"/>).</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary><see cref="RuleSpec.EncryptedDns"/>.</summary>
    public bool EncryptedDns { get; init; }
}
