using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// <c>no-dns-for-peer</c> (issue 15): a camera's connection attempt to a public address it never resolved is counted per
/// camera; one to an address its own DNS answer gave, or to a site-local peer, is not.
/// </summary>
public class PacketEngineNoDnsForPeerTests
{
    private static readonly string Cam1 = Cam1Mac.ToString();
    private static readonly string Cam2 = Cam2Mac.ToString();

    [Fact]
    public void Opener_ToAPublicAddressNeverResolved_CountedForThatCamera()
    {
        var e = PacketEngineDnsTests.Engine();
        var slot = SlotOf(e, "cam-1");

        e.ProcessFrame(Syn(Cam1, Cam1Ip, Cloud), Side.Camera, 0);                                              // denied attempt
        e.ProcessFrame(Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, Cloud2, 40000, 9999).ToArray(), Side.Camera, 1); // UDP opener

        Assert.Equal(2, e.Counters.ForCamera(slot).NoDnsForPeer);
        Assert.Equal(0, e.Counters.ForCamera(SlotOf(e, "cam-2")).NoDnsForPeer);
        Assert.Equal(2, e.Counters.NoDnsForPeer);
    }

    [Fact]
    public void Opener_ToAnAddressItsOwnAnswerGave_NotCounted()
    {
        var e = PacketEngineDnsTests.Engine();
        Assert.Equal(Reason.RuleMatch, e.ProcessFrame(Query(Cam1, Cam1Ip, 40000, 7, "a.fw.vendor.example"), Side.Camera, 0).Reason);
        Assert.Equal(Reason.EstablishedFlow, e.ProcessFrame(Answer(Cam1, Cam1Ip, 40000, 7, AnswerA(7, "a.fw.vendor.example", Cloud)), Side.Uplink, 1).Reason);

        Assert.Equal(Reason.RuleMatch, e.ProcessFrame(Syn(Cam1, Cam1Ip, Cloud), Side.Camera, 2).Reason);
        Assert.Equal(0, e.Counters.ForCamera(SlotOf(e, "cam-1")).NoDnsForPeer);

        // cam-1's answer names nothing for cam-2: the same address counts for cam-2 (positive control).
        e.ProcessFrame(Syn(Cam2, Cam2Ip, Cloud), Side.Camera, 3);
        Assert.Equal(1, e.Counters.ForCamera(SlotOf(e, "cam-2")).NoDnsForPeer);
    }

    [Fact]
    public void Opener_ToSiteLocalPeersOrIngress_NotCounted()
    {
        var e = PacketEngineDnsTests.Engine();

        e.ProcessFrame(Syn(Cam1, Cam1Ip, NvrIp), Side.Camera, 0);                                                            // private peer
        e.ProcessFrame(Query(Cam1, Cam1Ip, 40000, 7, "x.example"), Side.Camera, 1);                                          // the site resolver
        e.ProcessFrame(Frames.Tcp(RouterMac, Cam1Mac, Cloud, Cam1Ip, 5555, 554, TcpFlags.Syn).ToArray(), Side.Uplink, 2); // ingress from a public peer

        Assert.Equal(0, e.Counters.NoDnsForPeer);
    }
}
