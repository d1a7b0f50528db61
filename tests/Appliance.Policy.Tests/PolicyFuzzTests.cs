namespace Appliance.Policy.Tests;

/// <summary>
/// Mutated copies of the example site: whatever the bytes, loading returns diagnostics and never throws. A seed
/// that ever fails here goes into <see cref="Regressions"/> with the mutation that found it.
/// </summary>
public class PolicyFuzzTests
{
    // Characters that mean something to YAML or to the policy schema, so mutations reach deep paths.
    private const string Alphabet = "[]{}:,-#&*!|>'\"%@` \n\t0123456789abcdef./\\?~";

    public static TheoryData<string> Regressions => new()
    {
        "cameras:\n  a: { ip: [\n",                 // unterminated flow list inside a mapping
        "? - a\n: b\n",                              // a sequence as a key
        "networks:\n  a: [\"2001:db8::1%\"]\n",      // an empty zone index
        "%YAML 1.1\n--- !x\nnetworks: {}\n",         // a directive and a tagged document
        "cameras:\n  \"\": { mac: 02:00:00:00:00:01 }\n", // an empty camera name
    };

    [Theory]
    [MemberData(nameof(Regressions))]
    public void Load_RegressionInput_ReturnsDiagnosticsWithoutThrowing(string yaml)
    {
        var result = PolicyTestHelpers.LoadOne(yaml);

        Assert.True(result.HasErrors);
        Assert.All(result.Diagnostics, d => Assert.True(d.Line >= 1 && d.Column >= 1, d.ToString()));
    }

    [Fact]
    public void Load_MutatedExampleFiles_NeverThrow()
    {
        var files = Directory.GetFiles(PolicyTestHelpers.ExamplePolicyDirectory, "*.yaml", SearchOption.AllDirectories)
            .Select(f => File.ReadAllText(f))
            .ToArray();
        var random = new Random(20261122);
        for (var i = 0; i < 3000; i++)
        {
            var text = files[i % files.Length].ToCharArray().ToList();
            for (var m = random.Next(1, 6); m > 0; m--)
            {
                var at = random.Next(text.Count);
                switch (random.Next(3))
                {
                    case 0:
                        text[at] = Alphabet[random.Next(Alphabet.Length)];
                        break;
                    case 1:
                        text.Insert(at, Alphabet[random.Next(Alphabet.Length)]);
                        break;
                    default:
                        text.RemoveAt(at);
                        break;
                }
            }

            var yaml = new string(text.ToArray());
            var result = PolicyLoader.Load([new PolicySource("fuzz.yaml", yaml)]);

            Assert.True(result.Spec is not null || result.Diagnostics.Any(d => d.Severity == Severity.Error), yaml);
        }
    }
}
