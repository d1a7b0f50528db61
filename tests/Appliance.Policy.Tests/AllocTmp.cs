using Appliance.Benchmarks.Policy;

namespace Appliance.Policy.Tests;

public class AllocTmp
{
    [Fact]
    public void Alloc()
    {
        var sources = SyntheticPolicy.Generate(10_000);
        var log = new List<string>();
        for (var k = 0; k < 3; k++)
        {
            var a0 = GC.GetAllocatedBytesForCurrentThread();
            foreach (var s in sources)
            {
                var parser = new YamlDotNet.Core.Parser(new StringReader(s.Text));
                while (parser.MoveNext())
                {
                }
            }

            var a1 = GC.GetAllocatedBytesForCurrentThread();
            var bag = new DiagnosticBag();
            var decls = new PolicyDeclarations();
            var roots = new List<Appliance.Policy.Yaml.YNode?>();
            foreach (var s in sources)
            {
                Appliance.Policy.Yaml.SafeYamlReader.TryRead(s.Name, s.Text, bag, out var root);
                roots.Add(root);
            }

            var a2 = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < sources.Count; i++)
            {
                new PolicyReader(sources[i].Name, bag, decls).ReadFile(roots[i]);
            }

            var a3 = GC.GetAllocatedBytesForCurrentThread();
            _ = new PolicyResolver(decls, bag).Resolve("", []);
            var a4 = GC.GetAllocatedBytesForCurrentThread();
            log.Add($"raw {(a1 - a0) >> 20} MB, tree {(a2 - a1) >> 20} MB, read {(a3 - a2) >> 20} MB, resolve {(a4 - a3) >> 20} MB");
        }

        File.WriteAllLines("/tmp/alloc.txt", log);
        Assert.NotEmpty(log);
    }
}
