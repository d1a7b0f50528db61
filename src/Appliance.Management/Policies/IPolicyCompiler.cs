using Appliance.Core.Policy;
using Appliance.Policy;

namespace Appliance.Management.Policies;

/// <summary>
/// The two pure steps of applying a policy: parse and validate the sources, then compile the spec into the core's
/// tables. A seam so the policy service (persistence, history, audit, confirmation) is testable on its own.
/// </summary>
public interface IPolicyCompiler
{
    /// <summary>Parses and validates <paramref name="sources"/>, collecting every diagnostic.</summary>
    PolicyLoadResult Load(IReadOnlyList<PolicySource> sources);

    /// <summary>Loads what the policy directory reader found, its diagnostics (files it could not read) included.</summary>
    PolicyLoadResult Load(PolicyDirectoryContents contents);

    /// <summary>Builds the immutable tables for <paramref name="spec"/>, carrying <paramref name="version"/>.</summary>
    CompiledPolicy Compile(PolicySpec spec, uint version, CameraSlotRegistry slots);
}

/// <summary>The real pipeline: <see cref="PolicyLoader.Load(IReadOnlyList{PolicySource})"/> then <see cref="CompiledPolicy.Compile"/>.</summary>
public sealed class PolicyCompiler : IPolicyCompiler
{
    /// <summary>The one instance: the pipeline has no state.</summary>
    public static PolicyCompiler Instance { get; } = new();

    /// <inheritdoc/>
    public PolicyLoadResult Load(IReadOnlyList<PolicySource> sources) => PolicyLoader.Load(sources);

    /// <inheritdoc/>
    public PolicyLoadResult Load(PolicyDirectoryContents contents) => PolicyLoader.Load(contents);

    /// <inheritdoc/>
    public CompiledPolicy Compile(PolicySpec spec, uint version, CameraSlotRegistry slots) => CompiledPolicy.Compile(spec, version, slots);
}
