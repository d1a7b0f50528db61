using System.Buffers;
using System.Globalization;
using System.Text;

namespace Appliance.Syslog;

/// <summary>
/// Builds RFC 5424 messages:
/// <c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="VALUE" ...] [BOM]MSG</c>.
/// Header fields are reduced to printable US-ASCII and cut to their RFC lengths; PARAM-NAMEs lose the four
/// characters the grammar forbids; PARAM-VALUEs escape <c>"</c>, <c>\</c> and <c>]</c>. A message longer than
/// <see cref="SyslogOptions.MaxMessageBytes"/> loses message text first (cut at a UTF-8 character boundary),
/// then whole SD-PARAMs from the end, so what remains always parses. Thread-safe.
/// </summary>
public sealed class Rfc5424Formatter
{
    private const int MaxHostname = 255;
    private const int MaxAppName = 48;
    private const int MaxProcId = 128;
    private const int MaxMsgId = 32;
    private const int MaxSdName = 32;

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    [ThreadStatic]
    private static List<int>? t_paramEnds;

    private readonly byte[] _hostAppProc; // " HOSTNAME APP-NAME PROCID " after the timestamp
    private readonly byte[] _sdOpen;      // "[name@pen"
    private readonly int _facility;
    private readonly int _maxBytes;
    private readonly Utf8BomMode _bom;
    private readonly bool _utc;

    /// <summary>Creates a formatter for <paramref name="options"/>.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="hostname">HOSTNAME when the options give none; by default the machine name.</param>
    /// <param name="procId">PROCID; by default this process id.</param>
    public Rfc5424Formatter(SyslogOptions options, string? hostname = null, string? procId = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _facility = (int)options.Facility;
        _maxBytes = options.MaxMessageBytes;
        _bom = options.Utf8Bom;
        _utc = options.UseUtc;
        var host = HeaderField(options.Hostname ?? hostname ?? Environment.MachineName, MaxHostname);
        var app = HeaderField(options.AppName, MaxAppName);
        var proc = HeaderField(procId ?? Environment.ProcessId.ToString(CultureInfo.InvariantCulture), MaxProcId);
        _hostAppProc = Encoding.ASCII.GetBytes($" {host} {app} {proc} ");
        SdId = SanitizeName(options.StructuredDataName).Replace('@', '_') + "@" + options.EnterpriseNumber.ToString(CultureInfo.InvariantCulture);
        _sdOpen = Encoding.ASCII.GetBytes("[" + SdId);
    }

    /// <summary>The SD-ID the structured values go under, e.g. <c>camfw@32473</c>.</summary>
    public string SdId { get; }

    /// <summary>PRI = facility × 8 + severity.</summary>
    public static int Priority(SyslogFacility facility, SyslogSeverity severity) => ((int)facility * 8) + (int)severity;

    /// <summary>
    /// Formats one message. <paramref name="truncated"/> says whether anything was cut to fit
    /// <see cref="SyslogOptions.MaxMessageBytes"/>.
    /// </summary>
    /// <param name="timestamp">Event time; printed with microseconds and its offset (or <c>Z</c>).</param>
    /// <param name="severity">Severity part of PRI.</param>
    /// <param name="msgId">MSGID (sanitised, at most 32 characters), or null for <c>-</c>.</param>
    /// <param name="parameters">SD-PARAMs under <see cref="SdId"/>; none gives NILVALUE structured data.</param>
    /// <param name="message">MSG text, or null for none.</param>
    /// <param name="truncated">True when text or parameters were cut.</param>
    public byte[] Format(
        DateTimeOffset timestamp,
        SyslogSeverity severity,
        string? msgId,
        IReadOnlyList<KeyValuePair<string, string?>>? parameters,
        string? message,
        out bool truncated)
    {
        var buf = t_scratch ??= new ArrayBufferWriter<byte>(1024);
        var paramEnds = t_paramEnds ??= [];
        buf.ResetWrittenCount();
        paramEnds.Clear();

        // 1. Header up to and including the SP before STRUCTURED-DATA.
        WriteAscii(buf, "<");
        WriteAscii(buf, Priority((SyslogFacility)_facility, severity).ToString(CultureInfo.InvariantCulture));
        WriteAscii(buf, ">1 ");
        WriteTimestamp(buf, _utc ? timestamp.ToUniversalTime() : timestamp);
        buf.Write(_hostAppProc);
        WriteAscii(buf, HeaderField(msgId, MaxMsgId));
        WriteAscii(buf, " ");
        var headerEnd = buf.WrittenCount;

        // 2. Each SD-PARAM as " name=\"value\"", remembering where each ends so whole params can be dropped.
        if (parameters is not null)
        {
            for (var i = 0; i < parameters.Count; i++)
            {
                var (name, value) = parameters[i];
                WriteAscii(buf, " ");
                WriteAscii(buf, SanitizeName(name));
                WriteAscii(buf, "=\"");
                WriteEscapedValue(buf, value);
                WriteAscii(buf, "\"");
                paramEnds.Add(buf.WrittenCount);
            }
        }

        var paramsEnd = buf.WrittenCount;

        // 3. MSG, with the BOM when the policy asks for it.
        var useBom = false;
        if (!string.IsNullOrEmpty(message))
        {
            useBom = _bom == Utf8BomMode.Always || (_bom == Utf8BomMode.Auto && !Ascii.IsValid(message));
            var span = buf.GetSpan(Encoding.UTF8.GetMaxByteCount(message.Length));
            var n = Encoding.UTF8.GetBytes(message, span);
            buf.Advance(n);
        }

        var written = buf.WrittenSpan;
        var header = written[..headerEnd];
        var text = written[paramsEnd..];
        var keptParams = paramEnds.Count;

        // "-" without params, else "[" SD-ID, the kept params, "]".
        int SdLength(int kept) => kept == 0 ? 1 : _sdOpen.Length + (paramEnds[kept - 1] - headerEnd) + 1;

        // 4. Fit the cap: text first (at a character boundary), then whole params; the header always stays.
        truncated = false;
        var textRoom = text.Length == 0 ? 0 : text.Length + 1 + (useBom ? Bom.Length : 0);
        if (header.Length + SdLength(keptParams) + textRoom > _maxBytes)
        {
            truncated = true;
            while (keptParams > 0 && header.Length + SdLength(keptParams) > _maxBytes)
            {
                keptParams--;
            }

            var room = _maxBytes - header.Length - SdLength(keptParams) - 1 - (useBom ? Bom.Length : 0);
            text = room > 0 ? text[..Utf8Prefix(text, room)] : [];
        }

        var sdLength = SdLength(keptParams);
        var total = header.Length + sdLength + (text.Length == 0 ? 0 : 1 + (useBom ? Bom.Length : 0) + text.Length);
        var result = new byte[total];
        var o = 0;
        header.CopyTo(result);
        o += header.Length;
        if (keptParams == 0)
        {
            result[o++] = (byte)'-';
        }
        else
        {
            _sdOpen.CopyTo(result.AsSpan(o));
            o += _sdOpen.Length;
            var paramBytes = written[headerEnd..paramEnds[keptParams - 1]];
            paramBytes.CopyTo(result.AsSpan(o));
            o += paramBytes.Length;
            result[o++] = (byte)']';
        }

        if (text.Length != 0)
        {
            result[o++] = (byte)' ';
            if (useBom)
            {
                Bom.CopyTo(result.AsSpan(o));
                o += Bom.Length;
            }

            text.CopyTo(result.AsSpan(o));
        }

        return result;
    }

    /// <summary>
    /// The longest prefix of <paramref name="utf8"/> no longer than <paramref name="max"/> bytes that does not
    /// split a character: backs up over continuation bytes (10xxxxxx) to the start of the cut character.
    /// </summary>
    public static int Utf8Prefix(ReadOnlySpan<byte> utf8, int max)
    {
        if (max >= utf8.Length)
        {
            return utf8.Length;
        }

        if (max <= 0)
        {
            return 0;
        }

        var cut = max;
        while (cut > 0 && (utf8[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return cut;
    }

    /// <summary>
    /// A PARAM-NAME/SD-NAME the grammar accepts: printable US-ASCII (33-126) except <c>=</c>, <c>]</c> and
    /// <c>"</c>, each offender replaced by <c>_</c>, at most 32 characters, never empty.
    /// </summary>
    public static string SanitizeName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "_";
        }

        var length = Math.Min(name.Length, MaxSdName);
        if (IsValidSdName(name))
        {
            return name;
        }

        return string.Create(length, name, static (span, src) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = src[i];
                span[i] = c is > ' ' and <= '~' and not '=' and not ']' and not '"' ? c : '_';
            }
        });
    }

    /// <summary>True when <paramref name="name"/> is a valid SD-NAME as it stands.</summary>
    public static bool IsValidSdName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxSdName)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is <= ' ' or > '~' or '=' or ']' or '"')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="value"/> is 1..<paramref name="max"/> printable US-ASCII characters.</summary>
    public static bool IsValidHeaderField(string? value, int max)
    {
        if (string.IsNullOrEmpty(value) || value.Length > max)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is <= ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A header field: NILVALUE <c>-</c> when empty, else printable US-ASCII (others become <c>_</c>), cut to <paramref name="max"/>.</summary>
    public static string HeaderField(string? value, int max)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        if (IsValidHeaderField(value, max))
        {
            return value;
        }

        return string.Create(Math.Min(value.Length, max), value, static (span, src) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = src[i];
                span[i] = c is > ' ' and <= '~' ? c : '_';
            }
        });
    }

    private static void WriteEscapedValue(ArrayBufferWriter<byte> buf, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        // Escaping works on the UTF-8 bytes: '"', '\' and ']' are ASCII and never occur inside a multi-byte sequence.
        var span = buf.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length) * 2);
        var encoded = span[(span.Length / 2)..];
        var n = Encoding.UTF8.GetBytes(value, encoded);
        var o = 0;
        for (var i = 0; i < n; i++)
        {
            var b = encoded[i];
            if (b is (byte)'"' or (byte)'\\' or (byte)']')
            {
                span[o++] = (byte)'\\';
            }

            span[o++] = b;
        }

        buf.Advance(o);
    }

    private static void WriteAscii(ArrayBufferWriter<byte> buf, string s)
    {
        var n = Encoding.ASCII.GetBytes(s, buf.GetSpan(s.Length));
        buf.Advance(n);
    }

    private static void WriteTimestamp(ArrayBufferWriter<byte> buf, DateTimeOffset ts)
    {
        // RFC 3339 with TIME-SECFRAC of six digits, the most RFC 5424 allows.
        var span = buf.GetSpan(40);
        ts.TryFormat(span, out var n, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff", CultureInfo.InvariantCulture);
        if (ts.Offset == TimeSpan.Zero)
        {
            span[n++] = (byte)'Z';
        }
        else
        {
            ts.TryFormat(span[n..], out var m, "zzz", CultureInfo.InvariantCulture);
            n += m;
        }

        buf.Advance(n);
    }
}
