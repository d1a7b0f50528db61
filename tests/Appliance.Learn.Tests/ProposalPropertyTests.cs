using System.Net;
using Appliance.Core;
using Appliance.Policy;
using Appliance.TestSupport.Frames;
using FsCheck;
using FsCheck.Fluent;

namespace Appliance.Learn.Tests;

/// <summary>
/// Properties over random site traffic: whatever the cameras did, the proposal admits no connection the learned
/// traffic did not contain as a completed connection to a non-public peer; and learning the same traffic twice
/// writes the same files.
/// </summary>
public sealed class ProposalPropertyTests
{
    private static readonly MacAddress[] Cameras = [LearnSite.Hik1, LearnSite.Hik2, LearnSite.Dahua];
    private static readonly string[] CameraIps = [LearnSite.Hik1Ip, LearnSite.Hik2Ip, LearnSite.DahuaIp];
    private static readonly string[] Peers = ["198.51.100.2", "198.51.100.10", "10.0.0.5", "203.0.113.5", "203.0.113.50", "198.51.100.66"];
    private static readonly ushort[] Ports = [22, 53, 80, 123, 443, 554];
    private static readonly IPNetwork[] Site = [IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("198.51.100.0/26")];

    /// <summary>One connection kind a camera took part in: who, which way, protocol, port, peer, answered, how often, how long.</summary>
    public sealed record Flow(int Camera, bool Egress, bool Tcp, int Port, int Peer, bool Answered, int Times, int Data);

    private static readonly Gen<Flow> FlowGen =
        from camera in Gen.Choose(0, Cameras.Length - 1)
        from egress in Gen.Elements(true, false)
        from tcp in Gen.Elements(true, false)
        from port in Gen.Choose(0, Ports.Length - 1)
        from peer in Gen.Choose(0, Peers.Length - 1)
        from answered in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from times in Gen.Choose(1, 3)
        from data in Gen.Choose(0, 25)
        select new Flow(camera, egress, tcp, port, peer, answered, times, data);

    /// <summary>Offline (<c>camfw learn</c> from a capture) or live (a running engine in learn mode, from its notes).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Build_RandomTraffic_NeverAllowsAConnectionTheLearnedTrafficDidNotContain(bool live)
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), Prop.ForAll(Arb.From(Gen.ListOf(FlowGen).Select(l => l.ToArray())), flows =>
        {
            var traffic = Generate(flows, 40000);
            var snapshot = Learn(traffic.All, live);
            var proposal = ProposalBuilder.Build(snapshot, new ProposalContext { SiteNetworks = Site });
            var load = PolicyLoader.Load(proposal.PolicySources);
            Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));

            // What the traffic contained: completed connections (answered) to non-public peers.
            var contained = flows.Where(f => f.Answered && !IsPublic(Peers[f.Peer]))
                .Select(f => (f.Camera, f.Egress, f.Tcp, Ports[f.Port], f.Peer)).ToHashSet();
            var engine = LearnHarness.Enforcing(load.Spec!);
            var port = (ushort)20000;
            var now = traffic.All[^1].TimestampMicros / 1000 + 1000;
            for (var c = 0; c < Cameras.Length; c++)
            {
                foreach (var egress in new[] { true, false })
                {
                    foreach (var tcp in new[] { true, false })
                    {
                        foreach (var p in Ports)
                        {
                            for (var peer = 0; peer < Peers.Length; peer++)
                            {
                                var frame = Opener(c, egress, tcp, p, peer, port++);
                                var verdict = engine.ProcessFrame(frame, egress ? Side.Camera : Side.Uplink, now);
                                if (verdict.IsPass && !verdict.Monitored)
                                {
                                    Assert.True(
                                        contained.Contains((c, egress, tcp, p, peer)),
                                        $"camera {c} {(egress ? "egress" : "ingress")} {(tcp ? "tcp" : "udp")} {p} peer {Peers[peer]} was admitted ({verdict.Reason}) but never completed while learning");
                                }
                            }
                        }
                    }
                }
            }
        }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Build_SameTrafficTwice_SameFiles(bool live)
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), Prop.ForAll(Arb.From(Gen.ListOf(FlowGen).Select(l => l.ToArray())), flows =>
        {
            var context = new ProposalContext { SiteNetworks = Site, Vendors = Vendors.Value };
            var first = ProposalBuilder.Build(Learn(Generate(flows, 40000).All, live), context);
            var second = ProposalBuilder.Build(Learn(Generate(flows, 40000).All, live), context);

            Assert.Equal(first.Files.Select(f => f.Name), second.Files.Select(f => f.Name));
            foreach (var (a, b) in first.Files.Zip(second.Files))
            {
                Assert.Equal(a.Text, b.Text); // per file, so a failure shows where they part
            }
        }));
    }

    [Fact]
    public void Build_SiteCaptureTwice_SameFiles()
    {
        var first = ProposalBuilder.Build(LearnHarness.Learn(LearnSite.Capture(false).All), LearnHarness.Context());
        var second = ProposalBuilder.Build(LearnHarness.Learn(LearnSite.Capture(false).All), LearnHarness.Context());

        Assert.Equal(first.Files, second.Files);
    }

    private static LearnSnapshot Learn(IReadOnlyList<CapturedFrame> frames, bool live)
        => live ? LearnHarness.LearnLive(frames, LearnHarness.SiteLearning(Cameras.Zip(CameraIps))) : LearnHarness.Learn(frames);

    private static readonly Lazy<OuiRegistry> Vendors = new(() => OuiRegistry.Load(OuiRegistry.DebianDirectory, out _));

    private static bool IsPublic(string address) => !Site.Any(n => n.Contains(IPAddress.Parse(address))) && !IPNetwork.Parse("10.0.0.0/8").Contains(IPAddress.Parse(address));

    private static SiteTraffic Generate(Flow[] flows, int portBase)
    {
        var t = new SiteTraffic(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero), portBase);
        foreach (var f in flows)
        {
            for (var i = 0; i < f.Times; i++)
            {
                var mac = Cameras[f.Camera];
                var ip = CameraIps[f.Camera];
                if (f.Tcp)
                {
                    t.Tcp(mac, ip, f.Egress, Peers[f.Peer], Ports[f.Port], f.Data, "x", answer: f.Answered);
                }
                else if (f.Egress)
                {
                    t.Udp(mac, ip, Peers[f.Peer], Ports[f.Port], "x", f.Answered);
                }
                else
                {
                    t.UdpFromPeer(mac, ip, Peers[f.Peer], Ports[f.Port], "x", f.Answered);
                }

                t.Wait(TimeSpan.FromSeconds(5));
            }
        }

        // Every camera shows up at least once on the camera side.
        for (var c = 0; c < Cameras.Length; c++)
        {
            t.Arp(Cameras[c], CameraIps[c], "192.0.2.1", "x");
        }

        return t;
    }

    private static byte[] Opener(int camera, bool egress, bool tcp, ushort port, int peer, ushort ephemeral)
    {
        var mac = Cameras[camera];
        var ip = CameraIps[camera];
        var router = SiteTraffic.RouterMac;
        return (tcp, egress) switch
        {
            (true, true) => Frames.Tcp(mac, router, ip, Peers[peer], ephemeral, port, Core.Wire.TcpFlags.Syn).ToArray(),
            (true, false) => Frames.Tcp(router, mac, Peers[peer], ip, ephemeral, port, Core.Wire.TcpFlags.Syn).ToArray(),
            (false, true) => Frames.Udp(mac, router, ip, Peers[peer], ephemeral, port).Payload(new byte[16]).ToArray(),
            (false, false) => Frames.Udp(router, mac, Peers[peer], ip, ephemeral, port).Payload(new byte[16]).ToArray(),
        };
    }
}
