using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Appliance.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
