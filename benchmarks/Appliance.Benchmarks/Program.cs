using System.Text.Json;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Appliance.Benchmarks -- --filter '*'
// The run fails (exit code 1) when a benchmark listed in expectations.json allocates: 0 bytes per frame is a gate.
if (args is ["--cpu-probe"])
{
    return Appliance.Benchmarks.Core.CpuTimeProbe.Run(Console.Out);
}

if (args is ["--cpu-probe", "dns"])
{
    return Appliance.Benchmarks.Core.CpuTimeProbe.RunDns(Console.Out);
}

if (args is ["--min-probe"])
{
    return Appliance.Benchmarks.Core.CpuTimeProbe.RunMin(Console.Out);
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return AllocationGate.Check(summaries, Console.Out) ? 0 : 1;

/// <summary>Checks the run's results against <c>expectations.json</c> (next to the project file).</summary>
internal static class AllocationGate
{
    public static bool Check(IEnumerable<Summary> summaries, TextWriter output)
    {
        var patterns = LoadPatterns();
        var ok = true;
        var checkedCount = 0;
        foreach (var summary in summaries)
        {
            foreach (var report in summary.Reports)
            {
                var benchmark = report.BenchmarkCase.Descriptor;
                var name = $"{benchmark.Type.FullName}.{benchmark.WorkloadMethod.Name}";
                if (!patterns.Any(p => Matches(p, name)))
                {
                    continue;
                }

                checkedCount++;
                var bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                if (bytes is null)
                {
                    output.WriteLine($"allocation gate: {report.BenchmarkCase.DisplayInfo}: no memory figures (run with [MemoryDiagnoser])");
                    ok = false;
                }
                else if (bytes > 0)
                {
                    output.WriteLine($"allocation gate: FAIL {report.BenchmarkCase.DisplayInfo} allocates {bytes} B/op; expectations.json requires 0");
                    ok = false;
                }
            }
        }

        output.WriteLine(ok
            ? $"allocation gate: ok ({checkedCount} zero-allocation benchmarks checked)"
            : "allocation gate: FAILED");
        return ok;
    }

    private static bool Matches(string pattern, string name)
        => pattern.EndsWith(".*", StringComparison.Ordinal)
            ? name.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : string.Equals(pattern, name, StringComparison.Ordinal);

    private static List<string> LoadPatterns()
    {
        // BenchmarkDotNet may run from a generated project's bin folder: look upwards for the project directory.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "expectations.json");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Appliance.Benchmarks.csproj")))
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(candidate));
                return [.. doc.RootElement.GetProperty("zeroAllocation").EnumerateArray().Select(e => e.GetString() ?? "")];
            }
        }

        throw new FileNotFoundException("benchmarks/Appliance.Benchmarks/expectations.json not found above " + AppContext.BaseDirectory);
    }
}
