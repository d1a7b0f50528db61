using System.Text;

namespace Appliance.Policy.Tests.Yaml;

/// <summary>
/// Hostile YAML: every case must come back as an error naming the file, quickly, without expanding anything or
/// overflowing the stack (which would kill the test host, not fail one test).
/// </summary>
public class SafeYamlReaderTests
{
    [Fact]
    public void Load_BillionLaughs_RejectedAtFirstAnchorWithoutExpanding()
    {
        var sb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var i = 1; i < 10; i++)
        {
            var prev = (char)('a' + i - 1);
            sb.Append((char)('a' + i)).Append(": &").Append((char)('a' + i)).Append(" [")
              .Append(string.Join(',', Enumerable.Repeat("*" + prev, 9))).Append("]\n");
        }

        var result = PolicyTestHelpers.LoadOne(sb.ToString(), "laughs.yaml");

        Assert.Null(result.Spec);
        Assert.Equal(["laughs.yaml:1:4: error: anchors (&a) are not allowed in policy files; write the value out"], PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void Load_AliasWithoutAnchor_Rejected()
    {
        var result = PolicyTestHelpers.LoadOne("networks:\n  nvr: *somewhere\n", "alias.yaml");

        Assert.Equal(["alias.yaml:2:8: error: aliases (*somewhere) are not allowed in policy files; write the value out"], PolicyTestHelpers.Lines(result));
    }

    // Tens of thousands of levels: far past the ~8,000 at which YamlDotNet's own tree builders overflow the stack.
    [Theory]
    [InlineData('[', ']')] // flow sequences
    [InlineData('{', '}')] // flow mappings (keys without values)
    public void Load_DeepFlowNesting_RejectedAtDepthCap(char open, char close)
    {
        const int depth = 50_000;
        var text = "cameras: " + new string(open, depth) + new string(close, depth) + "\n";

        var result = PolicyTestHelpers.LoadOne(text, "deep.yaml");

        Assert.Null(result.Spec);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("deep.yaml", diagnostic.File);
        Assert.Equal(Severity.Error, diagnostic.Severity);
        Assert.Equal($"nesting is deeper than {PolicyLimits.MaxDepth} levels; the file is not read", diagnostic.Message);
        Assert.Equal((1, 10 + PolicyLimits.MaxDepth - 1), (diagnostic.Line, diagnostic.Column));
    }

    [Fact]
    public void Load_DeepBlockNesting_RejectedAtDepthCap()
    {
        // Block lists nested by indentation: "-\n -\n  -\n ..." (each deeper than the last).
        var text = string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i * 2) + "-\n"));

        var result = PolicyTestHelpers.LoadOne(text, "block.yaml");

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal($"block.yaml:{PolicyLimits.MaxDepth + 1}:{(PolicyLimits.MaxDepth * 2) + 1}: error: nesting is deeper than {PolicyLimits.MaxDepth} levels; the file is not read", diagnostic.ToString());
    }

    [Fact]
    public void Load_NestingAtTheCap_IsOnlyAShapeError()
    {
        // Exactly MaxDepth levels (the root mapping is level 1): read, then refused by the schema, not by the cap.
        var text = "cameras: " + new string('[', PolicyLimits.MaxDepth - 1) + new string(']', PolicyLimits.MaxDepth - 1) + "\n";

        var result = PolicyTestHelpers.LoadOne(text, "edge.yaml");

        Assert.Equal(["edge.yaml:1:10: error: 'cameras' must be a mapping of names to definitions, not a list"], PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void Load_FileOverSizeLimit_RejectedWithoutParsing()
    {
        var text = "# " + new string('x', PolicyLimits.MaxFileBytes) + "\n";

        var result = PolicyTestHelpers.LoadOne(text, "big.yaml");

        Assert.Equal([$"big.yaml:1:1: error: file is {text.Length} bytes, more than the limit of {PolicyLimits.MaxFileBytes}; the file is not read"], PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void Load_TooManyFiles_Rejected()
    {
        var sources = Enumerable.Range(0, PolicyLimits.MaxFiles + 1).Select(i => new PolicySource($"f{i}.yaml", "")).ToArray();

        var result = PolicyLoader.Load(sources);

        Assert.Equal([$"(policy):1:1: error: {PolicyLimits.MaxFiles + 1} policy files is more than the limit of {PolicyLimits.MaxFiles}"], PolicyTestHelpers.Lines(result));
    }

    [Theory]
    [InlineData("../etc/passwd.yaml")] // escapes the policy directory
    [InlineData("/abs.yaml")] // absolute
    [InlineData("notes.txt")] // not a policy file
    [InlineData("a//b.yaml")] // empty segment
    public void Load_UnsafeSourceName_Rejected(string name)
    {
        var result = PolicyLoader.Load([new PolicySource(name, "")]);

        Assert.Contains(result.Diagnostics, d => d.Severity == Severity.Error && d.File == name && d.Message.Contains("relative path", StringComparison.Ordinal));
        Assert.Null(result.Spec);
    }

    [Fact]
    public void Load_ComplexKey_ReportedAndRestOfFileStillRead()
    {
        var text = "networks:\n  ? [a, b]\n  : 198.51.100.1\n  nvr: 198.51.100.300\n";

        var result = PolicyTestHelpers.LoadOne(text, "keys.yaml");

        Assert.Equal(
            [
                "keys.yaml:2:5: error: a key must be plain text, not a list",
                "keys.yaml:4:8: error: network 'nvr': '198.51.100.300' is not a valid IPv4 address",
            ],
            PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void Load_YamlBooleansAndOctals_StayText()
    {
        // YAML 1.1 would read `no` as false and 0o17 / 017 as numbers; the schema decides instead.
        var text = """
            cameras:
              no:
                mac: 02:00:00:00:01:01
                rules:
                  - { id: 017, direction: egress, protocol: udp, ports: 017, peer: 198.51.100.2 }
            """;

        var result = PolicyTestHelpers.LoadOne(text);

        Assert.False(result.HasErrors, string.Join('\n', PolicyTestHelpers.Lines(result)));
        var camera = Assert.Single(result.Spec!.Cameras);
        Assert.Equal("no", camera.Name);
        Assert.Equal("017", camera.Rules[0].Id);
        Assert.Equal(17, camera.Rules[0].Ports[0].Low);
    }
}
