using System.Collections.Concurrent;
using Appliance.Core.Policy;
using Appliance.Management.Policies;
using Appliance.Policy;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Management.Tests.Policies;

/// <summary>
/// The starting point of the policy tests: the test policies written to <c>ROOT/policies</c> and the real
/// <see cref="PolicyService"/> over that directory, its state in <c>ROOT/state</c>. Nothing is loaded yet.
/// </summary>
internal static class TestPolicyServices
{
    public static PolicyService Create(
        TempDirectory root,
        int cameras = 1,
        IPolicyEventSink? events = null,
        TimeProvider? time = null,
        Action<PolicyServiceOptions>? configure = null)
    {
        foreach (var (name, text) in TestPolicies.Files(count: cameras))
        {
            root.Write(Path.Combine("policies", name), text);
        }

        var options = new PolicyServiceOptions { Directory = root.Combine("policies"), StateDirectory = root.Combine("state"), WatchDebounce = TimeSpan.FromMilliseconds(100) };
        configure?.Invoke(options);
        return new PolicyService(new PolicyHolder(), PolicyCompiler.Instance, options, NullLogger<PolicyService>.Instance, time, events);
    }
}

/// <summary>
/// Records what a <see cref="PolicyService"/> reports to its security-event sink, in order. Thread-safe: the
/// watcher reports from its own thread.
/// </summary>
internal sealed class RecordingSink : IPolicyEventSink
{
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly ConcurrentQueue<Diagnostic> _errors = new();

    /// <summary>Makes every call throw after recording it, as a broken sink would.</summary>
    public bool Throw { get; set; }

    public List<string> Calls => [.. _calls];

    public List<Diagnostic> Errors => [.. _errors];

    public void Applied(PolicyState state) => Record($"applied v{state.Version} {state.Origin}");

    public void Rejected(IReadOnlyList<Diagnostic> errors, ChangeOrigin origin)
    {
        foreach (var error in errors)
        {
            _errors.Enqueue(error);
        }

        Record($"rejected {errors.Count} {origin}");
    }

    public void RolledBack(uint fromVersion, PolicyState state) => Record($"rolled-back v{fromVersion}->v{state.Version} {state.Origin}");

    private void Record(string call)
    {
        _calls.Enqueue(call);
        if (Throw)
        {
            throw new InvalidOperationException("sink failed");
        }
    }
}
