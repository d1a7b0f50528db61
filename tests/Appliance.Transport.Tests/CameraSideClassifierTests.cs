using System.Net;
using Appliance.Core;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;

namespace Appliance.Transport.Tests;

public sealed class CameraSideClassifierTests
{
    private static readonly CameraSideClassifier Classifier = new(new PolicySpec
    {
        Sha256 = "",
        Cameras =
        [
            // Bound by MAC and IP.
            new CameraSpec { Name = "gate", Mac = Frames.CameraMac, Addresses = [IPAddress.Parse("192.0.2.10")], Rules = [] },
            // By IP alone (v4 and v6).
            new CameraSpec { Name = "dock", Addresses = [IPAddress.Parse("192.0.2.11"), IPAddress.Parse("2001:db8::11")], Rules = [] },
        ],
    });

    public static TheoryData<string, byte[], Side> Cases => new()
    {
        { "camera MAC as source", Frames.Udp(Frames.CameraMac, Frames.NvrMac, "192.0.2.10", "192.0.2.53", 1, 53).ToArray(), Side.Camera },
        { "camera MAC with a foreign IP still came from the camera port", Frames.Udp(Frames.CameraMac, Frames.NvrMac, "192.0.2.99", "192.0.2.53", 1, 53).ToArray(), Side.Camera },
        { "IP-only camera as source", Frames.Udp(Frames.OtherCameraMac, Frames.NvrMac, "192.0.2.11", "192.0.2.53", 1, 53).ToArray(), Side.Camera },
        { "IPv6 camera as source", Frames.Udp(Frames.OtherCameraMac, Frames.NvrMac, "2001:db8::11", "2001:db8::53", 1, 53).ToArray(), Side.Camera },
        { "VLAN-tagged camera source IP", FrameBuilder.Ethernet(Frames.OtherCameraMac, Frames.NvrMac).Vlan(10).Ip("192.0.2.11", "192.0.2.53").Udp(1, 53).ToArray(), Side.Camera },
        { "ARP from the IP-only camera", Frames.ArpRequest(Frames.OtherCameraMac, "192.0.2.11", "192.0.2.1").ToArray(), Side.Camera },
        { "NVR towards the camera", Frames.Tcp(Frames.NvrMac, Frames.CameraMac, "192.0.2.20", "192.0.2.10", 5, 554, TcpFlags.Syn).ToArray(), Side.Uplink },
        { "ARP from the router", Frames.ArpRequest(Frames.RouterMac, "192.0.2.1", "192.0.2.10").ToArray(), Side.Uplink },
        { "runt frame", new byte[5], Side.Uplink },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClassifyFrame_Table(string because, byte[] frame, Side expected)
        => Assert.True(expected == Classifier.ClassifyFrame(frame), because);

    [Fact]
    public void ClassifyPacket_BareIp_BySourceAddress()
    {
        Assert.Equal(Side.Camera, Classifier.ClassifyPacket(Frames.Ip("192.0.2.10", "192.0.2.53").Udp(1, 53).ToArray()));
        Assert.Equal(Side.Uplink, Classifier.ClassifyPacket(Frames.Ip("192.0.2.53", "192.0.2.10").Udp(53, 1).ToArray()));
        Assert.Equal(Side.Uplink, Classifier.ClassifyPacket([]));
    }

    [Fact]
    public void ClassifyFrame_StrangerNamedCameraSide_CameraSideByName()
    {
        var rogue = Frames.Mac("02:00:00:00:0b:ad");
        var named = new CameraSideClassifier(
            new PolicySpec { Sha256 = "", Cameras = [new CameraSpec { Name = "gate", Mac = Frames.CameraMac, Addresses = [IPAddress.Parse("192.0.2.10")], Rules = [] }] },
            [rogue],
            [IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("2001:db8:c::/48")]);
        var byMac = Frames.Tcp(rogue, Frames.CameraMac, "192.0.2.20", "192.0.2.10", 5, 554, TcpFlags.Syn).ToArray();
        var byAddress = Frames.Udp(Frames.NvrMac, Frames.RouterMac, "198.51.100.7", "203.0.113.1", 5, 53).ToArray();
        var byV6 = Frames.Udp(Frames.NvrMac, Frames.RouterMac, "2001:db8:c::7", "2001:db8::1", 5, 53).ToArray();
        var arp = Frames.ArpRequest(rogue, "192.0.2.77", "192.0.2.1").ToArray();
        var stranger = Frames.Udp(Frames.NvrMac, Frames.RouterMac, "198.51.101.7", "203.0.113.1", 5, 53).ToArray();
        var camera = Frames.Udp(Frames.CameraMac, Frames.RouterMac, "192.0.2.10", "203.0.113.1", 5, 53).ToArray();

        Assert.Equal((Side.Camera, SideBasis.NamedCameraSide), (named.ClassifyFrame(byMac, out var b1), b1));
        Assert.Equal((Side.Camera, SideBasis.NamedCameraSide), (named.ClassifyFrame(byAddress, out var b2), b2));
        Assert.Equal((Side.Camera, SideBasis.NamedCameraSide), (named.ClassifyFrame(byV6, out var b3), b3));
        Assert.Equal((Side.Camera, SideBasis.NamedCameraSide), (named.ClassifyFrame(arp, out var b4), b4));
        Assert.Equal((Side.Uplink, SideBasis.Default), (named.ClassifyFrame(stranger, out var b5), b5));
        Assert.Equal((Side.Camera, SideBasis.CameraAddress), (named.ClassifyFrame(camera, out var b6), b6));
        Assert.Equal((Side.Camera, SideBasis.NamedCameraSide), (named.ClassifyPacket(Frames.Ip("198.51.100.9", "192.0.2.1").Udp(1, 2).ToArray(), out var b7), b7));

        // Without the names the same frames are uplink: the control.
        Assert.Equal(Side.Uplink, Classifier.ClassifyFrame(byMac));
        Assert.Equal(Side.Uplink, Classifier.ClassifyFrame(byAddress));
    }
}
