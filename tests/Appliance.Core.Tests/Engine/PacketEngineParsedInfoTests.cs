using System.Net;
using Appliance.Core.Wire;
using static Appliance.Core.Tests.Engine.TestPolicy;

namespace Appliance.Core.Tests.Engine;

/// <summary>The decision over hand-filled <see cref="PacketInfo"/> values: shapes no well-formed frame produces.</summary>
public class PacketEngineParsedInfoTests
{
    private static IpAddr Ip(string text) => IpAddr.FromIPAddress(IPAddress.Parse(text));

    [Theory]
    [InlineData(Reason.TruncatedTcp)]        // the parser's reason is the verdict's reason
    [InlineData(Reason.Ipv6ChainTooLong)]
    [InlineData(Reason.BadAddress)]
    public void Decide_ParseError_DropsWithThatReasonEvenForAnAllowedTuple(Reason error)
    {
        var engine = NewEngine();
        var info = new PacketInfo
        {
            Error = error,
            Kind = L3Kind.Ipv4,
            HasEthernet = true,
            SourceMac = Cam1Mac,
            Source = Ip(Cam1Ip),
            Destination = Ip(NvrIp),
            Protocol = 6,
            HasL4 = true,
            DestinationPort = 443,
            TcpFlags = (byte)TcpFlags.Syn,
        };

        var verdict = engine.Decide(ref info, Side.Camera, 1);

        Assert.Equal(error, verdict.Reason);
        Assert.False(verdict.IsPass);
        Assert.Equal(0, engine.Flows.Count);
    }

    [Fact]
    public void Decide_NoLayer3_IsUnsupportedProtocol()
    {
        var engine = NewEngine();
        var info = new PacketInfo { HasEthernet = true, SourceMac = Cam1Mac, Kind = L3Kind.None };

        Assert.Equal(Reason.UnsupportedProtocol, engine.Decide(ref info, Side.Camera, 1).Reason);
    }

    [Fact]
    public void Decide_ProtocolWithoutPorts_NeedsAnAnyProtocolRule()
    {
        // GRE (47) from a camera: only a rule for any protocol without ports or types covers it.
        var anyToNvr = Rule("any-to-nvr", Direction.Egress, Appliance.Core.Policy.RuleProtocol.Any, [], [], ["10.0.1.10/32"]);
        var engine = NewEngine(Spec(rules: [.. Profile, anyToNvr]));
        var info = new PacketInfo
        {
            Kind = L3Kind.Ipv4,
            HasEthernet = true,
            SourceMac = Cam1Mac,
            DestinationMac = RouterMac,
            Source = Ip(Cam1Ip),
            Destination = Ip(NvrIp),
            Protocol = 47,
            IpLength = 64,
        };
        var toDns = info with { Destination = Ip(DnsIp) };

        var allowed = engine.Decide(ref info, Side.Camera, 1);
        var denied = engine.Decide(ref toDns, Side.Camera, 1);

        Assert.Equal(Reason.RuleMatch, allowed.Reason);
        Assert.Equal("any-to-nvr", engine.Policies.Current!.RuleIds[allowed.RuleIndex]);
        Assert.Equal(Reason.NoRuleMatched, denied.Reason);
    }
}
