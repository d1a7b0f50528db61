using Appliance.Management.Policies;
using Appliance.TestSupport.Host;

namespace Appliance.Management.Tests.Policies;

public sealed class PolicySourceSetTests
{
    [Theory]
    [InlineData("site.yaml", true)] // plain
    [InlineData("cameras/north.yaml", true)] // sub-directory
    [InlineData("old.yml", true)] // .yml like the loader
    [InlineData("../etc/passwd.yaml", false)] // escapes the directory
    [InlineData("/abs.yaml", false)] // absolute
    [InlineData(".hidden.yaml", false)] // hidden
    [InlineData("a//b.yaml", false)] // empty segment
    [InlineData("a\\b.yaml", false)] // backslash
    [InlineData("site.json", false)] // not YAML
    [InlineData("sp ace.yaml", false)] // space
    public void IsPolicyFileName_Table(string name, bool expected) => Assert.Equal(expected, PolicySourceSet.IsPolicyFileName(name));

    [Theory]
    [InlineData("site.yaml", true)] // a policy file
    [InlineData("cameras", true)] // a directory renamed or removed
    [InlineData(".site.yaml.swp", false)] // vim swap
    [InlineData("site.yaml~", false)] // backup
    [InlineData("4913", false)] // vim probe
    [InlineData(".#site.yaml", false)] // emacs lock
    [InlineData("#site.yaml#", false)] // emacs autosave
    [InlineData(".camfw-0123.tmp", false)] // our own temporary file
    [InlineData("readme.md", false)] // not a policy file
    public void IsRelevantChange_Table(string name, bool expected) => Assert.Equal(expected, PolicySourceSet.IsRelevantChange(name));

    [Fact]
    public void TryRead_SkipsHiddenAndNonYaml_SortsByName()
    {
        using var dir = new TempDirectory();
        dir.Write("b.yaml", "b");
        dir.Write("a/c.yaml", "c");
        dir.Write(".a.yaml.swp", "x");
        dir.Write(".hidden/d.yaml", "d");
        dir.Write("notes.txt", "n");
        Assert.True(PolicySourceSet.TryRead(dir.Path, out var sources, out _));
        Assert.Equal(["a/c.yaml", "b.yaml"], sources.Select(s => s.Name));
    }

    [Fact]
    public void TryRead_InvalidUtf8_Fails()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("bad.yaml"), [0x66, 0xff, 0xfe]);
        Assert.False(PolicySourceSet.TryRead(dir.Path, out _, out var error));
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }
}
