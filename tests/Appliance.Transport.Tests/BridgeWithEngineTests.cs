using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;

namespace Appliance.Transport.Tests;

/// <summary>The data plane with the real engine and a one-camera policy, over in-memory ports.</summary>
public sealed class BridgeWithEngineTests
{
    private const string Camera = "192.0.2.10";
    private const string Nvr = "192.0.2.20";

    private static PacketEngine Engine()
    {
        var spec = new PolicySpec
        {
            Sha256 = new string('0', 64),
            Cameras =
            [
                new CameraSpec
                {
                    Name = "gate",
                    Mac = Frames.CameraMac,
                    Addresses = [IPAddress.Parse(Camera)],
                    Rules =
                    [
                        new RuleSpec
                        {
                            Id = "rtsp-from-nvr",
                            Direction = Direction.Ingress,
                            Protocol = RuleProtocol.Tcp,
                            Ports = [new PortRange(554, 554)],
                            Peers = [IPNetwork.Parse(Nvr + "/32")],
                        },
                    ],
                },
            ],
        };
        var holder = new PolicyHolder();
        holder.Swap(CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots));
        return new PacketEngine(holder);
    }

    [Fact]
    public async Task Bridge_NvrOpensStream_HandshakeCrossesBothWays()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        await using var bridge = new BridgeDataPlane(camera, uplink, Engine());
        bridge.Start();
        var syn = Frames.Tcp(Frames.NvrMac, Frames.CameraMac, Nvr, Camera, 50000, 554, TcpFlags.Syn).Seq(1).ToArray();
        var synAck = Frames.Tcp(Frames.CameraMac, Frames.NvrMac, Camera, Nvr, 554, 50000, TcpFlags.Syn | TcpFlags.Ack).Seq(9).Ack(2).ToArray();

        uplink.Inject(syn);
        await Eventually.TrueAsync(() => camera.SentCount == 1, within: TimeSpan.FromSeconds(10));
        camera.Inject(synAck);
        await Eventually.TrueAsync(() => uplink.SentCount == 1, within: TimeSpan.FromSeconds(10));

        Assert.True(camera.TryTakeSent(out var toCamera));
        Assert.Equal(syn, toCamera);
        Assert.True(uplink.TryTakeSent(out var toUplink));
        Assert.Equal(synAck, toUplink);
    }

    [Fact]
    public async Task Bridge_CameraPhonesHome_NothingLeaves()
    {
        var camera = new InMemoryPort("cam0");
        var uplink = new InMemoryPort("up0");
        var engine = Engine();
        await using var bridge = new BridgeDataPlane(camera, uplink, engine);
        bridge.Start();

        camera.Inject(Frames.Tcp(Frames.CameraMac, Frames.RouterMac, Camera, "203.0.113.10", 41000, 443, TcpFlags.Syn).ToArray());
        uplink.Inject(Frames.Tcp(Frames.RouterMac, Frames.CameraMac, "198.51.100.10", Camera, 52000, 80, TcpFlags.Syn).ToArray());
        await Eventually.TrueAsync(() => bridge.CameraSide.FramesDropped == 1 && bridge.UplinkSide.FramesDropped == 1, within: TimeSpan.FromSeconds(10));

        Assert.Equal(0, uplink.SentCount);
        Assert.Equal(0, camera.SentCount);
        Assert.True(engine.Events.TryRead(out var first));
        Assert.Equal(Reason.NoRuleMatched, first.Reason);
    }

    [Fact]
    public void Constructor_NullEngine_Throws()
    {
        using var a = new InMemoryPort("a");
        using var b = new InMemoryPort("b");
        Assert.Throws<ArgumentNullException>(() => new BridgeDataPlane(a, b, null!));
    }
}
