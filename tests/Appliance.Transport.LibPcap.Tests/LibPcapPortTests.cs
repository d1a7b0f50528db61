using Appliance.TestSupport;
using Appliance.TestSupport.Netns;

namespace Appliance.Transport.LibPcap.Tests;

public sealed class LibPcapPortTests
{
    /// <summary>Copies every received frame, for assertions.</summary>
    private struct Collect : IFrameHandler
    {
        public List<byte[]> Frames;

        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata)
        {
            Assert.Equal(frame.Length, metadata.WireLength);
            Frames.Add(frame.ToArray());
        }
    }

    private static byte[] TestFrame(byte marker)
    {
        // Broadcast destination, locally administered source, the IEEE local experimental EtherType 0x88B5.
        var frame = new byte[60];
        frame.AsSpan(0, 6).Fill(0xFF);
        byte[] src = [0x02, 0, 0, 0, 0x0c, marker];
        src.CopyTo(frame, 6);
        frame[12] = 0x88;
        frame[13] = 0xB5;
        frame[14] = marker;
        return frame;
    }

    private static List<byte[]> ReceiveFor(LibPcapPort port, TimeSpan time, int expected)
    {
        var handler = new Collect { Frames = [] };
        var deadline = DateTime.UtcNow + time;
        while (DateTime.UtcNow < deadline && handler.Frames.Count < expected)
        {
            if (port.Receive(ref handler, 64) == 0)
            {
                Thread.Sleep(5);
            }
        }

        return handler.Frames;
    }

    [Fact]
    public void LibraryVersion_Loaded_NamesLibpcap()
        => Assert.StartsWith("libpcap version", LibPcapPort.LibraryVersion, StringComparison.Ordinal);

    [RootFact]
    public void Open_MissingInterface_ThrowsWithItsName()
    {
        var ex = Assert.Throws<PacketPortException>(() => LibPcapPort.Open("cfnosuch0"));
        Assert.Contains("cfnosuch0", ex.Message, StringComparison.Ordinal);
    }

    [RootFact]
    public void TrySend_OverVeth_PeerReceivesFrameUnchanged()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("p");
        var (a, b) = lab.AddVeth(ns, ns);
        using var portA = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(a));
        using var portB = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(b));
        Assert.True(portA.SelectableFd >= 0);

        var frame = TestFrame(7);
        Assert.True(portA.TrySend(frame));
        var got = ReceiveFor(portB, TimeSpan.FromSeconds(3), 1);

        Assert.Contains(got, f => f.AsSpan().SequenceEqual(frame));
        Assert.Equal(1, portA.GetStatistics().FramesSent);
    }

    [RootFact]
    public void Receive_FramesThePortSentItself_AreNotCaptured()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("p");
        var (a, b) = lab.AddVeth(ns, ns);
        using var portA = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(a));
        using var portB = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(b));

        // A frame arriving on A from the wire is captured; A's own transmission is not (PCAP_D_IN), or a bridge
        // would forward its own output back and loop.
        Assert.True(portB.TrySend(TestFrame(1)));
        Assert.True(portA.TrySend(TestFrame(2)));
        var onA = ReceiveFor(portA, TimeSpan.FromMilliseconds(500), 2);

        Assert.Contains(onA, f => f[14] == 1);
        Assert.DoesNotContain(onA, f => f[14] == 2);
    }

    [RootFact]
    public void Receive_AfterStopReceiving_ReturnsNothing()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("p");
        var (a, b) = lab.AddVeth(ns, ns);
        using var portA = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(a));
        using var portB = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(b));

        // Positive control: a second capture on the same interface, still receiving, sees the frame arrive; by then
        // portB's capture has had it too, so the frame was there to be returned.
        using var control = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(b));

        portB.StopReceiving();
        Assert.True(portA.TrySend(TestFrame(3)));
        Assert.Contains(ReceiveFor(control, TimeSpan.FromSeconds(20), 1), f => f[14] == 3);

        Assert.Empty(ReceiveFor(portB, TimeSpan.FromMilliseconds(200), 1));
        Assert.True(portB.IsCompleted);
    }

    [RootFact]
    public void TrySend_AfterDispose_ReturnsFalseAndCounts()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("p");
        var (a, _) = lab.AddVeth(ns, ns);
        var port = NetnsLab.InNamespace(ns, () => LibPcapPort.Open(a));
        port.Dispose();

        Assert.False(port.TrySend(TestFrame(4)));
        Assert.Equal(1, port.GetStatistics().SendErrors);
    }
}
