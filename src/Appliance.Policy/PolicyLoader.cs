using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Appliance.Core.Policy;
using Appliance.Policy.Yaml;

namespace Appliance.Policy;

/// <summary>One policy source: a file name relative to the policy directory and its text.</summary>
public sealed record PolicySource(string Name, string Text);

/// <summary>How bad a diagnostic is.</summary>
public enum Severity
{
    /// <summary>
    /// Suspicious but compilable (a rule that can never match, a camera identified by IP alone, an empty file):
    /// the policy still loads and can be applied, and the warning is shown to the admin.
    /// </summary>
    Warning,

    /// <summary>The policy cannot be compiled: no spec is produced, and a running appliance keeps its current policy.</summary>
    Error,
}

/// <summary>A compiler-style diagnostic: <c>cameras/north.yaml:14:9: error: unknown network 'nvrs'</c>.</summary>
public sealed record Diagnostic(string File, int Line, int Column, Severity Severity, string Message)
{
    /// <summary>
    /// The one-line form every front end prints (<c>camfw policy check</c>, the API's text, logs), in the
    /// <c>file:line:column: severity: message</c> shape editors and CI log parsers jump to.
    /// </summary>
    public override string ToString()
        => $"{File}:{Line}:{Column}: {(Severity == Severity.Error ? "error" : "warning")}: {Message}";
}

/// <summary>The outcome of loading a policy: every diagnostic, and the resolved spec when there were no errors.</summary>
public sealed record PolicyLoadResult(IReadOnlyList<Diagnostic> Diagnostics, PolicySpec? Spec)
{
    /// <summary>
    /// True when the policy must not be applied: there is no spec, or any diagnostic is an error. Warnings alone
    /// leave it false. Every path that applies a policy (startup, reload, the API, <c>camfw apply</c>) checks this.
    /// </summary>
    public bool HasErrors => Spec is null || Diagnostics.Any(d => d.Severity == Severity.Error);

    /// <summary>The files that were read (relative names, ordinal order), whether or not they had errors.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>How many diagnostics are errors.</summary>
    public int ErrorCount => Diagnostics.Count(d => d.Severity == Severity.Error);

    /// <summary>How many diagnostics are warnings.</summary>
    public int WarningCount => Diagnostics.Count(d => d.Severity == Severity.Warning);
}

/// <summary>
/// Parses, validates and resolves a policy directory (every <c>*.yaml</c> and <c>*.yml</c> below it, merged) into
/// a <see cref="PolicySpec"/>. Never throws on bad input: every problem becomes a <see cref="Diagnostic"/>.
/// </summary>
public static partial class PolicyLoader
{
    /// <summary>
    /// Loads the policy files under <paramref name="directory"/> as <see cref="PolicyDirectoryReader"/> finds them
    /// (which files count: <see cref="PolicyFileNames"/>). A file that cannot be read is an error naming it.
    /// </summary>
    public static PolicyLoadResult LoadDirectory(string directory) => Load(PolicyDirectoryReader.Read(directory));

    /// <summary>
    /// Loads what <see cref="PolicyDirectoryReader.Read"/> found: its diagnostics (files not read) and those of the
    /// files read, together. A policy with a file that could not be read has errors, so it is never applied without it.
    /// </summary>
    public static PolicyLoadResult Load(PolicyDirectoryContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var diagnostics = new DiagnosticBag();
        foreach (var diagnostic in contents.Diagnostics)
        {
            diagnostics.Add(diagnostic);
        }

        if (!contents.IsComplete)
        {
            return new PolicyLoadResult(diagnostics.Items, null);
        }

        if (contents.PolicyFiles.Count == 0)
        {
            diagnostics.Error(contents.Directory, 1, 1, "no policy files (*.yaml) in the policy directory");
            return new PolicyLoadResult(diagnostics.Items, null);
        }

        return LoadCore([.. contents.Sources], diagnostics);
    }

    /// <summary>Loads a policy from sources held in memory (a management API upload, a test).</summary>
    public static PolicyLoadResult Load(IReadOnlyList<PolicySource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var diagnostics = new DiagnosticBag();
        if (sources.Count > PolicyLimits.MaxFiles)
        {
            diagnostics.Error("(policy)", 1, 1, $"{sources.Count} policy files is more than the limit of {PolicyLimits.MaxFiles}");
            return new PolicyLoadResult(diagnostics.Items, null);
        }

        if (sources.Count == 0)
        {
            diagnostics.Error("(policy)", 1, 1, "no policy files");
            return new PolicyLoadResult(diagnostics.Items, null);
        }

        var accepted = new List<PolicySource>(sources.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var source in sources)
        {
            if (source is null)
            {
                // Deserialised uploads can carry a null entry; it is a bad request, not a crash.
                diagnostics.Error("(policy)", 1, 1, "a policy file entry is empty (null)");
                continue;
            }

            var name = source.Name ?? "";
            if (PolicyFileNames.Check(name) is { } problem)
            {
                diagnostics.Error(name.Length == 0 ? "(policy)" : PolicyFileNames.Printable(name), 1, 1, problem);
                continue;
            }

            if (!names.Add(name))
            {
                diagnostics.Error(name, 1, 1, "two policy files have this name");
                continue;
            }

            var text = source.Text ?? "";
            if (!WithinSizeLimits(name, Utf8Length(text), ref total, diagnostics))
            {
                continue;
            }

            // The null-coalesced text: a null Text must not reach the YAML reader or the hash.
            accepted.Add(new PolicySource(name, text));
        }

        return LoadCore(accepted, diagnostics);
    }

    /// <summary>
    /// Adds a file's size to <paramref name="total"/> and checks both caps; false (reported) when the file is not
    /// to be read. A file refused for its own size still counts toward the total, in both entry points alike.
    /// </summary>
    internal static bool WithinSizeLimits(string name, long length, ref long total, DiagnosticBag diagnostics)
    {
        total += length;
        if (length > PolicyLimits.MaxFileBytes)
        {
            diagnostics.Error(name, 1, 1, $"file is {length} bytes, more than the limit of {PolicyLimits.MaxFileBytes}; the file is not read");
            return false;
        }

        if (total > PolicyLimits.MaxTotalBytes)
        {
            diagnostics.Error(name, 1, 1, $"the policy is more than {PolicyLimits.MaxTotalBytes} bytes in total; the file is not read");
            return false;
        }

        return true;
    }

    /// <summary>
    /// The text's UTF-8 length, counted in chunks as a long: <see cref="Encoding.GetByteCount(string)"/> returns an
    /// int and throws past 2 GiB, which a long enough upload of three-byte characters reaches.
    /// </summary>
    private static long Utf8Length(string text)
    {
        const int Chunk = 1 << 20;
        long bytes = 0;
        var rest = text.AsSpan();
        while (rest.Length > 0)
        {
            var n = Math.Min(rest.Length, Chunk);

            // A surrogate pair split across chunks would count as two invalid halves (3 bytes each), not 4.
            if (n < rest.Length && char.IsHighSurrogate(rest[n - 1]))
            {
                n--;
            }

            bytes += Encoding.UTF8.GetByteCount(rest[..n]);
            rest = rest[n..];
        }

        return bytes;
    }

    private static PolicyLoadResult LoadCore(List<PolicySource> sources, DiagnosticBag diagnostics)
    {
        sources.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (var i = 0; i < sources.Count; i++)
        {
            // A byte-order mark is not part of the policy: stripped here, for both entry points, so a file hashes
            // the same read from disk or uploaded, with or without one.
            if (sources[i].Text.StartsWith('\uFEFF'))
            {
                sources[i] = sources[i] with { Text = sources[i].Text[1..] };
            }
        }

        var decls = new PolicyDeclarations();
        foreach (var source in sources)
        {
            if (SafeYamlReader.TryRead(source.Name, source.Text, diagnostics, out var root) || root is not null)
            {
                new PolicyReader(source.Name, diagnostics, decls).ReadFile(root);
            }
        }

        var names = new string[sources.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = sources[i].Name;
        }

        var spec = new PolicyResolver(decls, diagnostics).Resolve(ComputeSha256(sources), names);

        // Reported in reading order (file, line, column), the way an admin fixes them; stable for equal positions.
        var ordered = diagnostics.Items
            .OrderBy(d => d.File, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column)
            .ToArray();
        return new PolicyLoadResult(ordered, diagnostics.ErrorCount == 0 ? spec : null) { Sources = names };
    }

    /// <summary>
    /// sha256 over the sources in ordinal order of name; each contributes its name's length (u32, big-endian), the
    /// name (UTF-8), its text's length (u64, big-endian) and the text (UTF-8, no BOM). The lengths make the framing
    /// unambiguous, so two different policies never hash the same input.
    /// </summary>
    public static string ComputeSha256(IReadOnlyList<PolicySource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var ordered = sources.OrderBy(s => s.Name, StringComparer.Ordinal);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[8];
        foreach (var source in ordered)
        {
            var name = Encoding.UTF8.GetBytes(source.Name);
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)name.Length);
            hash.AppendData(length[..4]);
            hash.AppendData(name);
            var text = Encoding.UTF8.GetBytes(source.Text);
            BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)text.Length);
            hash.AppendData(length);
            hash.AppendData(text);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
