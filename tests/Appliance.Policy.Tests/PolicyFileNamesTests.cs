namespace Appliance.Policy.Tests;

public sealed class PolicyFileNamesTests
{
    [Theory]
    [InlineData("site.yaml", null)] // plain
    [InlineData("old.yml", null)] // .yml too
    [InlineData("cameras/north.yaml", null)] // a folder
    [InlineData("cameras/north gate.yaml", null)] // a space: allowed everywhere now (issue 13)
    [InlineData("kameras/süd-tor 北门.yaml", null)] // any Unicode letter
    [InlineData("a/b/c/d/e/f/g/h/x.yaml", null)] // 8 folders deep: the limit
    [InlineData("a/b/c/d/e/f/g/h/i/x.yaml", "at most 8 directories")] // 9: too deep
    [InlineData("../x.yaml", "without '..'")] // escapes the directory
    [InlineData("a/../x.yaml", "without '..'")] // escapes in the middle
    [InlineData("/abs.yaml", "without '..'")] // absolute
    [InlineData("a//b.yaml", "without '..'")] // empty segment
    [InlineData(".hidden.yaml", "hidden")] // hidden: the reader ignores it, so it may not be written either
    [InlineData(".git/x.yaml", "hidden")] // in a hidden folder
    [InlineData("a\\b.yaml", "'/' between directories")] // backslash
    [InlineData("two\nlines.yaml", "control characters")] // would forge a log line
    [InlineData("bad\uFFFD.yaml", "not valid UTF-8")] // what .NET makes of a non-UTF-8 name
    [InlineData("site.json", "ending in .yaml")] // not YAML
    [InlineData("site.YAML", "ending in .yaml")] // wrong case
    [InlineData("", "must not be empty")] // nothing
    public void Check_Table(string name, string? problem)
    {
        var result = PolicyFileNames.Check(name);
        if (problem is null)
        {
            Assert.Null(result);
        }
        else
        {
            Assert.NotNull(result);
            Assert.Contains(problem, result, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Check_UnpairedSurrogate_Refused()
    {
        // Built here, not in InlineData: test-case serialisation would already have replaced the lone half.
        var name = "lone" + (char)0xD800 + ".yaml";
        Assert.Contains("not valid Unicode", PolicyFileNames.Check(name), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_TooLong_Refused()
    {
        Assert.Null(PolicyFileNames.Check(new string('a', PolicyLimits.MaxNameLength - 5) + ".yaml"));
        Assert.Contains("at most", PolicyFileNames.Check(new string('a', PolicyLimits.MaxNameLength - 4) + ".yaml"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".site.yaml.swp", true)] // vim swap
    [InlineData(".#site.yaml", true)] // emacs lock
    [InlineData("#site.yaml#", true)] // emacs autosave
    [InlineData("site.yaml~", true)] // backup
    [InlineData("4913", true)] // vim's write probe
    [InlineData(".camfw-0123.tmp", true)] // the appliance's own temporary file
    [InlineData(".git", true)] // hidden folder
    [InlineData("site.yaml", false)] // a policy file
    [InlineData("#", false)] // one '#' is a name, not an autosave
    [InlineData("north gate.yaml", false)] // spaces are fine
    public void IsIgnored_Table(string name, bool expected) => Assert.Equal(expected, PolicyFileNames.IsIgnored(name));

    [Fact]
    public void Printable_EscapesControlCharacters() => Assert.Equal("a\\u000ab\\u001b.yaml", PolicyFileNames.Printable("a\nb\u001b.yaml"));
}
