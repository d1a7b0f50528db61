namespace Appliance.Core.Tests;

public class ReasonNamesTests
{
    [Theory]
    [InlineData(Reason.TcpStateBypass, "tcp-state-bypass")]
    [InlineData(Reason.FlowTableFull, "flow-table-full")]
    [InlineData(Reason.Ipv6ChainTooLong, "ipv6-chain-too-long")]
    [InlineData(Reason.NoRuleMatched, "no-rule-matched")]
    public void Name_KnownReason_IsStableKebabCase(Reason reason, string expected)
    {
        Assert.Equal(expected, ReasonNames.Name(reason));
        Assert.True(ReasonNames.TryParse(expected, out var back));
        Assert.Equal(reason, back);
    }

    [Fact]
    public void Name_EveryReason_IsUniqueAndFitsCounters()
    {
        var seen = new HashSet<string>();
        foreach (var r in ReasonNames.All)
        {
            Assert.True((int)r < ReasonNames.Capacity);
            Assert.True(seen.Add(ReasonNames.Name(r)), $"duplicate name {ReasonNames.Name(r)}");
        }
    }

    [Fact]
    public void IsPassReason_SplitsPassFromDrop()
    {
        Assert.True(ReasonNames.IsPassReason(Reason.RuleMatch));
        Assert.False(ReasonNames.IsPassReason(Reason.NoRuleMatched));
        Assert.True(ReasonNames.IsMalformed(Reason.TruncatedTcp));
        Assert.False(ReasonNames.IsMalformed(Reason.MacSpoof));
    }
}
