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
        engine.DnsNames.Learn(SlotOf(engine, "cam-1"), "p2p.vendor.example"u8, IpAddr.FromIPAddress(System.Net.IPAddress.Parse(InternetIp)), long.MaxValue, 0);

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
}
