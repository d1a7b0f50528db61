using System.Net;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using FsCheck;
using FsCheck.Fluent;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Issue 12 item 1 (DHCP and RA guard): DHCP server replies pass only for cameras that use DHCP (by the BOOTP client
/// hardware address), only from the site's DHCP servers when it names them, and never because of a negative clock;
/// IPv6 router advertisements and redirects from the uplink pass only from the routers the site names, when it does.
/// </summary>
public class PacketEngineDhcpRaTests
{
    private const string ServerIp = RouterIp;           // the site's DHCP server
    private const string RogueIp = "10.0.1.66";          // another uplink host answering DHCP
    private const string RouterLinkLocal = "fe80::1";
    private const string RogueLinkLocal = "fe80::66";
    private static readonly long Udp = (long)new EngineOptions().UdpTimeout.TotalMilliseconds;
    private static readonly MacAddress AllNodesMac = Frames.Mac("33:33:00:00:00:01");

    /// <summary>A BOOTP message: op, htype, hlen, chaddr at 28, the DHCP magic cookie at 236.</summary>
    internal static byte[] Bootp(MacAddress chaddr, byte op = DhcpHeader.BootReply, byte htype = 1, byte hlen = 6, int length = 300)
    {
        var b = new byte[length];
        byte[] head = [op, htype, hlen];
        head.AsSpan(0, Math.Min(3, length)).CopyTo(b);
        for (var i = 0; i < 6 && 28 + i < length; i++)
        {
            b[28 + i] = (byte)(chaddr.Value >> (40 - (8 * i)));
        }

        if (length >= 240)
        {
            b[236] = 99;
            b[237] = 130;
            b[238] = 83;
            b[239] = 99;
        }

        return b;
    }

    private static byte[] BroadcastReply(string from, byte[] bootp)
        => Frames.Udp(RouterMac, MacAddress.Broadcast, from, "255.255.255.255", 67, 68).Payload(bootp).ToArray();

    private static byte[] UnicastReply(string from, MacAddress toMac, string toIp, byte[] bootp)
        => Frames.Udp(RouterMac, toMac, from, toIp, 67, 68).Payload(bootp).ToArray();

    private static byte[] Discover(MacAddress mac)
        => Frames.Udp(mac, MacAddress.Broadcast, "0.0.0.0", "255.255.255.255", 68, 67).Payload(Bootp(mac, DhcpHeader.BootRequest)).ToArray();

    private static PolicySpec WithSite(string[]? dhcpServers = null, string[]? routers = null, Func<CameraSpec, CameraSpec>? edit = null)
    {
        var spec = Spec(edit: edit);
        return spec with
        {
            Site = spec.Site with
            {
                DhcpServers = [.. (dhcpServers ?? []).Select(IPAddress.Parse)],
                Routers = [.. (routers ?? []).Select(IPAddress.Parse)],
            },
        };
    }

    private static Verdict Uplink(PacketEngine e, byte[] frame, long now) => e.ProcessFrame(frame, Side.Uplink, now);

    [Fact]
    public void Dhcp_BroadcastOfferForMacOfNoCamera_IsDropped()
    {
        // Replaying real captures: broadcast offers for a MAC that is no camera's passed as dhcp-allowed.
        var e = NewEngine();

        var verdict = Uplink(e, BroadcastReply(ServerIp, Bootp(UnknownMac)), 0);

        Assert.False(verdict.IsPass);
        Assert.Equal(Reason.DhcpClientNotCamera, verdict.Reason);
    }

    [Fact]
    public void Dhcp_BroadcastOfferForDhcpCamera_PassesForThatCamera()
    {
        var e = NewEngine();

        var verdict = Uplink(e, BroadcastReply(ServerIp, Bootp(Cam1Mac)), 0);

        Assert.Equal(Reason.DhcpAllowed, verdict.Reason);
        Assert.Equal(SlotOf(e, "cam-1"), verdict.CameraSlot);
    }

    [Fact]
    public void Dhcp_BroadcastOfferForCameraWithoutDhcp_IsBlocked()
    {
        var e = NewEngine(Spec(edit: c => c.Name == "cam-2" ? c with { AllowDhcp = false } : c));

        var verdict = Uplink(e, BroadcastReply(ServerIp, Bootp(Cam2Mac)), 0);

        Assert.False(verdict.IsPass);
        Assert.Equal(Reason.DhcpBlocked, verdict.Reason);
    }

    [Theory]
    [InlineData(DhcpHeader.BootRequest, 1, 6, 300)] // a request where a reply belongs
    [InlineData(DhcpHeader.BootReply, 6, 6, 300)]   // not an Ethernet client address (IEEE 802)
    [InlineData(DhcpHeader.BootReply, 1, 16, 300)]  // hlen that is not a MAC's
    [InlineData(DhcpHeader.BootReply, 1, 6, 235)]   // shorter than the fixed BOOTP header
    [InlineData(DhcpHeader.BootReply, 1, 6, 0)]     // no BOOTP message at all
    public void Dhcp_BroadcastReplyThatIsNoBootReplyForACamera_IsDropped(byte op, byte htype, byte hlen, int length)
    {
        var e = NewEngine();

        var verdict = Uplink(e, BroadcastReply(ServerIp, Bootp(Cam1Mac, op, htype, hlen, length)), 0);

        Assert.False(verdict.IsPass);
        Assert.Equal(Reason.DhcpClientNotCamera, verdict.Reason);
    }

    [Fact]
    public void Dhcp_NamedServers_RepliesFromOtherHostsDropped()
    {
        var e = NewEngine(WithSite(dhcpServers: [ServerIp]));

        Assert.Equal(Reason.DhcpAllowed, Uplink(e, BroadcastReply(ServerIp, Bootp(Cam1Mac)), 0).Reason);
        var rogue = Uplink(e, BroadcastReply(RogueIp, Bootp(Cam1Mac)), 0);
        Assert.False(rogue.IsPass);
        Assert.Equal(Reason.DhcpServerNotListed, rogue.Reason);

        // While the camera is asking, unicast replies too.
        Assert.Equal(Reason.DhcpAllowed, e.ProcessFrame(Discover(Cam1Mac), Side.Camera, 1).Reason);
        Assert.Equal(Reason.DhcpServerNotListed, Uplink(e, UnicastReply(RogueIp, Cam1Mac, Cam1Ip, Bootp(Cam1Mac)), 2).Reason);
        Assert.Equal(Reason.DhcpAllowed, Uplink(e, UnicastReply(ServerIp, Cam1Mac, Cam1Ip, Bootp(Cam1Mac)), 3).Reason);
    }

    [Fact]
    public void Dhcp_NoServersNamed_AnyUplinkHostMayAnswer()
    {
        var e = NewEngine();

        Assert.Equal(Reason.DhcpAllowed, Uplink(e, BroadcastReply(RogueIp, Bootp(Cam1Mac)), 0).Reason);
    }

    [Fact]
    public void Dhcp_UnicastReplyWhileAskingButForAnotherMac_IsDropped()
    {
        var e = NewEngine();
        e.ProcessFrame(Discover(Cam1Mac), Side.Camera, 0);

        var verdict = Uplink(e, UnicastReply(ServerIp, Cam1Mac, Cam1Ip, Bootp(Cam2Mac)), 1);

        Assert.False(verdict.IsPass);
        Assert.Equal(Reason.DhcpClientNotCamera, verdict.Reason);
    }

    [Theory]
    [InlineData(-1_000_000L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue + 1)]
    public void Dhcp_NegativeClock_CameraThatNeverAskedGetsNoUnicastReply(long now)
    {
        // "Never asked" must not depend on the clock's sign: with a negative clock every camera looked mid-DHCP.
        var e = NewEngine();

        var verdict = Uplink(e, UnicastReply(ServerIp, Cam1Mac, Cam1Ip, Bootp(Cam1Mac)), now);

        Assert.False(verdict.IsPass);
        Assert.Equal(Reason.NoRuleMatched, verdict.Reason);
    }

    [Fact]
    public void Dhcp_NegativeClock_AskingStillWorks()
    {
        var e = NewEngine();
        Assert.Equal(Reason.DhcpAllowed, e.ProcessFrame(Discover(Cam1Mac), Side.Camera, -5_000).Reason);

        Assert.Equal(Reason.DhcpAllowed, Uplink(e, UnicastReply(ServerIp, Cam1Mac, Cam1Ip, Bootp(Cam1Mac)), -4_000).Reason);
        Assert.Equal(Reason.NoRuleMatched, Uplink(e, UnicastReply(ServerIp, Cam1Mac, Cam1Ip, Bootp(Cam1Mac)), -5_000 + Udp).Reason);
    }

    [Fact]
    public void Dhcp_AskingNearTheEndOfTheClock_DoesNotWrap()
    {
        var e = NewEngine();
        Assert.Equal(Reason.DhcpAllowed, e.ProcessFrame(Discover(Cam1Mac), Side.Camera, long.MaxValue - 10).Reason);

        Assert.Equal(Reason.DhcpAllowed, Uplink(e, UnicastReply(ServerIp, Cam1Mac, Cam1Ip, Bootp(Cam1Mac)), long.MaxValue - 5).Reason);
    }

    // ---- RA guard ----

    private static byte[] Advertisement(string from, string to, MacAddress toMac, byte type = 134)
        => FrameBuilder.Ethernet(RouterMac, toMac).Ipv6(from, to).Ttl(255).Icmp(type).Payload(new byte[12]).ToArray();

    [Theory]
    [InlineData(134)] // router advertisement
    [InlineData(137)] // redirect
    public void RaGuard_NamedRouters_OnlyTheyMayAdvertise(byte type)
    {
        var e = NewEngine(WithSite(routers: [RouterLinkLocal]));

        Assert.Equal(Reason.NeighborDiscoveryAllowed, Uplink(e, Advertisement(RouterLinkLocal, "ff02::1", AllNodesMac, type), 0).Reason);
        Assert.Equal(Reason.NeighborDiscoveryAllowed, Uplink(e, Advertisement(RouterLinkLocal, Cam5Ip6, Cam5Mac, type), 0).Reason);

        var multicast = Uplink(e, Advertisement(RogueLinkLocal, "ff02::1", AllNodesMac, type), 0);
        var unicast = Uplink(e, Advertisement(RogueLinkLocal, Cam5Ip6, Cam5Mac, type), 0);
        Assert.False(multicast.IsPass);
        Assert.Equal(Reason.RouterNotListed, multicast.Reason);
        Assert.False(unicast.IsPass);
        Assert.Equal(Reason.RouterNotListed, unicast.Reason);
    }

    [Fact]
    public void RaGuard_NamedRouters_OtherNeighborDiscoveryStillPasses()
    {
        // A neighbour solicitation from any uplink host is not a router's claim.
        var e = NewEngine(WithSite(routers: [RouterLinkLocal]));

        Assert.Equal(Reason.NeighborDiscoveryAllowed, Uplink(e, Advertisement(RogueLinkLocal, "ff02::1", AllNodesMac, 135), 0).Reason);
    }

    [Fact]
    public void RaGuard_NoRoutersNamed_AnyUplinkRouterMayAdvertise()
    {
        var e = NewEngine();

        Assert.Equal(Reason.NeighborDiscoveryAllowed, Uplink(e, Advertisement(RogueLinkLocal, "ff02::1", AllNodesMac), 0).Reason);
    }

    // ---- Property: the DHCP exception carries nothing but replies for DHCP cameras from the named servers ----

    private sealed record Reply(bool Broadcast, string From, MacAddress ClientMac, byte Op, byte HType, int Length, int Target, long Advance, bool CameraAsks);

    private static readonly (MacAddress Mac, string Ip)[] Targets = [(Cam1Mac, Cam1Ip), (Cam2Mac, Cam2Ip), (Cam6Mac, Cam6Ip)];

    [Fact]
    public void ProcessFrame_AnyDhcpReplySequence_PassesOnlyForDhcpCamerasFromNamedServers()
    {
        // cam-2 has DHCP off; cam-6 is monitored (its would-be drops pass, flagged); Cam4Mac is a DHCP camera by MAC alone.
        var spec = WithSite(dhcpServers: [ServerIp], edit: c => c.Name == "cam-2" ? c with { AllowDhcp = false } : c);
        var macs = new[] { Cam1Mac, Cam2Mac, Cam4Mac, Cam6Mac, UnknownMac, Frames.Mac("02:00:00:00:0e:77") };
        var gen = from broadcast in Gen.Elements(true, false)
                  from source in Gen.Elements(ServerIp, RogueIp, NvrIp)
                  from mac in Gen.Elements(macs)
                  from op in Gen.Elements<byte>(1, 2, 2, 2, 0, 3)
                  from htype in Gen.Elements<byte>(1, 1, 1, 6)
                  from length in Gen.Elements(0, 28, 34, 235, 236, 300)
                  from target in Gen.Choose(0, Targets.Length - 1)
                  from advance in Gen.Elements(0L, 1L, Udp / 2, Udp, Udp * 2)
                  from asks in Gen.Elements(false, false, true)
                  select new Reply(broadcast, source, mac, op, htype, length, target, advance, asks);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(Gen.ListOf(gen).Select(l => l.ToArray())), replies =>
        {
            var e = NewEngine(spec);
            var policy = e.Policies.Current!;
            long now = -50_000; // a negative clock on purpose
            foreach (var r in replies)
            {
                now += r.Advance;
                var (toMac, toIp) = Targets[r.Target];
                if (r.CameraAsks)
                {
                    e.ProcessFrame(Discover(toMac), Side.Camera, now);
                }

                var bootp = Bootp(r.ClientMac, r.Op, r.HType, 6, r.Length);
                var verdict = Uplink(e, r.Broadcast ? BroadcastReply(r.From, bootp) : UnicastReply(r.From, toMac, toIp, bootp), now);
                if (verdict.Reason != Reason.DhcpAllowed)
                {
                    continue;
                }

                Assert.Equal(ServerIp, r.From);
                Assert.True(r.Op == DhcpHeader.BootReply && r.HType == 1 && r.Length >= DhcpHeader.FixedLength, $"{r}: passed a reply that is no BOOTREPLY");
                Assert.True(policy.TryGetCameraBySlot(verdict.CameraSlot, out var camera));
                var cameraSpec = policy.Spec.Cameras.Single(c => c.Name == camera.Name);
                Assert.True(cameraSpec.AllowDhcp, $"{r}: passed for a camera without DHCP");
                Assert.Equal((MacAddress?)r.ClientMac, cameraSpec.Mac);
                if (!r.Broadcast)
                {
                    Assert.Equal(toMac, r.ClientMac);
                }
            }
        }));
    }
}
