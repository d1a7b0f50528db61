using Microsoft.Extensions.Logging;

namespace Appliance.Syslog.Tests.Support;

/// <summary>One captured log call.</summary>
internal sealed record CapturedLog(LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, string?> Values);

/// <summary>An <see cref="ILogger{T}"/> that records what it is given.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly Lock _gate = new();
    private readonly List<CapturedLog> _entries = [];

    public IReadOnlyList<CapturedLog> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (state is IReadOnlyList<KeyValuePair<string, object?>> kvs)
        {
            foreach (var (k, v) in kvs)
            {
                values[k] = v?.ToString();
            }
        }

        lock (_gate)
        {
            _entries.Add(new CapturedLog(logLevel, eventId, formatter(state, exception), values));
        }
    }
}
