using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Appliance.Management.WebConsole;

/// <summary>
/// A small HTML writer: every piece of data goes through <see cref="Text"/> (HTML-encoded), markup through
/// <see cref="Raw"/> with literal strings only. Numbers and times are formatted for people (grouped digits, "3 min
/// ago" with the exact UTC time in a tooltip), always with the invariant culture so a page reads the same everywhere.
/// </summary>
internal sealed class Html
{
    private readonly StringBuilder _sb = new(8192);

    public Html Raw(string markup)
    {
        _sb.Append(markup);
        return this;
    }

    public Html Text(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            _sb.Append(HtmlEncoder.Default.Encode(text));
        }

        return this;
    }

    /// <summary>An element with encoded text: <c>&lt;td class="num"&gt;1,234&lt;/td&gt;</c>.</summary>
    public Html El(string tag, string? text, string? cssClass = null)
    {
        _sb.Append('<').Append(tag);
        if (cssClass is not null)
        {
            _sb.Append(" class=\"").Append(HtmlEncoder.Default.Encode(cssClass)).Append('"');
        }

        _sb.Append('>');
        Text(text);
        _sb.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>An attribute value, encoded (quotes included).</summary>
    public Html Attr(string name, string? value)
    {
        _sb.Append(' ').Append(name).Append("=\"").Append(HtmlEncoder.Default.Encode(value ?? "")).Append('"');
        return this;
    }

    public Html Link(string href, string text, string? cssClass = null)
    {
        _sb.Append("<a");
        Attr("href", href);
        if (cssClass is not null)
        {
            Attr("class", cssClass);
        }

        _sb.Append('>');
        Text(text);
        _sb.Append("</a>");
        return this;
    }

    /// <summary>A point in time as "12 s ago", with the exact time in <c>datetime</c> and the tooltip.</summary>
    public Html Time(DateTimeOffset? at, DateTimeOffset now)
    {
        if (at is not { } t)
        {
            return El("span", "never", "muted");
        }

        _sb.Append("<time");
        Attr("datetime", t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        Attr("title", Exact(t));
        _sb.Append('>');
        Text(Ago(t, now));
        _sb.Append("</time>");
        return this;
    }

    public override string ToString() => _sb.ToString();

    /// <summary>1234567 as "1,234,567".</summary>
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A rate: one decimal below 10, whole numbers above.</summary>
    public static string Rate(double r) => r < 10 ? r.ToString("0.0", CultureInfo.InvariantCulture) : Math.Round(r).ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Bytes as "1.5 MiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }

        return u == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B") : string.Create(CultureInfo.InvariantCulture, $"{v:0.0} {units[u]}");
    }

    /// <summary>A duration as "42 s", "3 min", "2 h 5 min", "3 d".</summary>
    public static string Duration(TimeSpan d)
    {
        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        return d.TotalSeconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalSeconds} s")
            : d.TotalMinutes < 60 ? string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalMinutes} min")
            : d.TotalHours < 48 ? (d.Minutes == 0 ? string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalHours} h") : string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalHours} h {d.Minutes} min"))
            : string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalDays} d");
    }

    public static string Ago(DateTimeOffset at, DateTimeOffset now)
        => at > now + TimeSpan.FromSeconds(1) ? "in " + Duration(at - now) : (now - at).TotalSeconds < 1 ? "just now" : Duration(now - at) + " ago";

    public static string Exact(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
