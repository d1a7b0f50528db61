using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.Syslog.Events;
using Appliance.Syslog.Tests.Support;
using Appliance.TestSupport.Frames;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog.Tests.Events;

public sealed class DropEventReporterTests : IDisposable
{
    private static readonly MacAddress CameraMac = new(0x0200_0000_0010UL);
    private static readonly MacAddress GatewayMac = new(0x0200_0000_00FEUL);

    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 5, 0, 0, TimeSpan.Zero));
    private readonly CapturingLogger<SecurityEventLog> _logger = new();
    private readonly PolicyHolder _policies = new();
    private readonly DropEventRing _ring = new(1024);
    private readonly SecurityEventLog _events;
    private readonly DropEventReporter _reporter;
    private readonly CompiledPolicy _policy;

    public DropEventReporterTests()
    {
        var options = Options.Create(new SecurityEventOptions { RecentCapacity = 50, MaxTrackedFlows = 16 });
        _events = new SecurityEventLog(_logger, options, _time);
        _reporter = new DropEventReporter(_events, _policies, options, _time);
        _reporter.Attach(_ring);
        _policy = CompiledPolicy.Compile(Spec(), _policies.NextVersion(), _policies.Slots);
        _policies.Swap(_policy);
    }

    public void Dispose() => _reporter.Dispose();

    [Fact]
    public void DrainOnce_SameFlowManyFrames_OneMessageThenOneRepeatCount()
    {
        for (var i = 0; i < 5; i++)
        {
            Write(Denied("10.0.0.10", "10.0.0.99", 8080));
        }

        _reporter.DrainOnce();
        var first = Assert.Single(_logger.Entries);
        Assert.Equal(SecurityEventIds.FlowDenied, first.EventId.Name);
        Assert.Equal(LogLevel.Information, first.Level);

        _time.Advance(TimeSpan.FromSeconds(61));
        _reporter.DrainOnce();

        var repeat = _logger.Entries[1];
        Assert.Equal(SecurityEventIds.FlowRepeat, repeat.EventId.Name);
        Assert.Equal("4", repeat.Values["count"]);
        Assert.Equal("61", repeat.Values["seconds"]);
        Assert.Equal("10.0.0.99", repeat.Values["dst"]);
        Assert.Equal(2, _logger.Entries.Count);
    }

    [Fact]
    public void DrainOnce_NewFlow_CarriesCameraMacAddressesPortsReasonRuleAndPolicy()
    {
        var e = Denied("10.0.0.10", "10.0.0.99", 8080);
        e.RuleIndex = 0;
        e.Reason = Reason.FlowRevoked;
        Write(e);

        _reporter.DrainOnce();

        var v = Assert.Single(_logger.Entries).Values;
        Assert.Equal("cam-1", v["camera"]);
        Assert.Equal(CameraMac.ToString(), v["mac"]);
        Assert.Equal("10.0.0.10", v["src"]);
        Assert.Equal("40000", v["sport"]);
        Assert.Equal("10.0.0.99", v["dst"]);
        Assert.Equal("8080", v["dport"]);
        Assert.Equal("tcp", v["proto"]);
        Assert.Equal("egress", v["direction"]);
        Assert.Equal("flow-revoked", v["reason"]);
        Assert.Equal(_policy.RuleIds[0], v["rule"]);
        Assert.Equal(_policy.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), v["policy"]);
        Assert.Equal("dropped", v["action"]);
    }

    [Fact]
    public void DrainOnce_EventFromReplacedPolicy_RuleIdNotTakenFromNewerPolicy()
    {
        var e = Denied("10.0.0.10", "10.0.0.99", 8080);
        e.RuleIndex = 0;
        e.PolicyVersion = 77; // no policy with this version is known
        Write(e);

        _reporter.DrainOnce();

        Assert.Equal("#0", Assert.Single(_logger.Entries).Values["rule"]);
    }

    [Fact]
    public void DrainOnce_DifferentPorts_SeparateFlows()
    {
        Write(Denied("10.0.0.10", "10.0.0.99", 80));
        Write(Denied("10.0.0.10", "10.0.0.99", 81));
        Write(Denied("10.0.0.10", "10.0.0.99", 80));

        _reporter.DrainOnce();

        Assert.Equal(["80", "81"], _logger.Entries.Select(l => l.Values["dport"]));
    }

    [Theory]
    [InlineData("203.0.113.5", SecurityEventIds.PhoneHome, LogLevel.Warning)]     // pretend internet
    [InlineData("2001:db8::5", SecurityEventIds.PhoneHome, LogLevel.Warning)]     // pretend internet, IPv6
    [InlineData("8.8.8.8", SecurityEventIds.PhoneHome, LogLevel.Warning)]         // real internet
    [InlineData("192.168.1.1", SecurityEventIds.FlowDenied, LogLevel.Information)] // RFC 1918
    [InlineData("100.64.1.1", SecurityEventIds.FlowDenied, LogLevel.Information)]  // RFC 6598
    public void DrainOnce_CameraEgressDenied_PhoneHomeOnlyForPublicDestinations(string destination, string msgId, LogLevel level)
    {
        Write(Denied(destination.Contains(':', StringComparison.Ordinal) ? "fd00::10" : "10.0.0.10", destination, 443));

        _reporter.DrainOnce();

        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(msgId, entry.EventId.Name);
        Assert.Equal(level, entry.Level);
    }

    [Fact]
    public void DrainOnce_IngressFromPublicAddress_NotPhoneHome()
    {
        var e = Denied("203.0.113.5", "10.0.0.10", 22);
        e.Direction = Direction.Ingress;
        e.Side = Side.Uplink;
        e.SourceMac = GatewayMac;
        e.DestinationMac = CameraMac;
        Write(e);

        _reporter.DrainOnce();

        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(SecurityEventIds.FlowDenied, entry.EventId.Name);
        Assert.Equal(CameraMac.ToString(), entry.Values["mac"]); // the camera's MAC, not the gateway's
        Assert.Equal("ingress", entry.Values["direction"]);
    }

    [Theory]
    [InlineData(Reason.MacSpoof, SecurityEventIds.MacSpoof)]
    [InlineData(Reason.IpSpoof, SecurityEventIds.IpSpoof)]
    [InlineData(Reason.ArpSpoof, SecurityEventIds.ArpSpoof)]
    [InlineData(Reason.UnknownDevice, SecurityEventIds.UnknownDevice)]
    public void DrainOnce_SpoofOrUnknownSenderSprayingPorts_OneWarningPerSender(Reason reason, string msgId)
    {
        for (ushort port = 1; port <= 20; port++)
        {
            var e = Denied("10.0.0.66", "203.0.113.1", port);
            e.Reason = reason;
            e.CameraSlot = reason == Reason.UnknownDevice ? Verdict.NoCamera : e.CameraSlot;
            Write(e);
        }

        _reporter.DrainOnce();
        _reporter.FlushRepeats();

        Assert.Equal([msgId, SecurityEventIds.FlowRepeat], _logger.Entries.Select(l => l.EventId.Name));
        Assert.Equal(LogLevel.Warning, _logger.Entries[0].Level);
        Assert.Equal("19", _logger.Entries[1].Values["count"]);
    }

    [Fact]
    public void DrainOnce_LoggedRuleMatch_RuleMatchWithRuleId()
    {
        var e = Denied("10.0.0.10", "10.0.0.2", 554);
        e.IsLoggedMatch = true;
        e.Action = VerdictAction.Pass;
        e.Reason = Reason.RuleMatch;
        e.RuleIndex = 0;
        Write(e);

        _reporter.DrainOnce();

        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(SecurityEventIds.RuleMatch, entry.EventId.Name);
        Assert.Equal(_policy.RuleIds[0], entry.Values["rule"]);
        Assert.Equal("passed", entry.Values["action"]);
    }

    [Theory]
    [InlineData("10.0.0.99", SecurityEventIds.MonitoredDrop)] // local: a would-be drop
    [InlineData("198.51.100.9", SecurityEventIds.PhoneHome)]  // public: still a phone-home attempt, marked monitored
    public void DrainOnce_MonitoredWouldBeDrop_ReportedAsMonitored(string destination, string msgId)
    {
        var e = Denied("10.0.0.10", destination, 443);
        e.Monitored = true;
        e.Action = VerdictAction.Pass;
        Write(e);

        _reporter.DrainOnce();

        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(msgId, entry.EventId.Name);
        Assert.Equal("monitored", entry.Values["action"]);
    }

    [Fact]
    public void DrainOnce_FlowIdlePastExpiry_ReportedAsNewAgain()
    {
        Write(Denied("10.0.0.10", "10.0.0.99", 80));
        _reporter.DrainOnce();

        _time.Advance(TimeSpan.FromMinutes(11));
        _reporter.DrainOnce(); // repeat tick: nothing to count, the idle flow is forgotten
        Write(Denied("10.0.0.10", "10.0.0.99", 80));
        _reporter.DrainOnce();

        Assert.Equal([SecurityEventIds.FlowDenied, SecurityEventIds.FlowDenied], _logger.Entries.Select(l => l.EventId.Name));
        Assert.Equal(0, _reporter.TrackedFlows - 1);
    }

    [Fact]
    public void DrainOnce_FlowTableFull_NewFlowsCountedAndSummarised()
    {
        for (ushort port = 1; port <= 20; port++)
        {
            Write(Denied("10.0.0.10", "10.0.0.99", port));
        }

        _reporter.DrainOnce();
        Assert.Equal(16, _logger.Entries.Count);
        Assert.Equal(4, _reporter.SuppressedFlows);

        _time.Advance(TimeSpan.FromSeconds(61));
        _reporter.DrainOnce();

        var summary = Assert.Single(_logger.Entries, l => l.EventId.Name == SecurityEventIds.FlowsSuppressed);
        Assert.Equal("4", summary.Values["count"]);
    }

    [Fact]
    public void DrainOnce_RingOverflowed_EventsLostReported()
    {
        var small = new DropEventRing(2);
        _reporter.Attach(small);
        for (ushort port = 1; port <= 5; port++)
        {
            var e = Denied("10.0.0.10", "10.0.0.99", port);
            small.TryWrite(in e);
        }

        _time.Advance(TimeSpan.FromSeconds(61));
        _reporter.DrainOnce();

        var lost = Assert.Single(_logger.Entries, l => l.EventId.Name == SecurityEventIds.EventsLost);
        Assert.Equal("3", lost.Values["count"]);
        Assert.Equal(LogLevel.Warning, lost.Level);
    }

    [Fact]
    public void Recent_ManyEvents_NewestFirstBoundedAndFilterable()
    {
        for (ushort port = 1; port <= 10; port++)
        {
            Write(Denied("10.0.0.10", "10.0.0.99", port));
        }

        _reporter.DrainOnce();
        _events.PolicyApplied(2, "abc123", 1, 1, "policies/");
        _events.PolicyRejected(3, "cam-1.yaml:4:7: camera 'cam-1' rule 'x': unknown peer", "policies/");
        _events.PolicyRolledBack(3, 2, "operator request");

        var recent = _events.Recent(max: 5);
        Assert.Equal(
            [SecurityEventIds.PolicyRolledBack, SecurityEventIds.PolicyRejected, SecurityEventIds.PolicyApplied, SecurityEventIds.FlowDenied, SecurityEventIds.FlowDenied],
            recent.Select(r => r.Kind));
        Assert.True(recent[0].Sequence > recent[1].Sequence);
        Assert.Equal("10", recent[3].Fields["dport"]);
        Assert.Equal(LogLevel.Error, recent[1].Level);
        Assert.Contains("unknown peer", recent[1].Message, StringComparison.Ordinal);

        var flows = _events.Recent(max: 100, kind: SecurityEventIds.FlowDenied);
        Assert.Equal(10, flows.Count);
        Assert.Equal(13, _events.Total);
        Assert.Equal(2, _events.Recent(max: 100, after: 11).Count);
    }

    [Fact]
    public void Recent_MoreThanCapacity_KeepsOnlyNewest()
    {
        for (var i = 0; i < 60; i++)
        {
            _events.PolicyApplied((uint)i, "h", 1, 1, "test");
        }

        var recent = _events.Recent(max: 1000);
        Assert.Equal(50, recent.Count);
        Assert.Equal("59", recent[0].Fields["version"]);
        Assert.Equal("10", recent[^1].Fields["version"]);
    }

    [Fact]
    public void DrainOnce_PhoneHomeToAnAddressTheCameraResolved_MessageAndFieldsCarryTheName()
    {
        // A real engine: the name is captured from its table when the frame is dropped, then read back here.
        var engine = new PacketEngine(_policies);
        _reporter.Attach(engine.Events);
        Assert.True(_policies.Slots.TryGet("cam-1", out var slot));
        engine.DnsNames.Learn(slot, "p2p.vendor.example"u8, IpAddr.FromIPAddress(IPAddress.Parse("203.0.113.50")), 60_000, 0, DnsAnswerSource.NotAdmitted);
        var named = Frames.Tcp(CameraMac, GatewayMac, "10.0.0.10", "203.0.113.50", 40000, 443, TcpFlags.Syn).ToArray();
        var unnamed = Frames.Tcp(CameraMac, GatewayMac, "10.0.0.10", "203.0.113.51", 40001, 443, TcpFlags.Syn).ToArray();
        Assert.False(engine.ProcessFrame(named, Side.Camera, 1).IsPass);
        Assert.False(engine.ProcessFrame(unnamed, Side.Camera, 2).IsPass);

        _reporter.DrainOnce();

        Assert.Equal(2, _logger.Entries.Count);
        var first = _logger.Entries[0];
        Assert.Equal(SecurityEventIds.PhoneHome, first.EventId.Name);
        Assert.Equal("p2p.vendor.example", first.Values["dns"]);
        Assert.Contains("203.0.113.50:443, dns name p2p.vendor.example", first.Message, StringComparison.Ordinal);
        Assert.Equal("-", _logger.Entries[1].Values["dns"]);
        Assert.Equal("p2p.vendor.example", _events.Recent(10)[^1].Fields["dns"]); // what the API and console read
    }

    [Fact]
    public void DrainOnce_DnsTunnelEvents_OneLinePerCameraAndTrigger_WhateverThePorts_ThenARepeatCount()
    {
        // A tunnel's queries use a new source port (and name) each: keyed by port they would each be a new line.
        for (var i = 0; i < 20; i++)
        {
            var e = Denied("10.0.0.10", "10.0.0.53", 53);
            e.SourcePort = (ushort)(30000 + i);
            e.Protocol = 17;
            e.Reason = Reason.DnsTunnelQueryType;
            e.Action = VerdictAction.Pass;
            e.Monitored = true;
            Write(e);
        }

        var other = Denied("10.0.0.10", "10.0.0.53", 53);
        other.Protocol = 17;
        other.Reason = Reason.DnsTunnelLongName;
        Write(other);

        _reporter.DrainOnce();
        Assert.Equal(["dns-tunnel-query-type", "dns-tunnel-long-name"], _logger.Entries.Select(l => l.Values["reason"]));

        _time.Advance(TimeSpan.FromSeconds(61));
        _reporter.DrainOnce();
        var repeat = Assert.Single(_logger.Entries.Skip(2));
        Assert.Equal(SecurityEventIds.FlowRepeat, repeat.EventId.Name);
        Assert.Equal("19", repeat.Values["count"]);
    }

    [Fact]
    public void DrainOnce_RefusedQueryFromTheEngine_LineCarriesTheQueriedName()
    {
        var restricted = Spec() with { Cameras = [Spec().Cameras[0] with { DnsQueries = DnsQueryScope.Rules, DnsAlso = ["time.vendor.example"], Rules = [.. Spec().Cameras[0].Rules, Dns] }] };
        _policies.Swap(CompiledPolicy.Compile(restricted, _policies.NextVersion(), _policies.Slots));
        var engine = new PacketEngine(_policies);
        _reporter.Attach(engine.Events);
        var query = Frames.Udp(CameraMac, GatewayMac, "10.0.0.10", "10.0.0.53", 40000, 53)
            .Payload(DnsQuery("exfil-6869.attacker.example")).ToArray();

        Assert.Equal(Reason.DnsQueryNotAllowed, engine.ProcessFrame(query, Side.Camera, 1).Reason);
        _reporter.DrainOnce();

        var v = Assert.Single(_logger.Entries).Values;
        Assert.Equal("dns-query-not-allowed", v["reason"]);
        Assert.Equal("exfil-6869.attacker.example", v["dns"]);
        Assert.Equal("cam-1", v["camera"]);
    }

    private static readonly RuleSpec Dns = new()
    {
        Id = "dns",
        Direction = Direction.Egress,
        Protocol = RuleProtocol.Udp,
        Ports = [new PortRange(53, 53)],
        Peers = [IPNetwork.Parse("10.0.0.53/32")],
    };

    private static byte[] DnsQuery(string name)
    {
        var m = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in name.Split('.'))
        {
            m.Add((byte)label.Length);
            m.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
        }

        m.AddRange([0, 0, 1, 0, 1]);
        return [.. m];
    }

    private void Write(DropEvent e) => Assert.True(_ring.TryWrite(in e));

    private DropEvent Denied(string source, string destination, ushort port) => new()
    {
        TimestampMs = 1,
        Source = IpAddr.FromIPAddress(IPAddress.Parse(source)),
        Destination = IpAddr.FromIPAddress(IPAddress.Parse(destination)),
        SourceMac = CameraMac,
        DestinationMac = GatewayMac,
        PolicyVersion = _policy.Version,
        CameraSlot = 0,
        RuleIndex = Verdict.NoRule,
        FrameLength = 60,
        SourcePort = 40000,
        DestinationPort = port,
        Reason = Reason.NoRuleMatched,
        EtherType = 0x0800,
        Protocol = 6,
        Direction = Direction.Egress,
        Side = Side.Camera,
        Action = VerdictAction.Drop,
    };

    private static PolicySpec Spec() => new()
    {
        Sha256 = "test",
        Cameras =
        [
            new CameraSpec
            {
                Name = "cam-1",
                Mac = CameraMac,
                Addresses = [IPAddress.Parse("10.0.0.10")],
                Rules =
                [
                    new RuleSpec
                    {
                        Id = "nvr-rtsp",
                        Direction = Direction.Egress,
                        Protocol = RuleProtocol.Tcp,
                        Ports = [new PortRange(554, 554)],
                        Peers = [IPNetwork.Parse("10.0.0.2/32")],
                        Log = true,
                    },
                ],
            },
        ],
    };
}
