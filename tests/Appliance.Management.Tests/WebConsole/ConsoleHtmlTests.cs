using Appliance.Management.WebConsole;

namespace Appliance.Management.Tests.WebConsole;

/// <summary>Numbers, sizes and times as the console shows them to people (the same in every locale), and the encoding of data.</summary>
public sealed class ConsoleHtmlTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, "0")]
    [InlineData(999, "999")]
    [InlineData(1234, "1,234")]
    [InlineData(1234567890123, "1,234,567,890,123")]
    public void Count_Any_GroupsThousands(long n, string expected) => Assert.Equal(expected, Html.Count(n));

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(10L * 1024 * 1024, "10.0 MiB")]
    [InlineData(5L * 1024 * 1024 * 1024 * 1024 * 1024, "5120.0 TiB")] // the largest unit, not an index out of range
    public void Bytes_Any_BinaryUnitsOneDecimal(long bytes, string expected) => Assert.Equal(expected, Html.Bytes(bytes));

    [Theory]
    [InlineData(0.04, "0.0")]
    [InlineData(2.04, "2.0")]
    [InlineData(9.96, "10.0")]
    [InlineData(12_345.6, "12,346")]
    public void Rate_Any_OneDecimalBelowTenWholeAbove(double rate, string expected) => Assert.Equal(expected, Html.Rate(rate));

    [Theory]
    [InlineData(-5, "0 s")]
    [InlineData(42, "42 s")]
    [InlineData(3 * 60 + 59, "3 min")]
    [InlineData(2 * 3600, "2 h")]
    [InlineData(2 * 3600 + 5 * 60, "2 h 5 min")]
    [InlineData(3 * 86400 + 3600, "3 d")]
    public void Duration_Any_LargestUnitThatReadsWell(int seconds, string expected) => Assert.Equal(expected, Html.Duration(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(0, "just now")]
    [InlineData(-90, "1 min ago")]
    [InlineData(-7200, "2 h ago")]
    [InlineData(120, "in 2 min")] // a deadline (safe apply's countdown)
    public void Ago_RelativeToNow_ReadsLikeSpeech(int offsetSeconds, string expected) => Assert.Equal(expected, Html.Ago(Now.AddSeconds(offsetSeconds), Now));

    [Fact]
    public void Time_Any_RelativeTextExactUtcInTooltipAndDatetime()
    {
        var html = new Html().Time(Now.AddMinutes(-3), Now).ToString();
        Assert.Equal("<time datetime=\"2026-11-28T11:57:00.000Z\" title=\"2026-11-28 11:57:00 UTC\">3 min ago</time>", html);
        Assert.Equal("<span class=\"muted\">never</span>", new Html().Time(null, Now).ToString());
    }

    [Fact]
    public void TextAndAttr_MarkupInData_Encoded()
    {
        const string Hostile = "\"><script>alert(1)</script>";
        var html = new Html().Raw("<p").Attr("title", Hostile).Raw(">").Text(Hostile).Raw("</p>").El("td", Hostile).ToString();
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("\"><", html, StringComparison.Ordinal);
        Assert.Equal(3, html.Split("&lt;script&gt;").Length - 1);
    }
}
