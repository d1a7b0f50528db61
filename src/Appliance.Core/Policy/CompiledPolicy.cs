namespace Appliance.Core.Policy;

/// <summary>
/// An immutable, compiled policy: the lookup tables the data path consults. Built off the hot path by
/// <c>Compile</c>, published through <see cref="PolicyHolder.Swap"/>, never mutated after.
/// CONTRACT STUB: the core issue (#4) fills in the tables.
/// </summary>
public sealed partial class CompiledPolicy
{
    /// <summary>Monotonic version assigned by <see cref="PolicyHolder.NextVersion"/>.</summary>
    public uint Version { get; private init; }

    /// <summary>sha256 of the sources (from the spec).</summary>
    public string Sha256 { get; private init; } = "";

    public DateTimeOffset CompiledAt { get; private init; }

    /// <summary>The resolved spec this was compiled from (for display, diffing and the API).</summary>
    public PolicySpec Spec { get; private init; } = null!;

    /// <summary>Rule ids by <see cref="Verdict.RuleIndex"/>.</summary>
    public IReadOnlyList<string> RuleIds { get; private init; } = [];
}
