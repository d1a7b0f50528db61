using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Issue 12 item 6: a peer must not be able to exhaust a camera's flow quota and lock its NVR out. Closed and
/// half-open flows yield to new openers (the camera's closed ones first, then its oldest half-open one); one peer
/// holds at most its share of the quota. The clock is the nowMs argument.
/// </summary>
public class PacketEngineQuotaTests
{
    private const int Quota = 256;
    private const string AdminIp = "10.0.2.5";

    private static readonly RuleSpec AdminHttps = Rule("admin-https", Direction.Ingress, RuleProtocol.Tcp, [new(443, 443)], [], [AdminIp + "/32"]);

    private static PacketEngine QuotaEngine(EngineOptions? options = null)
        => NewEngine(Spec(rules: [.. Profile, AdminHttps], edit: c => c.Name == "cam-1" ? c with { FlowQuota = Quota } : c), options);

    private static Verdict FromNvr(PacketEngine e, ushort port, TcpFlags flags, long now)
        => e.ProcessFrame(Frames.Tcp(NvrMac, Cam1Mac, NvrIp, Cam1Ip, port, 554, flags).ToArray(), Side.Uplink, now);

    private static Verdict ToNvr(PacketEngine e, ushort port, TcpFlags flags, long now)
        => e.ProcessFrame(Frames.Tcp(Cam1Mac, NvrMac, Cam1Ip, NvrIp, 554, port, flags).ToArray(), Side.Camera, now);

    private static Verdict FromAdmin(PacketEngine e, ushort port, TcpFlags flags, long now)
        => e.ProcessFrame(Frames.Tcp(RouterMac, Cam1Mac, AdminIp, Cam1Ip, port, 443, flags).ToArray(), Side.Uplink, now);

    private static Verdict ToAdmin(PacketEngine e, ushort port, TcpFlags flags, long now)
        => e.ProcessFrame(Frames.Tcp(Cam1Mac, RouterMac, Cam1Ip, AdminIp, 443, port, flags).ToArray(), Side.Camera, now);

    /// <summary>The real NVR connects: SYN, the camera's SYN-ACK, ACK, then a data segment each way.</summary>
    private static bool NvrConnects(PacketEngine e, ushort port, long now)
        => FromNvr(e, port, TcpFlags.Syn, now).IsPass
            && ToNvr(e, port, TcpFlags.Syn | TcpFlags.Ack, now + 1).IsPass
            && FromNvr(e, port, TcpFlags.Ack, now + 2).IsPass
            && FromNvr(e, port, TcpFlags.Ack | TcpFlags.Psh, now + 3).IsPass
            && ToNvr(e, port, TcpFlags.Ack | TcpFlags.Psh, now + 4).IsPass;

    [Fact]
    public void Quota_SpoofedNvrSynFlood_RealNvrStillConnects()
    {
        // 5,000 SYNs with the NVR's address to cam:554 (quota 256), nobody answering them; the real NVR opens 12
        // connections in the middle of it. Before: the flood's half-open flows held the quota and NVR SYNs were
        // refused (flow-quota-exceeded).
        var e = QuotaEngine();
        var spoofPort = (ushort)10_000;
        var now = 0L;
        var connected = 0;
        for (var round = 0; round < 12; round++)
        {
            for (var i = 0; i < 5_000 / 12; i++)
            {
                FromNvr(e, spoofPort++, TcpFlags.Syn, now++);
            }

            connected += NvrConnects(e, (ushort)(50_000 + round), now) ? 1 : 0;
            now += 10;
        }

        Assert.Equal(12, connected);
        Assert.InRange(e.Flows.CountForCamera(SlotOf(e, "cam-1")), 12, Quota);
        Assert.True(e.Flows.QuotaEvictions > 0);

        // The established streams survived the whole flood.
        for (var round = 0; round < 12; round++)
        {
            Assert.Equal(Reason.EstablishedFlow, ToNvr(e, (ushort)(50_000 + round), TcpFlags.Ack | TcpFlags.Psh, now).Reason);
        }
    }

    [Fact]
    public void Quota_ManyClosedAdminConnections_YieldToTheNvr()
    {
        // 800 admin connections, each opened, used and closed: their closed flows must not hold the quota.
        var e = QuotaEngine();
        var now = 0L;
        for (ushort port = 1; port <= 800; port++)
        {
            Assert.Equal(Reason.RuleMatch, FromAdmin(e, port, TcpFlags.Syn, now).Reason);
            ToAdmin(e, port, TcpFlags.Syn | TcpFlags.Ack, now);
            FromAdmin(e, port, TcpFlags.Ack, now);
            FromAdmin(e, port, TcpFlags.Fin | TcpFlags.Ack, now);
            ToAdmin(e, port, TcpFlags.Fin | TcpFlags.Ack, now);
            FromAdmin(e, port, TcpFlags.Ack, now);
            now++;
        }

        Assert.True(NvrConnects(e, 50_000, now));
        Assert.True(e.Flows.QuotaEvictions > 0);
    }

    [Fact]
    public void Quota_ClosedFlowsEvictedBeforeHalfOpen()
    {
        var e = NewEngine(Spec(rules: [.. Profile, AdminHttps], edit: c => c.Name == "cam-1" ? c with { FlowQuota = 4 } : c), new EngineOptions { PeerFlowSharePercent = 100 });
        FromAdmin(e, 1, TcpFlags.Syn, 0);                 // half-open, the oldest
        FromAdmin(e, 2, TcpFlags.Syn, 1);
        ToAdmin(e, 2, TcpFlags.Rst | TcpFlags.Ack, 2);    // refused: closed
        FromAdmin(e, 3, TcpFlags.Syn, 3);
        FromAdmin(e, 4, TcpFlags.Syn, 4);

        Assert.Equal(Reason.RuleMatch, FromAdmin(e, 5, TcpFlags.Syn, 5).Reason);
        var ports = e.Flows.Snapshot(5).Select(f => f.PeerPort).Order().ToArray();
        Assert.Equal(new ushort[] { 1, 3, 4, 5 }, ports);

        Assert.Equal(Reason.RuleMatch, FromAdmin(e, 6, TcpFlags.Syn, 6).Reason); // now the oldest half-open goes
        Assert.Equal(new ushort[] { 3, 4, 5, 6 }, e.Flows.Snapshot(6).Select(f => f.PeerPort).Order().ToArray());
        Assert.Equal(2, e.Flows.QuotaEvictions);
    }

    [Fact]
    public void Quota_EstablishedFlowsNeverEvicted_NewOpenerRefused()
    {
        var e = NewEngine(Spec(rules: [.. Profile, AdminHttps], edit: c => c.Name == "cam-1" ? c with { FlowQuota = 4 } : c), new EngineOptions { PeerFlowSharePercent = 100 });
        for (ushort port = 1; port <= 4; port++)
        {
            Assert.True(NvrConnects(e, port, port * 10));
        }

        Assert.Equal(Reason.FlowQuotaExceeded, FromNvr(e, 5, TcpFlags.Syn, 100).Reason);
        Assert.Equal(0, e.Flows.QuotaEvictions);
    }

    [Fact]
    public void Quota_OnePeerCannotTakeTheWholeQuota()
    {
        // The admin holds established connections up to its share (half of 256); the NVR still gets in.
        var e = QuotaEngine();
        var admitted = 0;
        for (ushort port = 1; port <= Quota; port++)
        {
            if (FromAdmin(e, port, TcpFlags.Syn, port).IsPass)
            {
                ToAdmin(e, port, TcpFlags.Syn | TcpFlags.Ack, port);
                FromAdmin(e, port, TcpFlags.Ack, port);
                admitted++;
            }
        }

        Assert.Equal(Quota / 2, admitted);
        Assert.Equal(Reason.FlowQuotaExceeded, FromAdmin(e, 9_999, TcpFlags.Syn, 1_000).Reason);
        for (ushort port = 1; port <= Quota / 2; port++)
        {
            Assert.True(NvrConnects(e, port, 2_000 + (port * 10)), $"NVR connection {port}");
        }
    }

    [Fact]
    public void Quota_PeerShareConfigurable()
    {
        var e = QuotaEngine(new EngineOptions { PeerFlowSharePercent = 25 });
        var admitted = 0;
        for (ushort port = 1; port <= Quota; port++)
        {
            if (FromAdmin(e, port, TcpFlags.Syn, port).IsPass)
            {
                ToAdmin(e, port, TcpFlags.Syn | TcpFlags.Ack, port);
                FromAdmin(e, port, TcpFlags.Ack, port);
                admitted++;
            }
        }

        Assert.Equal(Quota / 4, admitted);
    }

    [Fact]
    public void Quota_EvictionsAreCountedAndTheirFlowsGone()
    {
        var e = NewEngine(Spec(edit: c => c.Name == "cam-1" ? c with { FlowQuota = 2 } : c), new EngineOptions { PeerFlowSharePercent = 100 });
        FromNvr(e, 1, TcpFlags.Syn, 0);
        FromNvr(e, 2, TcpFlags.Syn, 1);
        FromNvr(e, 3, TcpFlags.Syn, 2);

        Assert.Equal(1, e.Flows.QuotaEvictions);
        Assert.Equal(2, e.Flows.CountForCamera(SlotOf(e, "cam-1")));
        Assert.Equal(Reason.TcpStateBypass, ToNvr(e, 1, TcpFlags.Syn | TcpFlags.Ack, 3).Reason); // the evicted one
        Assert.Equal(Reason.EstablishedFlow, ToNvr(e, 3, TcpFlags.Syn | TcpFlags.Ack, 3).Reason);
    }
}
