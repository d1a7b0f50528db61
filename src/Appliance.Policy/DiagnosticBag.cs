namespace Appliance.Policy;

/// <summary>Where something was written: <c>file:line:column</c>.</summary>
internal readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>Collects every diagnostic of one load; validation never stops at the first.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public int ErrorCount { get; private set; }

    public IReadOnlyList<Diagnostic> Items => _items;

    public void Error(string file, int line, int column, string message)
    {
        ErrorCount++;
        _items.Add(new Diagnostic(file, line, column, Severity.Error, message));
    }

    public void Add(Diagnostic diagnostic)
    {
        if (diagnostic.Severity == Severity.Error)
        {
            ErrorCount++;
        }

        _items.Add(diagnostic);
    }

    public void Error(SourceLocation at, string message) => Error(at.File, at.Line, at.Column, message);

    public void Warning(SourceLocation at, string message)
        => _items.Add(new Diagnostic(at.File, at.Line, at.Column, Severity.Warning, message));
}
