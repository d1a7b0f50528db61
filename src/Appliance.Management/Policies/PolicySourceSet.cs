using System.Text;
using Appliance.Policy;

namespace Appliance.Management.Policies;

/// <summary>
/// Helpers for a set of policy files: reading a policy directory the way every source sees it, the names an API
/// client may use, and a content hash that tells "nothing changed" apart from a real edit.
/// </summary>
public static class PolicySourceSet
{
    /// <summary>Largest single policy file read from disk; the loader has its own, tighter limits.</summary>
    public const long MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Every <c>*.yaml</c> and <c>*.yml</c> under <paramref name="directory"/> (recursively), with names relative to
    /// it using <c>/</c>, in ordinal order: the same files <see cref="PolicyLoader.LoadDirectory"/> reads. Names
    /// starting with a dot (editors' swap and lock files, the service's own temporary files, hidden folders) and
    /// symbolic links to directories are skipped.
    /// </summary>
    public static bool TryRead(string directory, out IReadOnlyList<PolicySource> sources, out string? error)
    {
        var list = new List<PolicySource>();
        sources = list;
        if (!Directory.Exists(directory))
        {
            error = $"policy directory '{directory}' does not exist";
            return false;
        }

        var root = Path.GetFullPath(directory);
        var pending = new Stack<string>();
        pending.Push(root);
        try
        {
            while (pending.Count > 0)
            {
                var dir = pending.Pop();
                foreach (var path in Directory.EnumerateFiles(dir))
                {
                    var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
                    if (!IsPolicyFileName(relative))
                    {
                        continue;
                    }

                    if (new FileInfo(path).Length > MaxFileBytes)
                    {
                        error = $"{relative}: file is larger than the {MaxFileBytes} bytes a policy file may have";
                        return false;
                    }

                    var bytes = File.ReadAllBytes(path);
                    list.Add(new PolicySource(relative, StrictUtf8.GetString(bytes.AsSpan(bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0))));
                }

                foreach (var sub in Directory.EnumerateDirectories(dir))
                {
                    if (!Path.GetFileName(sub).StartsWith('.') && new DirectoryInfo(sub).LinkTarget is null)
                    {
                        pending.Push(sub);
                    }
                }
            }
        }
        catch (DecoderFallbackException)
        {
            error = "a policy file is not valid UTF-8";
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"reading policy directory '{directory}': {e.Message}";
            return false;
        }

        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        error = null;
        return true;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// True for a relative name a policy file may have: <c>/</c>-separated segments of letters, digits,
    /// <c>._-</c>, none empty, none starting with a dot (no <c>..</c>, no hidden files), ending in <c>.yaml</c> or
    /// <c>.yml</c>.
    /// </summary>
    public static bool IsPolicyFileName(string name)
    {
        if (name.Length is 0 or > 200 || !(name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal)))
        {
            return false;
        }

        var depth = 0;
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment[0] == '.' || ++depth > 8)
            {
                return false;
            }

            foreach (var c in segment)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// True when a file-system event for <paramref name="name"/> may change the policy. Editors write swap and
    /// backup files next to the one being edited (vim: <c>.x.swp</c>, <c>x~</c> and a probe file named
    /// <c>4913</c>; emacs: <c>.#x</c> and <c>#x#</c>); none of them is a policy file.
    /// </summary>
    public static bool IsRelevantChange(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        var file = Path.GetFileName(name);
        if (file.Length == 0 || file[0] is '.' or '#' || file.EndsWith('~') || file == "4913")
        {
            return false;
        }

        // A directory (no extension) may have been renamed or removed with policy files inside.
        return file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal) || !Path.HasExtension(file);
    }

    /// <summary>The loader's sha256 over the sources, so "unchanged" means exactly what the displayed hash says.</summary>
    public static string ContentHash(IReadOnlyList<PolicySource> sources) => PolicyLoader.ComputeSha256(sources);
}
