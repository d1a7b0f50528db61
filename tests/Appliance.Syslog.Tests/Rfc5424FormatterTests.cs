using System.Text;
using Microsoft.Extensions.Logging;

namespace Appliance.Syslog.Tests;

public sealed class Rfc5424FormatterTests
{
    private static readonly DateTimeOffset Ts = new(2026, 11, 22, 4, 45, 0, 123, 456, TimeSpan.Zero);

    private static Rfc5424Formatter Formatter(Action<SyslogOptions>? configure = null)
    {
        var o = new SyslogOptions { Hostname = "fw1.example.net" };
        configure?.Invoke(o);
        return new Rfc5424Formatter(o, procId: "42");
    }

    private static string Format(Rfc5424Formatter f, string? msgId, string? message, params (string Key, string? Value)[] sd)
        => Encoding.UTF8.GetString(f.Format(Ts, SyslogSeverity.Informational, msgId, sd.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)).ToList(), message, out _));

    [Theory]
    [InlineData(SyslogFacility.Kernel, SyslogSeverity.Emergency, 0)]       // lowest possible PRI
    [InlineData(SyslogFacility.Local4, SyslogSeverity.Informational, 166)] // the default facility at info
    [InlineData(SyslogFacility.Daemon, SyslogSeverity.Warning, 28)]
    [InlineData(SyslogFacility.Local7, SyslogSeverity.Debug, 191)]         // highest possible PRI
    public void Priority_FacilityAndSeverity_FacilityTimesEightPlusSeverity(SyslogFacility facility, SyslogSeverity severity, int expected)
        => Assert.Equal(expected, Rfc5424Formatter.Priority(facility, severity));

    [Theory]
    [InlineData(LogLevel.Trace, SyslogSeverity.Debug)]
    [InlineData(LogLevel.Debug, SyslogSeverity.Debug)]
    [InlineData(LogLevel.Information, SyslogSeverity.Informational)]
    [InlineData(LogLevel.Warning, SyslogSeverity.Warning)]
    [InlineData(LogLevel.Error, SyslogSeverity.Error)]
    [InlineData(LogLevel.Critical, SyslogSeverity.Critical)]
    public void FromLogLevel_EachLevel_MapsToSeverity(LogLevel level, SyslogSeverity expected)
        => Assert.Equal(expected, SyslogSeverities.FromLogLevel(level));

    [Fact]
    public void Format_TypicalEvent_ExactRfc5424Bytes()
    {
        var s = Format(Formatter(), "flow-denied", "hello", ("camera", "cam-1"), ("dport", "554"));
        Assert.Equal("<166>1 2026-11-22T04:45:00.123456Z fw1.example.net camfw 42 flow-denied [camfw@32473 camera=\"cam-1\" dport=\"554\"] hello", s);
    }

    [Fact]
    public void Format_FacilityAndEnterpriseConfigured_UsedInPriAndSdId()
    {
        var s = Format(Formatter(o => { o.Facility = SyslogFacility.Daemon; o.EnterpriseNumber = 99999; o.StructuredDataName = "fw"; }), "x", null, ("a", "b"));
        Assert.Equal("<30>1 2026-11-22T04:45:00.123456Z fw1.example.net camfw 42 x [fw@99999 a=\"b\"]", s);
    }

    [Fact]
    public void Format_LocalTimeWithOffset_PrintsOffset()
    {
        var f = Formatter(o => o.UseUtc = false);
        var local = new DateTimeOffset(2026, 11, 22, 5, 45, 0, 500, TimeSpan.FromHours(1));
        var s = Encoding.UTF8.GetString(f.Format(local, SyslogSeverity.Notice, null, null, null, out _));
        Assert.Equal("<165>1 2026-11-22T05:45:00.500000+01:00 fw1.example.net camfw 42 - -", s);
    }

    [Fact]
    public void Format_UtcMode_ConvertsOffsetToZ()
    {
        var local = new DateTimeOffset(2026, 11, 22, 5, 45, 0, TimeSpan.FromHours(1));
        var s = Encoding.UTF8.GetString(Formatter().Format(local, SyslogSeverity.Notice, null, null, null, out _));
        Assert.StartsWith("<165>1 2026-11-22T04:45:00.000000Z ", s);
    }

    [Theory]
    [InlineData("plain", "plain")]                // nothing to escape
    [InlineData("a\"b", "a\\\"b")]                // quote
    [InlineData("a\\b", "a\\\\b")]                // backslash
    [InlineData("a]b", "a\\]b")]                  // closing bracket
    [InlineData("[x]", "[x\\]")]                  // opening bracket is fine as is
    [InlineData("\\\"]", "\\\\\\\"\\]")]          // all three in a row
    [InlineData("wörld ✓", "wörld ✓")]           // UTF-8 passes through
    [InlineData("", "")]                          // empty value
    public void Format_ParamValue_EscapesQuoteBackslashBracket(string value, string expected)
    {
        var s = Format(Formatter(), "m", null, ("k", value));
        Assert.EndsWith($" m [camfw@32473 k=\"{expected}\"]", s);
    }

    [Theory]
    [InlineData("camera", "camera")]                                       // valid as is
    [InlineData("a=b", "a_b")]                                            // '=' ends a name
    [InlineData("a b", "a_b")]                                            // space
    [InlineData("a]b", "a_b")]                                            // ']'
    [InlineData("a\"b", "a_b")]                                           // '"'
    [InlineData("kämera", "k_mera")]                                      // non-ASCII
    [InlineData("", "_")]                                                 // never empty
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz012345")] // cut to 32
    public void SanitizeName_Offenders_ReplacedAndCut(string name, string expected)
        => Assert.Equal(expected, Rfc5424Formatter.SanitizeName(name));

    [Theory]
    [InlineData("flow-denied", "flow-denied")]                                  // valid
    [InlineData("two words", "two_words")]                                      // space would split the header
    [InlineData("0123456789012345678901234567890123456789", "01234567890123456789012345678901")] // 32 max
    [InlineData("", "-")]                                                       // NILVALUE
    [InlineData(null, "-")]                                                     // NILVALUE
    public void Format_MsgId_SanitisedAndCut(string? msgId, string expected)
    {
        var s = Format(Formatter(), msgId, null);
        Assert.Equal($"<166>1 2026-11-22T04:45:00.123456Z fw1.example.net camfw 42 {expected} -", s);
    }

    [Theory]
    [InlineData(Utf8BomMode.Auto, "ascii", false)]     // ASCII goes as MSG-ANY
    [InlineData(Utf8BomMode.Auto, "wörld", true)]      // non-ASCII is MSG-UTF8 with BOM
    [InlineData(Utf8BomMode.Always, "ascii", true)]
    [InlineData(Utf8BomMode.Never, "wörld", false)]
    public void Format_BomMode_BomOnlyWhenAsked(Utf8BomMode mode, string message, bool bom)
    {
        var bytes = Formatter(o => o.Utf8Bom = mode).Format(Ts, SyslogSeverity.Informational, "m", null, message, out _);
        var msgStart = Encoding.UTF8.GetBytes("<166>1 2026-11-22T04:45:00.123456Z fw1.example.net camfw 42 m - ").Length;
        Assert.Equal(bom, bytes.AsSpan(msgStart).StartsWith((byte[])[0xEF, 0xBB, 0xBF]));
        Assert.EndsWith(message, Encoding.UTF8.GetString(bytes));
    }

    [Theory]
    [InlineData(480)]
    [InlineData(481)]
    [InlineData(482)]
    [InlineData(1000)]
    public void Format_MultiByteTextOverCap_CutAtCharacterBoundaryWithinCap(int cap)
    {
        var f = Formatter(o => o.MaxMessageBytes = cap);
        var bytes = f.Format(Ts, SyslogSeverity.Informational, "m", [new("k", "v")], new string('€', 1000), out var truncated);

        Assert.True(truncated);
        Assert.InRange(bytes.Length, cap - 2, cap); // at most one 3-byte character short
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); // throws on a split character
        Assert.Contains("[camfw@32473 k=\"v\"] \uFEFF€", text);
    }

    [Fact]
    public void Format_StructuredDataOverCap_DropsWholeParamsAndStaysWellFormed()
    {
        var f = Formatter(o => o.MaxMessageBytes = 480);
        var sd = Enumerable.Range(0, 20).Select(i => new KeyValuePair<string, string?>("p" + i, new string('x', 50))).ToList();
        var bytes = f.Format(Ts, SyslogSeverity.Informational, "m", sd, "text", out var truncated);
        var s = Encoding.ASCII.GetString(bytes);

        Assert.True(truncated);
        Assert.True(bytes.Length <= 480);
        Assert.Contains("[camfw@32473 p0=\"" + new string('x', 50) + "\"", s);
        Assert.DoesNotContain("p19=", s);
        Assert.Matches("^<166>1 \\S+ \\S+ camfw 42 m \\[camfw@32473( p\\d+=\"x+\")+\\]( .*)?$", s);
    }

    [Fact]
    public void Format_WithinCap_NotTruncated()
    {
        Formatter().Format(Ts, SyslogSeverity.Informational, "m", [new("k", "v")], "short", out var truncated);
        Assert.False(truncated);
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0x62, 0x63 }, 2, 2)]             // ASCII: any cut is a boundary
    [InlineData(new byte[] { 0x61, 0xC3, 0xB6 }, 2, 1)]             // inside 2-byte ö: back to its lead byte
    [InlineData(new byte[] { 0xE2, 0x82, 0xAC, 0x61 }, 2, 0)]       // inside 3-byte €: nothing of it kept
    [InlineData(new byte[] { 0xE2, 0x82, 0xAC, 0x61 }, 3, 3)]       // right after €
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98, 0x80, 0x61 }, 3, 0)] // inside a 4-byte emoji
    [InlineData(new byte[] { 0x61 }, 5, 1)]                         // cap beyond length
    [InlineData(new byte[] { 0x61 }, 0, 0)]                         // zero cap
    public void Utf8Prefix_CutInsideCharacter_BacksUpToItsStart(byte[] utf8, int max, int expected)
        => Assert.Equal(expected, Rfc5424Formatter.Utf8Prefix(utf8, max));

    [Theory]
    [InlineData("fw 1", 255, "fw_1")]       // space in HOSTNAME
    [InlineData("hôst", 255, "h_st")]       // non-ASCII
    [InlineData("abcdef", 4, "abcd")]       // cut to the field's maximum
    public void HeaderField_Offenders_ReplacedAndCut(string value, int max, string expected)
        => Assert.Equal(expected, Rfc5424Formatter.HeaderField(value, max));
}
