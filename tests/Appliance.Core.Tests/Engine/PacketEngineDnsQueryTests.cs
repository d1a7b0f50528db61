using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Tests.Wire;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;
using static Appliance.Core.Tests.Engine.PacketEngineDnsTests;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>
/// Which names a camera may ask about (issue 15, "the resolver is not a tunnel"): a camera restricted with
/// <c>dns: { queries: rules }</c> may ask only about its rules' names and its <c>also</c> list; every other question,
/// and every query that cannot be checked, is dropped as <c>dns-query-not-allowed</c> and reported with the name.
/// cam-1 is restricted; cam-2 (same rules) is not, the positive control. Frames are raw bytes.
/// </summary>
public class PacketEngineDnsQueryTests
{
    private static readonly string Cam1 = Cam1Mac.ToString();
    private static readonly string Cam2 = Cam2Mac.ToString();

    internal static PacketEngine Restricted(string[]? also = null, CameraMode mode = CameraMode.Enforce)
        => NewEngine(Spec(rules: NameRules, edit: c => c.Name == "cam-1"
            ? c with { DnsQueries = DnsQueryScope.Rules, DnsAlso = also ?? ["ntp.also.example"], Mode = mode }
            : c));

    private static Verdict Camera(PacketEngine e, byte[] frame, long now = 0) => e.ProcessFrame(frame, Side.Camera, now);

    private static byte[] Udp53(string mac, string ip, byte[] message, ushort port = 40000)
        => Frames.Udp(Frames.Mac(mac), RouterMac, ip, DnsIp, port, 53).Payload(message).ToArray();

    [Theory]
    [InlineData("time.vendor.example")]     // an exact rule name
    [InlineData("TIME.Vendor.EXAMPLE")]     // case does not matter (RFC 4343)
    [InlineData("a.fw.vendor.example")]     // under a rule's wildcard
    [InlineData("x.y.fw.vendor.example")]   // deeper under it
    [InlineData("ntp.also.example")]        // the also list
    public void Query_ForANameTheCameraMayAskAbout_Passes(string name)
    {
        var e = Restricted();
        var v = Camera(e, Query(Cam1, Cam1Ip, 40000, 1, name));
        Assert.Equal(Reason.RuleMatch, v.Reason);
        Assert.Equal(1, e.DnsQueries.Count);
    }

    [Theory]
    [InlineData("exfil-4a6f686e.attacker.example")]
    [InlineData("fw.vendor.example")]                        // a wildcard does not cover its own apex
    [InlineData("vendor.example")]
    [InlineData("time.vendor.example.attacker.example")]     // an allowed name as a prefix
    [InlineData("xtime.vendor.example")]                     // suffix without a label boundary
    [InlineData("also.example")]
    public void Query_ForAnotherName_DroppedAndReportedWithTheName(string name)
    {
        var e = Restricted();
        var v = Camera(e, Query(Cam1, Cam1Ip, 40000, 1, name));

        Assert.Equal(VerdictAction.Drop, v.Action);
        Assert.Equal(Reason.DnsQueryNotAllowed, v.Reason);
        Assert.Equal(1, e.DnsStats.Refused);
        Assert.Equal(0, e.DnsQueries.Count); // not remembered: its answer must teach nothing
        Assert.True(e.Events.TryRead(out var ev));
        Assert.Equal(Reason.DnsQueryNotAllowed, ev.Reason);
        Assert.Equal(name.ToLowerInvariant(), e.Events.NameOf(in ev));

        // Positive control: the same question from a camera that may ask anything.
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam2, Cam2Ip, 40000, 1, name)).Reason);
    }

    public static TheoryData<string, byte[]> Unreadable => new()
    {
        { "two questions", DnsWire.Header(1, 0x0100, 2, 0).Question("time.vendor.example").Question("exfil.attacker.example").ToArray() },
        { "QDCOUNT 0", DnsWire.Header(1, 0x0100, 0, 0).ToArray() },
        { "QDCOUNT 2, one question", DnsWire.Header(1, 0x0100, 2, 0).Question("time.vendor.example").ToArray() },
        { "a response", DnsWire.Header(1, 0x8100, 1, 0).Question("time.vendor.example").ToArray() },
        { "opcode UPDATE", DnsWire.Header(1, 0x2800, 1, 0).Question("time.vendor.example").ToArray() },
        { "an answer record in a query", DnsWire.Header(1, 0x0100, 1, 1).Question("time.vendor.example").A("exfil.attacker.example", "192.0.2.1").ToArray() },
        { "class CH", DnsWire.Header(1, 0x0100, 1, 0).Name("time.vendor.example").U16(1).U16(3).ToArray() },
        { "a label holding a dot", DnsWire.Header(1, 0x0100, 1, 0).Raw(11).Raw("exfil.a.com"u8.ToArray()).Name("time.vendor.example").U16(1).U16(1).ToArray() },
        { "one label 'time.vendor.example'", DnsWire.Header(1, 0x0100, 1, 0).Raw(19).Raw("time.vendor.example"u8.ToArray()).Raw(0).U16(1).U16(1).ToArray() },
        { "a pointer loop", DnsWire.Header(1, 0x0100, 1, 0).Pointer(12).U16(1).U16(1).ToArray() },
        { "a truncated question", DnsWire.Header(1, 0x0100, 1, 0).Name("time.vendor.example").ToArray() },
        { "a header only", DnsWire.Header(1, 0x0100, 1, 0).ToArray()[..12] },
        { "less than a header", new byte[] { 0, 1, 1 } },
        { "an empty datagram", Array.Empty<byte>() },
    };

    [Theory]
    [MemberData(nameof(Unreadable))]
    public void Query_ThatCannotBeChecked_Dropped(string what, byte[] message)
    {
        var e = Restricted();

        Assert.Equal(Reason.DnsQueryNotAllowed, Camera(e, Udp53(Cam1, Cam1Ip, message)).Reason);
        Assert.True(e.DnsStats.Refused == 1, what);
        Assert.True(Camera(e, Udp53(Cam2, Cam2Ip, message)).IsPass); // the unrestricted camera: the resolver's business
    }

    [Fact]
    public void Query_SecondQuestionPointingIntoAnAllowedFirst_Dropped()
    {
        // Compression can only point back, so a second question is where a pointer to an allowed suffix could hide:
        // "exfil" + pointer to "vendor.example" in the first question reads exfil.vendor.example. Two questions are
        // refused whatever they say; one question spelled out label by label passes.
        var pointed = DnsWire.Header(1, 0x0100, 2, 0).Question("time.vendor.example").Raw(5).Raw("exfil"u8.ToArray()).Pointer(12 + 5).U16(1).U16(1).ToArray();
        var spelled = DnsWire.Header(1, 0x0100, 1, 0).Raw(1, (byte)'a', 2).Raw("fw"u8.ToArray()).Raw(6).Raw("vendor"u8.ToArray()).Raw(7).Raw("example"u8.ToArray()).Raw(0).U16(1).U16(1).ToArray();
        var e = Restricted();

        Assert.Equal(Reason.DnsQueryNotAllowed, Camera(e, Udp53(Cam1, Cam1Ip, pointed)).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, Udp53(Cam1, Cam1Ip, spelled)).Reason);
    }

    [Fact]
    public void Query_WithEdnsOptRecord_Passes()
    {
        // dig and most stub resolvers add an OPT pseudo-record (RFC 6891): one additional record is fine.
        var message = DnsWire.Header(1, 0x0100, 1, 0, 0, 1).Question("time.vendor.example").Raw(0).U16(41).U16(1232).U32(0).U16(0).ToArray();
        Assert.Equal(Reason.RuleMatch, Camera(Restricted(), Udp53(Cam1, Cam1Ip, message)).Reason);
    }

    [Fact]
    public void Query_FragmentedDatagram_Dropped()
    {
        var message = DnsWire.Header(1, 0x0100, 1, 0).Question("time.vendor.example").ToArray();
        var first = Frames.Udp(Cam1Mac, RouterMac, Cam1Ip, DnsIp, 40000, 53).Id(77).Fragment(0, moreFragments: true).Payload(message).ToArray();
        var e = Restricted();

        Assert.Equal(Reason.DnsQueryNotAllowed, Camera(e, first).Reason);
        Assert.True(Camera(e, Frames.Udp(Cam2Mac, RouterMac, Cam2Ip, DnsIp, 40000, 53).Id(77).Fragment(0, moreFragments: true).Payload(message).ToArray()).IsPass);
    }

    [Fact]
    public void Query_MonitoredCamera_PassesAndIsReported()
    {
        var e = Restricted(mode: CameraMode.Monitor);
        var v = Camera(e, Query(Cam1, Cam1Ip, 40000, 1, "exfil.attacker.example"));

        Assert.Equal(VerdictAction.Pass, v.Action);
        Assert.True(v.Monitored);
        Assert.Equal(Reason.DnsQueryNotAllowed, v.Reason);
        Assert.True(e.Events.TryRead(out var ev));
        Assert.Equal("exfil.attacker.example", e.Events.NameOf(in ev));
    }

    [Fact]
    public void RestrictedCamera_StillLearnsFromAnswersToAllowedQueries()
    {
        var e = Restricted();
        Assert.Equal(Reason.RuleMatch, Camera(e, Query(Cam1, Cam1Ip, 40000, 9, "a.fw.vendor.example")).Reason);
        Assert.True(e.ProcessFrame(Answer(Cam1, Cam1Ip, 40000, 9, AnswerA(9, "a.fw.vendor.example", Cloud)), Side.Uplink, 1).IsPass);

        Assert.Equal(Reason.RuleMatch, Camera(e, Syn(Cam1, Cam1Ip, Cloud), 2).Reason);
    }

    private static byte[] Framed(byte[] message) => [(byte)(message.Length >> 8), (byte)message.Length, .. message];

    private static byte[] TcpOut(string mac, string ip, TcpFlags flags, uint seq, byte[] payload)
        => Frames.Tcp(Frames.Mac(mac), RouterMac, ip, DnsIp, 45000, 53, flags).Seq(seq).Payload(payload).ToArray();

    /// <summary>Opens DNS over TCP for <paramref name="mac"/>: SYN (seq 0), SYN-ACK, ACK; the camera's next byte is 1.</summary>
    private static void Handshake(PacketEngine e, string mac, string ip)
    {
        Assert.Equal(Reason.RuleMatch, Camera(e, TcpOut(mac, ip, TcpFlags.Syn, 0, [])).Reason);
        Assert.Equal(Reason.EstablishedFlow, e.ProcessFrame(Frames.Tcp(RouterMac, Frames.Mac(mac), DnsIp, ip, 53, 45000, TcpFlags.Syn | TcpFlags.Ack).Seq(5000).Ack(1).ToArray(), Side.Uplink, 1).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, TcpOut(mac, ip, TcpFlags.Ack, 1, []), 2).Reason);
    }

    [Fact]
    public void TcpQuery_WholeInOrder_Passes_SplitDoubledOrOutOfOrder_Dropped()
    {
        var good = Framed(DnsWire.Header(1, 0x0100, 1, 0).Question("time.vendor.example").ToArray());
        var bad = Framed(DnsWire.Header(2, 0x0100, 1, 0).Question("exfil.attacker.example").ToArray());
        foreach (var (mac, ip, restricted) in new[] { (Cam1, Cam1Ip, true), (Cam2, Cam2Ip, false) })
        {
            var e = Restricted();
            Handshake(e, mac, ip);
            uint seq = 1;
            Assert.Equal(Reason.EstablishedFlow, Camera(e, TcpOut(mac, ip, TcpFlags.Ack | TcpFlags.Psh, seq, good), 3).Reason);
            seq += (uint)good.Length;

            var expected = restricted ? Reason.DnsQueryNotAllowed : Reason.EstablishedFlow;
            Assert.Equal(expected, Camera(e, TcpOut(mac, ip, TcpFlags.Ack | TcpFlags.Psh, seq, bad), 4).Reason);                 // another name
            Assert.Equal(expected, Camera(e, TcpOut(mac, ip, TcpFlags.Ack | TcpFlags.Psh, seq, [.. good, .. bad]), 5).Reason);   // two messages
            Assert.Equal(expected, Camera(e, TcpOut(mac, ip, TcpFlags.Ack | TcpFlags.Psh, seq, bad[..10]), 6).Reason);           // part of one
            Assert.Equal(expected, Camera(e, TcpOut(mac, ip, TcpFlags.Ack | TcpFlags.Psh, 1, good), 7).Reason);                  // a retransmission
        }
    }

    [Fact]
    public void TcpQuery_OverlappingSegmentThatShiftsTheStream_Dropped()
    {
        // A checked segment that starts inside the previous one would let the resolver's reassembly read a message
        // boundary where the engine saw none. Only segments starting where the stream ended are read.
        var e = Restricted();
        Handshake(e, Cam1, Cam1Ip);
        var good = Framed(DnsWire.Header(1, 0x0100, 1, 0).Question("time.vendor.example").ToArray());
        Assert.Equal(Reason.EstablishedFlow, Camera(e, TcpOut(Cam1, Cam1Ip, TcpFlags.Ack | TcpFlags.Psh, 1, good), 3).Reason);
        Assert.Equal(Reason.DnsQueryNotAllowed, Camera(e, TcpOut(Cam1, Cam1Ip, TcpFlags.Ack | TcpFlags.Psh, 1 + 5, good), 4).Reason);
        Assert.Equal(Reason.EstablishedFlow, Camera(e, TcpOut(Cam1, Cam1Ip, TcpFlags.Ack, 1 + (uint)good.Length, []), 5).Reason); // pure ACKs pass
    }

    [Fact]
    public void RestrictedCamera_NoNamesAtAll_EveryQueryDropped()
    {
        var e = NewEngine(Spec(edit: c => c.Name == "cam-1" ? c with { DnsQueries = DnsQueryScope.Rules } : c));
        Assert.Equal(Reason.DnsQueryNotAllowed, Camera(e, Query(Cam1, Cam1Ip, 40000, 1, "time.vendor.example")).Reason);
        Assert.Empty(e.Policies.Current!.Cameras[0].DnsQueryNames);
        Assert.Equal(DnsQueryScope.Rules, e.Policies.Current!.Cameras[0].DnsQueries);
    }

    [Fact]
    public void Compile_QueryFilter_ReadsBackRulesNamesThenAlso_SharedBetweenCameras()
    {
        var spec = Spec(rules: NameRules, edit: c => c with { DnsQueries = DnsQueryScope.Rules, DnsAlso = ["ntp.also.example", "time.vendor.example"] });
        var compiled = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry(64));

        Assert.Equal(["time.vendor.example", "*.fw.vendor.example", "ntp.also.example"], compiled.Cameras[0].DnsQueryNames);
    }
}
