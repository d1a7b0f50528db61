using System.Text;

namespace Appliance.Core.Policy;

/// <summary>
/// A DNS name in a rule: an exact name (<c>time.vendor.example</c>) or a wildcard (<c>*.fw.vendor.example</c>, any
/// name with at least one more label in front, not <c>fw.vendor.example</c> itself). Stored lower case; matched
/// against the lower-case dotted form of a name from the wire (<see cref="Wire.DnsName.TryCopyLowercase"/>), with no
/// allocation.
/// </summary>
public sealed class DnsNamePattern
{
    /// <summary>Longest name in text form (RFC 1035: 255 bytes on the wire).</summary>
    public const int MaxLength = 253;

    private readonly byte[] _bytes;

    private DnsNamePattern(string text, byte[] bytes, bool wildcard)
    {
        Text = text;
        _bytes = bytes;
        IsWildcard = wildcard;
    }

    /// <summary>The pattern as written, lower case (<c>*.fw.vendor.example</c>).</summary>
    public string Text { get; }

    /// <summary>True for <c>*.suffix</c>.</summary>
    public bool IsWildcard { get; }

    /// <summary>
    /// Parses a pattern: labels of letters, digits, '-' and '_' (1-63 characters, not starting or ending with '-'),
    /// at least two of them, the last starting with a letter (so a mistyped address is never read as a name), at most
    /// 253 characters; a leading <c>*.</c> makes it a wildcard. A trailing dot is accepted and dropped.
    /// </summary>
    public static bool TryParse(string text, out DnsNamePattern? pattern, out string error)
    {
        pattern = null;
        error = "";
        var t = text.EndsWith('.') ? text[..^1] : text;
        var wildcard = t.StartsWith("*.", StringComparison.Ordinal);
        var body = wildcard ? t[2..] : t;
        if (body.Length is 0 or > MaxLength || t.Length > MaxLength)
        {
            error = $"'{text}' is not a DNS name (1 to {MaxLength} characters)";
            return false;
        }

        var labels = body.Split('.');
        if (labels.Length < 2)
        {
            error = $"'{text}' is a single label; write the full name (like time.vendor.example)";
            return false;
        }

        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63)
            {
                error = $"'{text}' has an empty label or one longer than 63 characters";
                return false;
            }

            foreach (var c in label)
            {
                if (c == '*')
                {
                    error = $"'{text}': '*' may only be the whole first label (like *.fw.vendor.example)";
                    return false;
                }

                if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_')
                {
                    error = $"'{text}' has '{c}', which DNS names do not (letters, digits, '-', '_')";
                    return false;
                }
            }

            if (label[0] == '-' || label[^1] == '-')
            {
                error = $"'{text}' has a label that starts or ends with '-'";
                return false;
            }
        }

        if (!char.IsAsciiLetter(labels[^1][0]))
        {
            error = $"'{text}' ends in a label that does not start with a letter: neither a name nor an address";
            return false;
        }

        var lower = t.ToLowerInvariant();
        pattern = new DnsNamePattern(lower, Encoding.ASCII.GetBytes(wildcard ? lower[1..] : lower), wildcard);
        return true;
    }

    /// <summary>Parses a pattern that is known to be valid (tests, compiled specs); throws otherwise.</summary>
    public static DnsNamePattern Parse(string text)
        => TryParse(text, out var p, out var error) ? p! : throw new FormatException(error);

    /// <summary>
    /// Whether the lower-case dotted <paramref name="name"/> matches: equal, or for a wildcard, ending in
    /// <c>.suffix</c> with at least one character before it.
    /// </summary>
    public bool Matches(ReadOnlySpan<byte> name)
        => IsWildcard
            ? name.Length > _bytes.Length && name.EndsWith(_bytes) // _bytes holds ".suffix"
            : name.SequenceEqual(_bytes);

    /// <inheritdoc />
    public override string ToString() => Text;
}
