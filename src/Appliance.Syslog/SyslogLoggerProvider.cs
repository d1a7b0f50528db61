using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog;

/// <summary>
/// An <see cref="ILoggerProvider"/> that formats every enabled log event as RFC 5424 and queues it for the
/// collector. The MSGID is the event's name (the <c>[LoggerMessage]</c> <c>EventName</c>, which this codebase
/// keeps stable), else its numeric id, else <c>-</c>. The structured-logging values become SD-PARAMs under the
/// configured SD-ID (the message template itself is left out), followed by <c>event-id</c> and
/// <c>category</c>. Logging never blocks: a full queue drops and counts (see <see cref="SyslogStats"/>).
/// </summary>
[ProviderAlias("Syslog")]
public sealed class SyslogLoggerProvider : ILoggerProvider
{
    private static readonly string OwnCategory = typeof(SyslogSender).FullName!;

    private readonly ConcurrentDictionary<string, SyslogLogger> _loggers = new(StringComparer.Ordinal);
    private readonly SyslogQueue _queue;
    private readonly Rfc5424Formatter _formatter;
    private readonly LogLevel _minimum;
    private readonly TimeProvider _time;

    /// <summary>Creates the provider over the shared queue.</summary>
    public SyslogLoggerProvider(SyslogQueue queue, IOptions<SyslogOptions> options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(options);
        _queue = queue;
        _formatter = new Rfc5424Formatter(options.Value, System.Net.Dns.GetHostName());
        _minimum = options.Value.MinimumLevel;
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, static (name, p) => new SyslogLogger(name, p), this);

    /// <inheritdoc />
    public void Dispose() => _loggers.Clear();

    private bool IsEnabled(LogLevel level)
        => _queue.Enabled
        && level != LogLevel.None
        && level >= _minimum;

    private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var parameters = new List<KeyValuePair<string, string?>>();
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            for (var i = 0; i < values.Count; i++)
            {
                var (key, value) = values[i];
                if (key == "{OriginalFormat}")
                {
                    continue;
                }

                parameters.Add(new(key, FormatValue(value)));
            }
        }

        if (eventId.Id != 0)
        {
            parameters.Add(new("event-id", eventId.Id.ToString(CultureInfo.InvariantCulture)));
        }

        parameters.Add(new("category", category));
        if (exception is not null)
        {
            parameters.Add(new("exception", exception.GetType().FullName));
        }

        var text = formatter(state, exception);
        if (exception is not null)
        {
            text = string.IsNullOrEmpty(text) ? exception.ToString() : text + " | " + exception;
        }

        var msgId = !string.IsNullOrEmpty(eventId.Name) ? eventId.Name : eventId.Id != 0 ? eventId.Id.ToString(CultureInfo.InvariantCulture) : null;
        var bytes = _formatter.Format(_time.GetLocalNow(), SyslogSeverities.FromLogLevel(level), msgId, parameters, text, out var truncated);
        if (_queue.TryEnqueue(bytes) && truncated)
        {
            _queue.Stats.OnTruncated();
        }
    }

    private static string? FormatValue(object? value) => value switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e => string.Join(",", e.Cast<object?>().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))),
        _ => value.ToString(),
    };

    private sealed class SyslogLogger(string category, SyslogLoggerProvider provider) : ILogger
    {
        /// <summary>The sender's own categories never reach syslog; decided once per logger, not per event.</summary>
        private readonly bool _ownCategory = category.StartsWith(OwnCategory, StringComparison.Ordinal);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => !_ownCategory && provider.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
