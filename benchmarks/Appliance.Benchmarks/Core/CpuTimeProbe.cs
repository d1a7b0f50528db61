using System.Diagnostics;
using System.Globalization;

namespace Appliance.Benchmarks.Core;

/// <summary>
/// A load-insensitive second opinion for the core benchmarks on a shared, oversubscribed machine: runs each
/// benchmark body in a loop and divides the process CPU time (not wall-clock time) by the frames decided, so time
/// spent waiting for a core does not count. Cache and SMT contention still do. Not a replacement for an idle
/// BenchmarkDotNet run; <c>dotnet run -c Release --project benchmarks/Appliance.Benchmarks -- --cpu-probe</c>.
/// </summary>
internal static class CpuTimeProbe
{
    private const int Batch = 1024;

    /// <summary>
    /// Only the DNS figures (issue 15) and the established-flow path they must not slow down, at 10 and 10,000 cameras:
    /// <c>-- --cpu-probe dns</c>.
    /// </summary>
    public static int RunDns(TextWriter output)
    {
        output.WriteLine("| Scenario | Cameras | CPU ns per frame (query + answer: per pair) | Allocated B per frame |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (var cameras in new[] { 10, 10_000 })
        {
            var b = new EngineBenchmarks { Cameras = cameras };
            b.Setup();
            Report(output, "parse + decide, established flow", cameras, b.EstablishedFlow);
            var d = new DnsBenchmarks { Cameras = cameras };
            d.Setup();
            Report(output, "DNS query", cameras, d.QueryOnly);
            Report(output, "DNS query + answer (learned)", cameras, d.QueryAndAnswer);
            Report(output, "DNS query, guard off", cameras, d.QueryOnlyGuardOff);
            Report(output, "DNS query + answer (learned), guard off", cameras, d.QueryAndAnswerGuardOff);
        }

        return 0;
    }

    public static int Run(TextWriter output)
    {
        output.WriteLine("| Scenario | Cameras / flows | CPU ns per frame | Allocated B per frame |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (var cameras in new[] { 10, 1_000, 10_000, 100_000 })
        {
            var b = new EngineBenchmarks { Cameras = cameras };
            b.Setup();
            Report(output, "parse only", cameras, b.ParseOnly);
            Report(output, "parse + decide, established flow", cameras, b.EstablishedFlow);
            Report(output, "parse + decide, new flow (SYN)", cameras, b.NewFlow);
        }

        foreach (var cameras in new[] { 10, 10_000 })
        {
            var d = new DnsBenchmarks { Cameras = cameras };
            d.Setup();
            Report(output, "DNS query", cameras, d.QueryOnly);
            Report(output, "DNS query + answer (learned)", cameras, d.QueryAndAnswer);
        }

        foreach (var flows in new[] { 10_000, 1_000_000 })
        {
            var t = new FlowTableBenchmarks { Flows = flows };
            t.Setup();
            Report(output, "flow table: established lookup", flows, t.Lookup);
            Report(output, "flow table: churn (create + expire)", flows, t.Churn);
        }

        return 0;
    }

    /// <summary>
    /// The established-flow path as the fastest batches saw it: times each batch of 1,024 frames on its own (about
    /// 0.1-0.3 ms) for a few seconds and reports the minimum and the 10th percentile per frame. On a loaded machine
    /// most batches are interrupted or share a core, but some run alone, so the low end still compares two builds
    /// (interleave them, and repeat); <c>-- --min-probe</c>. A comparison tool, never a substitute for an idle
    /// BenchmarkDotNet run.
    /// </summary>
    public static int RunMin(TextWriter output)
    {
        output.WriteLine("| Scenario | Cameras | min ns per frame | p10 ns per frame | batches |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var cameras in new[] { 10, 1_000, 10_000, 100_000 })
        {
            var b = new EngineBenchmarks { Cameras = cameras };
            b.Setup();
            ReportMin(output, "parse + decide, established flow", cameras, b.EstablishedFlow);
        }

        return 0;
    }

    private static void ReportMin(TextWriter output, string name, int n, Func<int> body)
    {
        for (var i = 0; i < 200; i++)
        {
            body();
        }

        var samples = new List<long>(65_536);
        var wall = Stopwatch.StartNew();
        while (wall.ElapsedMilliseconds < 3_000)
        {
            var t0 = Stopwatch.GetTimestamp();
            body();
            samples.Add(Stopwatch.GetTimestamp() - t0);
        }

        samples.Sort();
        var toNs = 1e9 / Stopwatch.Frequency / Batch;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {n:N0} | {samples[0] * toNs:F1} | {samples[samples.Count / 10] * toNs:F1} | {samples.Count:N0} |"));
    }

    private static void Report(TextWriter output, string name, int n, Func<int> body)
    {
        for (var i = 0; i < 50; i++)
        {
            body();
        }

        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var alloc0 = GC.GetAllocatedBytesForCurrentThread();
        var wall = Stopwatch.StartNew();
        long calls = 0;
        while (wall.ElapsedMilliseconds < 3_000)
        {
            body();
            calls++;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpu0;
        var frames = calls * Batch;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {n:N0} | {cpu.TotalNanoseconds / frames:F1} | {(double)allocated / frames:F2} |"));
    }
}
