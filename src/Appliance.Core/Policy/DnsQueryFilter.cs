namespace Appliance.Core.Policy;

/// <summary>
/// The names a camera restricted by <c>dns: { queries: rules }</c> may ask about: the names and wildcards its rules use
/// plus its <c>also</c> list. Immutable, shared by every camera with the same set; matched on the query path against the
/// lower-case dotted form of the question's name (<see cref="Wire.DnsName.TryCopyLowercase"/>), without allocation.
/// </summary>
public sealed class DnsQueryFilter
{
    private readonly DnsNamePattern[] _patterns;

    internal DnsQueryFilter(DnsNamePattern[] patterns) => _patterns = patterns;

    /// <summary>The patterns, rules' names first, in the order written.</summary>
    public IReadOnlyList<DnsNamePattern> Patterns => _patterns;

    /// <summary>
    /// Whether the lower-case dotted <paramref name="name"/> is one the camera may ask about. A scan of at most a
    /// hundred or so short patterns, on DNS queries only (never on the established-flow path).
    /// </summary>
    public bool Allows(ReadOnlySpan<byte> name)
    {
        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(name))
            {
                return true;
            }
        }

        return false;
    }
}
