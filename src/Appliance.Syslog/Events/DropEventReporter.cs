using System.Globalization;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog.Events;

/// <summary>
/// Turns the engines' <see cref="DropEvent"/>s into security events: one message per newly seen flow (camera,
/// addresses, protocol, ports, direction, reason, kind), never one per frame. Further frames of a reported flow
/// are counted and summarised every <see cref="SecurityEventOptions.RepeatReportInterval"/> as
/// <c>flow-repeat</c>; a flow idle for <see cref="SecurityEventOptions.FlowIdleExpiry"/> is forgotten.
/// Unknown devices and spoofing are keyed by the sending MAC and address only, so a spoofer spraying ports is one
/// event. A hosted service polls every <see cref="SecurityEventOptions.PollInterval"/>; a host that drives it
/// itself calls <see cref="DrainOnce"/> instead of starting it.
/// </summary>
public sealed class DropEventReporter : BackgroundService
{
    private readonly SecurityEventLog _log;
    private readonly PolicyHolder _policies;
    private readonly SecurityEventOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<FlowKey, FlowEntry> _flows = [];
    private readonly Lock _gate = new();
    private RingState[] _rings = [];
    private CompiledPolicy? _previousPolicy;
    private DateTimeOffset _nextRepeatReport;
    private DateTimeOffset _nextFullSweep;
    private long _suppressed;
    private long _suppressedTotal;
    private int _executed;

    /// <summary>Creates the reporter; attach rings with <see cref="Attach"/>.</summary>
    public DropEventReporter(SecurityEventLog log, PolicyHolder policies, IOptions<SecurityEventOptions> options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(options);
        _log = log;
        _policies = policies;
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        _nextRepeatReport = _time.GetUtcNow() + _options.RepeatReportInterval;
        _policies.Swapped += OnPolicySwapped;
    }

    /// <summary>Flows currently remembered.</summary>
    public int TrackedFlows
    {
        get
        {
            lock (_gate)
            {
                return _flows.Count;
            }
        }
    }

    /// <summary>New flows counted but not reported individually because the flow table was full.</summary>
    public long SuppressedFlows => Interlocked.Read(ref _suppressedTotal);

    /// <summary>Starts draining <paramref name="ring"/> (one per engine). Safe at any time.</summary>
    public void Attach(DropEventRing ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        lock (_gate)
        {
            _rings = [.. _rings, new RingState(ring, _rings.Length)];
        }
    }

    /// <summary>Stops draining <paramref name="ring"/>.</summary>
    public void Detach(DropEventRing ring)
    {
        lock (_gate)
        {
            _rings = [.. _rings.Where(r => r.Ring != ring)];
        }
    }

    /// <summary>
    /// Drains every attached ring, reports new flows, and when due summarises repeats and forgets idle flows.
    /// Returns the number of drop events processed.
    /// </summary>
    public int DrainOnce()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var processed = 0;
            foreach (var state in _rings)
            {
                while (state.Ring.TryRead(out var e))
                {
                    Process(in e, state.Ring, now);
                    processed++;
                }
            }

            if (now >= _nextRepeatReport)
            {
                ReportRepeats(now, forget: true);
                _nextRepeatReport = now + _options.RepeatReportInterval;
            }

            return processed;
        }
    }

    /// <summary>Reports every pending repeat count now (shutdown, tests), without forgetting flows.</summary>
    public void FlushRepeats()
    {
        lock (_gate)
        {
            ReportRepeats(_time.GetUtcNow(), forget: false);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Volatile.Write(ref _executed, 1);
        using var timer = new PeriodicTimer(_options.PollInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                DrainOnce();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: report what is left below.
        }

        DrainOnce();
        FlushRepeats();
    }

    /// <inheritdoc />
    /// <remarks>
    /// Since .NET 10 <see cref="BackgroundService"/> starts <see cref="ExecuteAsync"/> through
    /// <c>Task.Run(..., stoppingToken)</c>, which never runs it when the host stops before the thread pool picked it up;
    /// the drops recorded until then are reported here instead of being lost.
    /// </remarks>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (Volatile.Read(ref _executed) == 0)
        {
            DrainOnce();
            FlushRepeats();
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _policies.Swapped -= OnPolicySwapped;
        base.Dispose();
    }

    private void OnPolicySwapped(CompiledPolicy? old, CompiledPolicy next) => Volatile.Write(ref _previousPolicy, old);

    private void Process(in DropEvent e, DropEventRing ring, DateTimeOffset now)
    {
        var kind = Classify(in e);
        var key = FlowKey.For(kind, in e);
        if (_flows.TryGetValue(key, out var entry))
        {
            entry.LastSeen = now;
            entry.Repeats++;
            return;
        }

        if (_flows.Count >= _options.MaxTrackedFlows)
        {
            // A scan or spoofing storm: sweep idle flows at most once a second (the sweep is O(n)), then count.
            if (now >= _nextFullSweep)
            {
                Forget(now);
                _nextFullSweep = now + TimeSpan.FromSeconds(1);
            }

            if (_flows.Count >= _options.MaxTrackedFlows)
            {
                _suppressed++;
                Interlocked.Increment(ref _suppressedTotal);
                return;
            }
        }

        var fields = Describe(in e, ring.NameOf(in e));
        _flows.Add(key, new FlowEntry(kind, fields, now));
        _log.Flow(kind, in fields);
    }

    private void ReportRepeats(DateTimeOffset now, bool forget)
    {
        foreach (var (_, entry) in _flows)
        {
            if (entry.Repeats > 0)
            {
                var seconds = (int)Math.Max(1, Math.Round((now - entry.LastReported).TotalSeconds));
                _log.Repeat(entry.Repeats, seconds, entry.Kind, in entry.Fields);
                entry.Repeats = 0;
                entry.LastReported = now;
            }
        }

        foreach (var state in _rings)
        {
            var lost = state.Ring.Lost;
            if (lost > state.LostReported)
            {
                _log.EventsLost(lost - state.LostReported, state.Index);
                state.LostReported = lost;
            }
        }

        if (_suppressed > 0)
        {
            _log.FlowsSuppressed(_suppressed, _options.MaxTrackedFlows);
            _suppressed = 0;
        }

        if (forget)
        {
            Forget(now);
        }
    }

    private void Forget(DateTimeOffset now)
    {
        // Dictionary allows Remove during enumeration (since .NET Core 3.0).
        foreach (var (key, entry) in _flows)
        {
            if (now - entry.LastSeen >= _options.FlowIdleExpiry && entry.Repeats == 0)
            {
                _flows.Remove(key);
            }
        }
    }

    /// <summary>The MSGID of a drop event.</summary>
    internal static string Classify(in DropEvent e)
    {
        if (e.IsLoggedMatch)
        {
            return SecurityEventIds.RuleMatch;
        }

        switch (e.Reason)
        {
            case Reason.MacSpoof:
                return SecurityEventIds.MacSpoof;
            case Reason.IpSpoof:
                return SecurityEventIds.IpSpoof;
            case Reason.ArpSpoof:
                return SecurityEventIds.ArpSpoof;
            case Reason.UnknownDevice:
                return SecurityEventIds.UnknownDevice;
        }

        if (ReasonNames.IsMalformed(e.Reason))
        {
            return SecurityEventIds.MalformedFrame;
        }

        if (e.CameraSlot >= 0 && e.Direction == Direction.Egress && e.Side == Side.Camera && e.Protocol != 0 && AddressScope.IsPublic(e.Destination))
        {
            return SecurityEventIds.PhoneHome;
        }

        return e.Monitored ? SecurityEventIds.MonitoredDrop : SecurityEventIds.FlowDenied;
    }

    private FlowFields Describe(in DropEvent e, string? peerName)
    {
        var camera = e.CameraSlot >= 0 ? _policies.Slots.NameOf(e.CameraSlot) ?? "slot-" + e.CameraSlot.ToString(CultureInfo.InvariantCulture) : "-";

        // The camera's MAC is on the camera side of the frame; for unknown devices and spoofing, report the sender.
        var mac = e.Reason is Reason.UnknownDevice or Reason.MacSpoof or Reason.IpSpoof or Reason.ArpSpoof || e.Side == Side.Camera
            ? e.SourceMac
            : e.DestinationMac;
        var action = e.IsLoggedMatch ? "passed" : e.Monitored ? "monitored" : "dropped";
        return new FlowFields(
            camera,
            mac.ToString(),
            e.Direction == Direction.Egress ? "egress" : "ingress",
            ProtocolName(in e),
            e.Protocol == 0 && e.Source.Value == UInt128.Zero ? "-" : e.Source.ToString(),
            e.SourcePort,
            e.Protocol == 0 && e.Destination.Value == UInt128.Zero ? "-" : e.Destination.ToString(),
            e.DestinationPort,
            peerName ?? "-",
            ReasonNames.Name(e.Reason),
            RuleId(e.PolicyVersion, e.RuleIndex),
            e.PolicyVersion,
            action);
    }

    private string RuleId(uint version, int index)
    {
        if (index < 0)
        {
            return "-";
        }

        // The event may predate the last swap: take the id from the policy that decided, never from a newer one.
        var policy = _policies.Current;
        if (policy is null || policy.Version != version)
        {
            policy = Volatile.Read(ref _previousPolicy);
        }

        return policy is not null && policy.Version == version && index < policy.RuleIds.Count
            ? policy.RuleIds[index]
            : "#" + index.ToString(CultureInfo.InvariantCulture);
    }

    private static string ProtocolName(in DropEvent e) => e.Protocol switch
    {
        6 => "tcp",
        17 => "udp",
        1 => "icmp/" + e.IcmpType.ToString(CultureInfo.InvariantCulture) + "." + e.IcmpCode.ToString(CultureInfo.InvariantCulture),
        58 => "icmpv6/" + e.IcmpType.ToString(CultureInfo.InvariantCulture) + "." + e.IcmpCode.ToString(CultureInfo.InvariantCulture),
        0 => e.EtherType switch
        {
            0x0806 => "arp",
            0x0800 => "ipv4",
            0x86DD => "ipv6",
            _ => "ethertype-0x" + e.EtherType.ToString("x4", CultureInfo.InvariantCulture),
        },
        _ => "ip-proto-" + e.Protocol.ToString(CultureInfo.InvariantCulture),
    };

    private sealed class RingState(DropEventRing ring, int index)
    {
        public DropEventRing Ring { get; } = ring;

        public int Index { get; } = index;

        public long LostReported { get; set; }
    }

    private sealed class FlowEntry(string kind, FlowFields fields, DateTimeOffset now)
    {
        public readonly string Kind = kind;
        public readonly FlowFields Fields = fields;
        public DateTimeOffset LastSeen = now;
        public DateTimeOffset LastReported = now;
        public long Repeats;
    }

    /// <summary>What makes two events "the same flow" for reporting.</summary>
    private readonly record struct FlowKey(
        string Kind,
        int Camera,
        IpAddr Source,
        IpAddr Destination,
        ulong Mac,
        ushort SourcePort,
        ushort DestinationPort,
        byte Protocol,
        ushort Icmp,
        Direction Direction,
        Reason Reason)
    {
        public static FlowKey For(string kind, in DropEvent e)
        {
            // Unknown devices and spoofers: one event per sender (MAC and address), whatever they send to.
            if (kind is SecurityEventIds.UnknownDevice or SecurityEventIds.MacSpoof or SecurityEventIds.IpSpoof or SecurityEventIds.ArpSpoof)
            {
                return new FlowKey(kind, e.CameraSlot, e.Source, default, e.SourceMac.Value, 0, 0, 0, 0, default, e.Reason);
            }

            // A DNS tunnel: one event per camera and trigger, whatever ports and names each query uses (the engine
            // already reports each at most once per 10 s; the rest are counted as repeats here).
            if (e.Reason is >= Reason.DnsTunnelRate and <= Reason.DnsTunnelQueryType)
            {
                return new FlowKey(kind, e.CameraSlot, default, default, 0, 0, 0, 0, 0, default, e.Reason);
            }

            // Malformed frames may carry no usable addresses: key them by sender MAC and reason.
            var mac = kind == SecurityEventIds.MalformedFrame ? e.SourceMac.Value : 0;
            return new FlowKey(kind, e.CameraSlot, e.Source, e.Destination, mac, e.SourcePort, e.DestinationPort, e.Protocol, (ushort)((e.IcmpType << 8) | e.IcmpCode), e.Direction, e.Reason);
        }
    }
}
