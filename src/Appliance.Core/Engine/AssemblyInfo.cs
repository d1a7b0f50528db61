using System.Runtime.CompilerServices;

// The engine's decision entry over a hand-filled PacketInfo and the flow table internals are tested and benchmarked
// directly.
[assembly: InternalsVisibleTo("Appliance.Core.Tests")]
[assembly: InternalsVisibleTo("Appliance.Benchmarks")]
