using System.Net;
using System.Text;
using Appliance.Core.Engine;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Names in reports (issue 15): every drop event carries the name its camera last resolved to the peer's address,
/// captured on the data path as a handle (cell + generation) and read back as text off the hot path.
/// </summary>
public class PacketEngineDnsReportTests
{
    private static readonly string Cam1 = Cam1Mac.ToString();

    private static IpAddr Ip(string text) => IpAddr.FromIPAddress(IPAddress.Parse(text));

    private static void Resolve(PacketEngine e, string name, string address, long now, ushort id = 0x1234, ushort port = 40000)
    {
        Assert.Equal(Reason.RuleMatch, e.ProcessFrame(Query(Cam1, Cam1Ip, port, id, name), Side.Camera, now).Reason);
        Assert.Equal(Reason.EstablishedFlow, e.ProcessFrame(Answer(Cam1, Cam1Ip, port, id, AnswerA(id, name, address)), Side.Uplink, now + 1).Reason);
    }

    private static List<DropEvent> Drain(PacketEngine e)
    {
        var list = new List<DropEvent>();
        while (e.Events.TryRead(out var ev))
        {
            list.Add(ev);
        }

        return list;
    }

    [Fact]
    public void Drop_ToAnAddressTheCameraResolved_EventCarriesThatName()
    {
        var e = PacketEngineDnsTests.Engine();
        Resolve(e, "p2p.other.example", Cloud, 0);
        Drain(e);

        Assert.Equal(Reason.NoRuleMatched, e.ProcessFrame(Syn(Cam1, Cam1Ip, Cloud), Side.Camera, 10).Reason);
        Assert.Equal(Reason.NoRuleMatched, e.ProcessFrame(Syn(Cam1, Cam1Ip, Cloud2), Side.Camera, 11).Reason);
        Assert.Equal(Reason.NoRuleMatched, e.ProcessFrame(Syn(Cam2Mac.ToString(), Cam2Ip, Cloud), Side.Camera, 12).Reason);

        var events = Drain(e);
        Assert.Equal(3, events.Count);
        Assert.Equal("p2p.other.example", e.Events.NameOf(events[0]));
        Assert.Null(e.Events.NameOf(events[1])); // an address cam-1 never resolved
        Assert.Null(e.Events.NameOf(events[2])); // cam-2 never resolved it: another camera's answer names nothing for it
    }

    [Fact]
    public void Drop_FromAResolvedPeer_IngressEventCarriesThePeersName()
    {
        var e = PacketEngineDnsTests.Engine();
        Resolve(e, "p2p.other.example", Cloud, 0);
        Drain(e);

        var syn = Frames.Tcp(RouterMac, Cam1Mac, Cloud, Cam1Ip, 5555, 23, TcpFlags.Syn).ToArray();
        Assert.False(e.ProcessFrame(syn, Side.Uplink, 10).IsPass);

        var ev = Assert.Single(Drain(e));
        Assert.Equal(Direction.Ingress, ev.Direction);
        Assert.Equal("p2p.other.example", e.Events.NameOf(ev));
    }

    [Fact]
    public void Drop_TheCameraResolvedTwoNames_EventCarriesTheLatest()
    {
        var e = PacketEngineDnsTests.Engine();
        Resolve(e, "old.other.example", Cloud, 0, id: 1, port: 40001);
        Resolve(e, "new.other.example", Cloud, 5, id: 2, port: 40002);
        Drain(e);

        e.ProcessFrame(Syn(Cam1, Cam1Ip, Cloud), Side.Camera, 10);

        Assert.Equal("new.other.example", e.Events.NameOf(Assert.Single(Drain(e))));
    }

    [Fact]
    public void NameOf_CellReusedSinceTheDrop_ReadsNoNameNotTheNewOne()
    {
        // One name per camera: learning a second name evicts the first and takes its cell.
        var e = PacketEngineDnsTests.Engine(new EngineOptions { DnsNamesPerCamera = 1, DnsNameCapacity = 1 });
        Resolve(e, "first.other.example", Cloud, 0, id: 1, port: 40001);
        Drain(e);
        e.ProcessFrame(Syn(Cam1, Cam1Ip, Cloud), Side.Camera, 10);
        var ev = Assert.Single(Drain(e));
        Assert.Equal("first.other.example", e.Events.NameOf(ev)); // positive control before the reuse

        Resolve(e, "second.other.example", Cloud2, 20, id: 2, port: 40002);

        Assert.Equal(1, e.DnsNames.Evictions);
        Assert.Null(e.Events.NameOf(ev));
    }

    [Fact]
    public async Task TryFindName_ReaderRacingTheWriter_NeverReturnsAnotherAddresssName()
    {
        // Small pools so the writer keeps evicting and reusing cells and entries while the reader walks them.
        var table = new DnsNameTable(nameCapacity: 8, addressCapacity: 8, namesPerCamera: 4, addressesPerName: 2, cameraSlots: 2);
        const int Addresses = 32;
        static IpAddr Address(int k) => IpAddr.FromIPAddress(new IPAddress([198, 51, 100, (byte)k]));
        var names = Enumerable.Range(0, Addresses).Select(k => Encoding.ASCII.GetBytes($"n{k}.example")).ToArray();

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            long now = 0;
            while (!stop.IsCancellationRequested)
            {
                for (var k = 0; k < Addresses; k++)
                {
                    now++;
                    table.Learn(k % 2, names[k], Address(k), now + 50, now, DnsAnswerSource.NotAdmitted);
                }
            }
        });

        long found = 0, wrong = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        for (var i = 0; found < 20_000 && DateTime.UtcNow < deadline; i++)
        {
            var k = i % Addresses;
            if (table.TryFindName(k % 2, Address(k), out var cell, out var generation) && table.TryGetName(cell, generation) is { } text)
            {
                found++;
                if (text != $"n{k}.example")
                {
                    wrong++;
                }
            }
        }

        await stop.CancelAsync();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(found >= 1_000, $"the reader found only {found} names (positive control)");
        Assert.Equal(0, wrong);
    }
}
