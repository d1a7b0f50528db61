namespace Appliance.Policy.Yaml;

/// <summary>
/// A minimal, inert YAML tree: scalars stay text, nothing is typed or activated by tags. The policy schema gives
/// scalars their meaning later, so a tag or an implicit YAML 1.1 conversion (<c>no</c>, <c>0x10</c>,
/// <c>01:02</c>) can never change what a policy says.
/// </summary>
internal abstract class YNode(int line, int column)
{
    public int Line { get; } = line;

    public int Column { get; } = column;

    /// <summary>What the node is, for "must be ..." messages.</summary>
    public abstract string Kind { get; }
}

internal sealed class YScalar(int line, int column, string value, bool plain) : YNode(line, column)
{
    public string Value { get; } = value;

    /// <summary>Unquoted: only a plain scalar can mean null.</summary>
    public bool Plain { get; } = plain;

    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Kind => IsNull ? "empty" : "a single value";
}

internal sealed class YSequence(int line, int column) : YNode(line, column)
{
    public List<YNode> Items { get; } = [];

    public override string Kind => "a list";
}

internal sealed class YMapping(int line, int column) : YNode(line, column)
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>Entries in file order, keys unique.</summary>
    public List<KeyValuePair<YScalar, YNode>> Entries { get; } = [];

    public override string Kind => "a mapping";

    public bool TryGet(string key, out YNode value)
    {
        if (_index.TryGetValue(key, out var at))
        {
            value = Entries[at].Value;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>Adds an entry; false (and the first key) when the key is already there.</summary>
    public bool TryAdd(YScalar key, YNode value, out YScalar prior)
    {
        if (_index.TryGetValue(key.Value, out var at))
        {
            prior = Entries[at].Key;
            return false;
        }

        _index.Add(key.Value, Entries.Count);
        Entries.Add(new(key, value));
        prior = key;
        return true;
    }
}
