using Appliance.Core.Engine;
using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>The hot path's zero-allocation promise as a correctness gate (the benchmarks measure speed).</summary>
public class PacketEngineAllocationTests
{
    [Fact]
    public void ProcessFrame_EveryPath_AllocatesNothingPerFrame()
    {
        var engine = NewEngine(options: new EngineOptions { FlowCapacity = 4_096, EventRingCapacity = 64, DefaultFlowQuota = 100_000 });
        var established = Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 443, 40000, TcpFlags.Ack | TcpFlags.Psh).Payload(new byte[100]).ToArray();
        var fixedFrames = new[]
        {
            (Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, InternetIp, 40000, 443, TcpFlags.Syn).ToArray(), Side.Camera),  // drop + event (ring fills: lost)
            (Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Ack).ToArray(), Side.Camera),       // bypass
            (Frames.ArpRequest(RouterMac, RouterIp, Cam1Ip).ToArray(), Side.Uplink),                                 // ARP
            (Frames.Udp(Cam5Mac, Frames.Mac("01:00:5e:7f:ff:fa"), Cam5Ip, "239.255.255.250", 3702, 3702).ToArray(), Side.Camera), // discovery
            (Frames.Tcp(Cam6Mac, RouterMac, Cam6Ip, InternetIp, 40000, 23, TcpFlags.Syn).ToArray(), Side.Camera),   // monitored
            (new byte[10], Side.Camera),                                                                             // malformed
        };

        // New flows: distinct SYNs (ports) that open and later expire.
        var syns = new byte[512][];
        for (var i = 0; i < syns.Length; i++)
        {
            syns[i] = Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, (ushort)(1_000 + i), 443, TcpFlags.Syn).ToArray();
        }

        var l3 = Frames.Ip(Cam1Ip, DnsIp).Udp(5000, 53).ToIpPacket();
        engine.ProcessFrame(Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Syn).ToArray(), Side.Camera, 0);
        engine.ProcessFrame(Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, 443, 40000, TcpFlags.Syn | TcpFlags.Ack).ToArray(), Side.Uplink, 0);
        engine.ProcessFrame(Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, NvrIp, 40000, 443, TcpFlags.Ack).ToArray(), Side.Camera, 0);

        // The drop to InternetIp goes to an address cam-1 resolved: the event captures the name's handle on the way.
        engine.DnsNames.Learn(SlotOf(engine, "cam-1"), "p2p.vendor.example"u8, IpAddr.FromIPAddress(System.Net.IPAddress.Parse(InternetIp)), long.MaxValue, 0, DnsAnswerSource.NotAdmitted);

        void Run(long round)
        {
            var now = round * 60_000; // every round the previous round's half-open flows have expired
            for (var i = 0; i < 200; i++)
            {
                engine.ProcessFrame(established, Side.Uplink, now);
            }

            foreach (var (frame, side) in fixedFrames)
            {
                engine.ProcessFrame(frame, side, now);
            }

            foreach (var syn in syns)
            {
                engine.ProcessFrame(syn, Side.Camera, now);
            }

            engine.ProcessPacket(l3, Side.Camera, now);
            engine.Maintain(now);
        }

        // Warm up (tiering, static initialisers), then measure; the established flow must stay alive, so every round
        // refreshes it inside its timeout.
        var windows = AllocationWindows.Measure(r => Run(r), warmupRounds: 30, roundsPerWindow: 50);

        Assert.True(windows[^1] == 0, AllocationWindows.Describe(windows));
        Assert.True(engine.Events.Lost > 0);                                  // the full-ring path ran too
        Assert.True(engine.Flows.Expired > 0);                                // and expiry
        Assert.True(engine.Counters.ForReason(Reason.EstablishedFlow) > 7_000);
    }

    [Fact]
    public void ProcessFrame_DnsQueryRestrictionTunnelGuardEncryptedDns_AllocatesNothingPerFrame()
    {
        // cam-1 may ask only its rules' names; the guard reports; a wide HTTPS/853 rule meets DoT and DoH openers.
        Appliance.Core.Policy.RuleSpec[] rules =
        [
            .. PacketEngineDnsTests.NameRules,
            Rule("cloud", Direction.Egress, Appliance.Core.Policy.RuleProtocol.Tcp, [new(443, 443), new(853, 853)], [], ["0.0.0.0/0"]),
        ];
        var engine = NewEngine(
            Spec(rules: rules, edit: c => c.Name == "cam-1" ? c with { DnsQueries = Appliance.Core.Policy.DnsQueryScope.Rules } : c),
            new EngineOptions { FlowCapacity = 4_096, EventRingCapacity = 64, DefaultFlowQuota = 100_000 });
        byte[] Query(string mac, string ip, ushort port, string name, ushort type = DnsTypes.A)
            => PacketEngineDnsTests.Query(mac, ip, port, 1, name, type);
        var cam1 = Cam1Mac.ToString();
        var cam2 = Cam2Mac.ToString();
        var frames = new List<byte[]>
        {
            Query(cam1, Cam1Ip, 40000, "a.fw.vendor.example"),                      // allowed
            Query(cam1, Cam1Ip, 40001, "exfil.attacker.example"),                   // refused, named in the event
            Query(cam2, Cam2Ip, 40000, "x.vendor.example", DnsTypes.Txt),           // guard: query type
            Query(cam2, Cam2Ip, 40001, new string('a', 60) + ".vendor.example"),    // guard: long name
            Query(cam2, Cam2Ip, 40002, "k2zri1r0wyojfljooa5lqsaj0x.uid3zzzzg4zdmen2khvdga.t.attacker.example"), // guard: entropy
            PacketEngineDnsTests.Syn(cam1, Cam1Ip, "1.1.1.1", 853),                  // DoT
            PacketEngineDnsTests.Syn(cam1, Cam1Ip, "8.8.8.8", 443),                  // DoH
        };
        for (var i = 0; i < 64; i++)
        {
            frames.Add(Query(cam2, Cam2Ip, (ushort)(41000 + i), $"s{i}.t.attacker.example")); // guard: subdomains
        }

        for (var i = 0; i < 150; i++)
        {
            frames.Add(Query(Cam5Mac.ToString(), Cam5Ip, (ushort)(42000 + i), "time.vendor.example")); // guard: rate
        }

        void Run(long round)
        {
            foreach (var frame in frames)
            {
                engine.ProcessFrame(frame, Side.Camera, round * 100);
            }

            engine.Maintain(round * 100);
        }

        var windows = AllocationWindows.Measure(r => Run(r), warmupRounds: 30, roundsPerWindow: 50);

        Assert.True(windows[^1] == 0, AllocationWindows.Describe(windows));
        foreach (var reason in new[] { Reason.DnsQueryNotAllowed, Reason.DnsTunnelQueryType, Reason.DnsTunnelLongName, Reason.DnsTunnelEntropy, Reason.DnsTunnelSubdomains, Reason.DnsTunnelRate, Reason.EncryptedDnsRefused })
        {
            Assert.True(engine.Counters.ForReason(reason) > 0, $"the {reason} path did not run");
        }
    }
}
