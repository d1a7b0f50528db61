using System.Text;

namespace Appliance.Policy;

/// <summary>
/// Which files are policy files, and which relative names a policy file may have. One rule for every path that
/// reads or writes a policy directory (check, show, replay, startup, the watcher, reload, apply, history), so a
/// file cannot be accepted by one and skipped by another.
/// </summary>
/// <remarks>
/// <para>A <b>policy file</b> is a file whose name ends in lowercase <c>.yaml</c> or <c>.yml</c>, anywhere below the
/// policy directory down to <see cref="PolicyLimits.MaxDirectoryDepth"/> directories. Every policy file is read or
/// reported; none is skipped in silence.</para>
/// <para><b>Ignored</b> without a word: names starting with <c>.</c> (hidden files and folders such as <c>.git</c>,
/// editors' swap and lock files such as <c>.x.yaml.swp</c> and <c>.#x.yaml</c>, the appliance's own temporary
/// files), backups ending in <c>~</c>, emacs autosaves <c>#x#</c>, vim's write probe <c>4913</c>, and files with
/// any other extension (<c>README.md</c>, <c>notes.txt</c>).</para>
/// <para>A policy file name may hold spaces and any Unicode letter; it may not hold control characters or
/// <c>\</c>, must be valid UTF-8, and is at most <see cref="PolicyLimits.MaxNameLength"/> characters relative to the
/// policy directory. <c>x.YAML</c> is reported (it looks like a policy file but would not be one elsewhere).</para>
/// </remarks>
public static class PolicyFileNames
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>True when <paramref name="fileName"/> (one name, no directory) ends in <c>.yaml</c> or <c>.yml</c>.</summary>
    public static bool HasPolicyExtension(string fileName)
        => fileName.EndsWith(".yaml", StringComparison.Ordinal) || fileName.EndsWith(".yml", StringComparison.Ordinal);

    /// <summary>True for <c>x.YAML</c>, <c>x.Yml</c>: a policy extension in the wrong case, reported rather than skipped.</summary>
    public static bool HasMiscasedPolicyExtension(string fileName)
        => !HasPolicyExtension(fileName)
            && (fileName.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".yml", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// True when a file or folder named <paramref name="fileName"/> (one name, no directory) is not part of the
    /// policy: hidden names, editors' backup, autosave and probe files.
    /// </summary>
    public static bool IsIgnored(string fileName)
        => fileName.Length == 0
            || fileName[0] == '.'
            || fileName[^1] == '~'
            || (fileName.Length > 1 && fileName[0] == '#' && fileName[^1] == '#')
            || fileName == "4913";

    /// <summary>
    /// Null when <paramref name="name"/> is a valid policy file name relative to the policy directory
    /// (<c>/</c> between directories); otherwise why not, as a diagnostic message.
    /// </summary>
    public static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "a policy file name must not be empty";
        }

        if (name.Length > PolicyLimits.MaxNameLength)
        {
            return $"a policy file name is at most {PolicyLimits.MaxNameLength} characters";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return "a policy file name must not contain control characters";
            }

            if (c == '\\')
            {
                return "a policy file name uses '/' between directories, never '\\'";
            }

            if (c == '\uFFFD')
            {
                // What .NET makes of a name whose bytes are not UTF-8; the name could not be written back.
                return "the file name is not valid UTF-8";
            }
        }

        try
        {
            _ = StrictUtf8.GetByteCount(name);
        }
        catch (EncoderFallbackException)
        {
            return "the file name is not valid Unicode";
        }

        var segments = name.Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                return "a policy file name must be a relative path ending in .yaml or .yml, without '..'";
            }

            if (IsIgnored(segment))
            {
                return $"'{segment}' is a hidden or editor's temporary name, which policy directories ignore";
            }
        }

        if (segments.Length > PolicyLimits.MaxDirectoryDepth + 1)
        {
            return $"a policy file is at most {PolicyLimits.MaxDirectoryDepth} directories below the policy directory";
        }

        return HasPolicyExtension(segments[^1]) ? null : "a policy file name must be a relative path ending in .yaml or .yml, without '..'";
    }

    /// <summary>
    /// The name as a diagnostic shows it: control characters escaped (<c>\u000a</c>), so a crafted name cannot
    /// forge a second line in a log, syslog message or terminal.
    /// </summary>
    public static string Printable(string name)
    {
        if (!name.AsSpan().ContainsAnyInRange('\0', '\u001f') && !name.AsSpan().ContainsAnyInRange('\u007f', '\u009f'))
        {
            return name;
        }

        var sb = new StringBuilder(name.Length + 16);
        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
