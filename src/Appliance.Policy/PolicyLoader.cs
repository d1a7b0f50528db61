using Appliance.Core.Policy;

namespace Appliance.Policy;

/// <summary>One policy source: a file name relative to the policy directory and its text.</summary>
public sealed record PolicySource(string Name, string Text);

/// <summary>How bad a diagnostic is.</summary>
public enum Severity
{
    Warning,
    Error,
}

/// <summary>A compiler-style diagnostic: <c>cameras/north.yaml:14:9: error: unknown network 'nvrs'</c>.</summary>
public sealed record Diagnostic(string File, int Line, int Column, Severity Severity, string Message)
{
    public override string ToString()
        => $"{File}:{Line}:{Column}: {(Severity == Severity.Error ? "error" : "warning")}: {Message}";
}

/// <summary>The outcome of loading a policy: every diagnostic, and the resolved spec when there were no errors.</summary>
public sealed record PolicyLoadResult(IReadOnlyList<Diagnostic> Diagnostics, PolicySpec? Spec)
{
    public bool HasErrors => Spec is null || Diagnostics.Any(d => d.Severity == Severity.Error);
}

/// <summary>
/// Parses, validates and resolves a policy directory (every <c>*.yaml</c>, merged) into a <see cref="PolicySpec"/>.
/// CONTRACT STUB: the policy issue (#3) implements it.
/// </summary>
public static partial class PolicyLoader
{
}
