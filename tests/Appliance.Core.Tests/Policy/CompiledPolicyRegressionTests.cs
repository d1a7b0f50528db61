using System.Net;
using Appliance.Core.Policy;

namespace Appliance.Core.Tests.Policy;

/// <summary>Every defect the property tests or decision tables found in the compiled tables stays here as a case.</summary>
public class CompiledPolicyRegressionTests
{
    private static CompiledPolicy Compile(params RuleSpec[] rules) => CompiledPolicy.Compile(
        new PolicySpec
        {
            Cameras = [new CameraSpec { Name = "a", Mac = new MacAddress(0x0200_0000_0001UL), Addresses = [IPAddress.Parse("10.0.0.1")], Rules = rules }],
            Sha256 = "00",
        },
        1,
        new CameraSlotRegistry(4));

    private static RuleSpec Rule(RuleProtocol protocol, PortRange[] ports, byte[] types, params string[] peers)
        => new() { Id = "r", Direction = Direction.Ingress, Protocol = protocol, Ports = ports, IcmpTypes = types, Peers = [.. peers.Select(IPNetwork.Parse)] };

    [Fact]
    public void Match_RuleWithV4AndV6Peers_EachFamilyUsesItsOwnPeers()
    {
        // Found by the decision table: peer maps were cached by covering rules only, so the IPv6 table reused the
        // IPv4 one and an IPv6 peer never matched.
        var set = Compile(Rule(RuleProtocol.Tcp, [new(554, 554)], [], "10.0.1.10/32", "2001:db8:1::10/128")).Record(0).Rules;

        Assert.Equal(0, set.Match(true, Direction.Ingress, 6, 554, IpAddr.FromIPAddress(IPAddress.Parse("2001:db8:1::10"))));
        Assert.Equal(0, set.Match(false, Direction.Ingress, 6, 554, IpAddr.FromIPAddress(IPAddress.Parse("10.0.1.10"))));
        Assert.Equal(-1, set.Match(true, Direction.Ingress, 6, 554, IpAddr.FromIPAddress(IPAddress.Parse("2001:db8:1::11"))));
    }

    [Fact]
    public void EffectiveRules_AnyProtocolWithAllPorts_KeepsPortsExplicit()
    {
        // Found by EffectiveRules_RandomRuleSets_RecompileToSameDecisions: "any protocol, ports 0-65535" covers
        // TCP and UDP only; printing it as "any protocol" with no ports widened it to ICMP and every other protocol.
        var shown = Compile(Rule(RuleProtocol.Any, [PortRange.All], [], "192.0.2.0/24")).EffectiveRules("a");

        var rule = Assert.Single(shown);
        Assert.Equal([PortRange.All], rule.Ports);
        Assert.Empty(rule.IcmpTypes);
    }

    [Fact]
    public void EffectiveRules_AnyProtocolWithTypesOnly_StaysIcmpOnly()
    {
        var shown = Compile(Rule(RuleProtocol.Any, [], [8], "192.0.2.0/24")).EffectiveRules("a");

        var rule = Assert.Single(shown);
        Assert.Empty(rule.Ports);
        Assert.Equal([8], rule.IcmpTypes);
    }
}
