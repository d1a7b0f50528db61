using System.Globalization;
using Appliance.Core;
using Appliance.TestSupport;
using Appliance.TestSupport.Netns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Appliance.Transport.LibPcap.Tests;

/// <summary>
/// A dead port or lost frames must reach health, the port's counters and the log (issue 12 item 9). Each test builds
/// camera host - appliance - uplink host namespaces with veths, bridges the appliance's two ports with a pass-all
/// decider, checks the healthy state first (the positive control), then breaks something and polls for the report.
/// </summary>
public sealed class PortHealthTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Sends COUNT frames of SIZE bytes (Ethernet, EtherType 0x88B5; with QINQ two VLAN tags) out of IFACE.</summary>
    private const string Blaster = """
        import socket, sys
        iface, count, size, qinq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((iface, 0))
        head = b"\xff" * 6 + b"\x02\x00\x00\x00\x0c\x01"
        if qinq:
            head += b"\x88\xa8\x00\x64" + b"\x81\x00\x00\xc8"
        head += b"\x88\xb5"
        frame = head + bytes(size - len(head))
        sent = 0
        for i in range(count):
            try:
                s.send(frame)
                sent += 1
            except OSError:
                pass
        print(sent)
        """;

    private readonly struct PassAll : IFrameDecider
    {
        public Verdict ProcessFrame(ReadOnlySpan<byte> frame, Side side, long nowMs) => Verdict.Pass(Reason.RuleMatch);

        public void Maintain(long nowMs)
        {
        }
    }

    private sealed class Site : IDisposable
    {
        public Site(int portMtu = 0, int hostMtu = 0, int minimumMtu = 0)
        {
            Lab = new NetnsLab();
            Camera = Lab.AddNamespace("c");
            Appliance = Lab.AddNamespace("a");
            Uplink = Lab.AddNamespace("u");
            (CameraEth, ApCam) = Lab.AddVeth(Camera, Appliance);
            (ApUp, UplinkEth) = Lab.AddVeth(Appliance, Uplink);
            if (hostMtu > 0)
            {
                Lab.Exec(Camera, "ip", "link", "set", CameraEth, "mtu", Invariant(hostMtu));
                Lab.Exec(Uplink, "ip", "link", "set", UplinkEth, "mtu", Invariant(hostMtu));
            }

            if (portMtu > 0)
            {
                Lab.Exec(Appliance, "ip", "link", "set", ApCam, "mtu", Invariant(portMtu));
                Lab.Exec(Appliance, "ip", "link", "set", ApUp, "mtu", Invariant(portMtu));
            }

            var (cam, up) = NetnsLab.InNamespace(Appliance, () =>
            {
                InterfacePreparation.Prepare(ApCam, ApUp, minimumMtu: minimumMtu);
                return (LibPcapPort.Open(ApCam), LibPcapPort.Open(ApUp));
            });
            Bridge = BridgeDataPlane.Create(cam, up, new PassAll(), Logger, new BridgeOptions
            {
                StatisticsInterval = TimeSpan.FromMilliseconds(200),
                StallTimeout = TimeSpan.FromSeconds(3),
            });
            Bridge.Start();
        }

        public NetnsLab Lab { get; }

        public FakeLogger Logger { get; } = new();

        public string Camera { get; }

        public string Appliance { get; }

        public string Uplink { get; }

        public string CameraEth { get; }

        public string ApCam { get; }

        public string ApUp { get; }

        public string UplinkEth { get; }

        public BridgeDataPlane Bridge { get; }

        public int Blast(int count, int size, bool qinq = false)
        {
            var output = Lab.Exec(Camera, Python, "-c", Blaster, CameraEth, Invariant(count), Invariant(size), qinq ? "1" : "0");
            return int.Parse(output.Trim(), CultureInfo.InvariantCulture);
        }

        public bool Logged(int eventId, string contains)
            => Logger.Collector.GetSnapshot().Any(r => r.Id.Id == eventId && r.Message.Contains(contains, StringComparison.Ordinal));

        public void Dispose()
        {
            Bridge.Dispose();
            Lab.Dispose();
        }
    }

    [RootFact]
    public void Bridge_PortSetDown_UnhealthyWithinStallTimeoutLoggedAndRecovers()
    {
        using var site = new Site();
        Eventually.True(() => site.Bridge.IsHealthy, "positive control: a bridge with both ports up is healthy", Bound);

        site.Lab.Exec(site.Appliance, "ip", "link", "set", site.ApCam, "down");

        Eventually.True(() => !site.Bridge.IsHealthy, "a port set down makes the data plane unhealthy", Bound);
        var report = site.Bridge.Report();
        Assert.Equal(PortLinkState.AdminDown, report.Camera!.Condition.Link);
        Assert.Contains("administratively down", report.Problem, StringComparison.Ordinal);
        Assert.False(site.Bridge.IsStalled, "the loop still turns: a down port is not a wedged loop");
        Assert.False(site.Bridge.Completion.IsCompleted);
        Eventually.True(() => site.Logged(6006, "administratively down"), "the log names the down port", Bound);

        site.Lab.Exec(site.Appliance, "ip", "link", "set", site.ApCam, "up");
        Eventually.True(() => site.Bridge.IsHealthy, "the data plane is healthy again once the port is back", Bound);
        Eventually.True(() => site.Logged(6007, site.ApCam), "the recovery is logged", Bound);
    }

    [RootFact]
    public void Bridge_PeerTakenDown_NoCarrierMakesItUnhealthy()
    {
        using var site = new Site();
        Eventually.True(() => site.Bridge.IsHealthy, "positive control: healthy with the peer up", Bound);

        site.Lab.Exec(site.Camera, "ip", "link", "set", site.CameraEth, "down");

        Eventually.True(() => !site.Bridge.IsHealthy, "losing carrier makes the data plane unhealthy", Bound);
        Assert.Equal(PortLinkState.NoCarrier, site.Bridge.Report().Camera!.Condition.Link);
        Eventually.True(() => site.Logged(6006, "no carrier"), "the log says the port lost carrier", Bound);
    }

    [RootFact]
    public void Bridge_PortDeleted_UnhealthyAndReported()
    {
        using var site = new Site();
        Eventually.True(() => site.Bridge.IsHealthy, "positive control: healthy before the deletion", Bound);

        site.Lab.Exec(site.Camera, "ip", "link", "del", site.CameraEth);

        Eventually.True(() => !site.Bridge.IsHealthy, "a deleted port makes the data plane unhealthy", Bound);

        // libpcap reports the device gone on its next read (the loop then faults, fail closed) unless the link
        // check saw it first; either way it is reported.
        Eventually.True(
            () => site.Bridge.Completion.IsFaulted || site.Bridge.Report().Camera!.Condition.Link == PortLinkState.Gone,
            "the deletion is reported as a fault or a gone port",
            Bound);
        Eventually.True(() => site.Logger.Collector.GetSnapshot().Any(r => r.Level >= LogLevel.Error), "an error is logged", Bound);
    }

    [RootFact]
    public void Bridge_TbfQdiscOverflows_SendErrorsCountedByErrnoAndLogged()
    {
        using var site = new Site();
        Eventually.True(() => site.Bridge.IsHealthy, "the bridge runs", Bound);

        // Positive control: the same burst without the qdisc goes through without a send error.
        site.Blast(200, 1000);
        Eventually.True(() => site.Bridge.CameraSide.FramesForwarded >= 150, "the control burst is forwarded", Bound);
        Assert.Equal(0, site.Bridge.CameraSide.SendErrors);

        // A token bucket that holds one frame and drains at 1 Mbit/s: the uplink port's sends overflow it.
        site.Lab.Exec(site.Appliance, "tc", "qdisc", "add", "dev", site.ApUp, "root", "tbf", "rate", "1mbit", "burst", "1540", "limit", "1540");
        site.Blast(3000, 1000);

        Eventually.True(() => site.Bridge.Report().Uplink!.Counters.SendNoBuffers > 0, "ENOBUFS is counted on the sending port", Bound);
        var uplink = site.Bridge.Report().Uplink!.Counters;
        Assert.Equal(105, uplink.LastSendErrno);
        Assert.True(uplink.SendRetried > 0, "refused sends were retried on POLLOUT");
        Assert.True(site.Bridge.CameraSide.SendErrors > 0, "the camera side's lost frames are counted too");
        Eventually.True(() => site.Logged(6004, "ENOBUFS"), "the send errors are logged with their errno", Bound);
    }

    [RootFact]
    public void Bridge_MtuRaisedAfterStart_DriftAndTruncationReported()
    {
        using var site = new Site();
        Eventually.True(() => site.Bridge.IsHealthy, "the bridge runs", Bound);

        // Positive control: a 1400-byte frame fits and is forwarded whole.
        site.Blast(1, 1400);
        Eventually.True(() => site.Bridge.CameraSide.FramesForwarded >= 1, "the control frame is forwarded", Bound);
        Assert.Equal(0, site.Bridge.CameraSide.Truncated);
        Assert.Null(site.Bridge.Report().Problem);

        site.Lab.Exec(site.Appliance, "ip", "link", "set", site.ApCam, "mtu", "2000");
        site.Lab.Exec(site.Camera, "ip", "link", "set", site.CameraEth, "mtu", "2000");
        Eventually.True(() => site.Bridge.Report().Problem?.Contains("MTU changed from 1500 to 2000", StringComparison.Ordinal) == true, "the MTU drift reaches the report", Bound);
        Eventually.True(() => site.Logged(6006, "MTU changed"), "and the log", Bound);

        // The capture ring was sized for the old MTU: a frame that fits the new one arrives cut short.
        site.Blast(1, 1900);
        Eventually.True(() => site.Bridge.CameraSide.Truncated >= 1, "the cut frame is counted as truncated", Bound);
        Eventually.True(() => site.Logged(6005, site.ApCam), "the truncation is logged", Bound);
    }

    [RootFact]
    public void Bridge_FullSizeQinQFrame_ForwardedWithoutEmsgsize()
    {
        // The site's switches carry 802.1ad: 1500-byte payloads under two tags, 1522-byte frames (the hosts either
        // side get the same 8 bytes of room, or their own packet sockets refuse the frame).
        using var site = new Site(hostMtu: 1508, minimumMtu: 1500 + LibPcapDataPlaneFactory.QinQHeadroom);
        Eventually.True(() => site.Bridge.IsHealthy, "the bridge runs", Bound);

        Assert.Equal(1, site.Blast(1, 1522, qinq: true));

        Eventually.True(() => site.Bridge.CameraSide.FramesForwarded >= 1, "the full-size QinQ frame is forwarded", Bound);
        Assert.Equal(0, site.Bridge.CameraSide.Truncated);
        Assert.Equal(0, site.Bridge.Report().Uplink!.Counters.SendTooLarge);
    }

    [RootFact]
    public void Bridge_FullSizeQinQFrame_WithRoomForOneTagOnly_IsRefusedOnSend()
    {
        // The control for the test above: ports with room for one tag only (MTU 1504) receive the frame from the veth
        // (which allows a tag beyond MTU + header) but cannot send it out of the other port.
        using var site = new Site(hostMtu: 1508, portMtu: 1504);
        Eventually.True(() => site.Bridge.IsHealthy, "the bridge runs", Bound);

        Assert.Equal(1, site.Blast(1, 1522, qinq: true));

        Eventually.True(() => site.Bridge.CameraSide.Truncated + site.Bridge.Report().Uplink!.Counters.SendTooLarge >= 1, "the frame is cut or refused", Bound);
        Assert.Equal(0, site.Bridge.CameraSide.FramesForwarded);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
