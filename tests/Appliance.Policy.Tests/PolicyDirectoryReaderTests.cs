using System.Text;

namespace Appliance.Policy.Tests;

/// <summary>The one policy-directory reader: what it reads, what it ignores, and that nothing is skipped in silence.</summary>
public sealed class PolicyDirectoryReaderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("camfw-reader-");
    private readonly DirectoryInfo _outside = Directory.CreateTempSubdirectory("camfw-outside-");

    [Fact]
    public void Read_OddNames_ReadAndNamedAsWritten()
    {
        Write("cameras/north gate.yaml", "# a\n");
        Write("kameras/süd-tor 北门.yml", "# b\n");
        Write("a/b/c/d/e/f/g/h/deep.yaml", "# c\n");

        var contents = PolicyDirectoryReader.Read(_dir.FullName);

        Assert.Empty(contents.Diagnostics);
        Assert.Equal(["a/b/c/d/e/f/g/h/deep.yaml", "cameras/north gate.yaml", "kameras/süd-tor 北门.yml"], contents.Sources.Select(s => s.Name));
        Assert.Equal(contents.Sources.Select(s => s.Name), contents.PolicyFiles);
    }

    [Fact]
    public void Read_IgnoredFiles_NeitherReadNorReported()
    {
        Write("site.yaml", "# a\n");
        Write(".site.yaml.swp", "x");
        Write("site.yaml~", "x");
        Write("#site.yaml#", "x");
        Write(".git/HEAD.yaml", "x");
        Write("README.md", "x");
        Write("4913", "x");

        var contents = PolicyDirectoryReader.Read(_dir.FullName);

        Assert.Empty(contents.Diagnostics);
        Assert.Equal(["site.yaml"], contents.Sources.Select(s => s.Name));
    }

    [Fact]
    public void Read_EveryUnreadableFile_ReportedByNameAndTheRestStillRead()
    {
        Write("ok.yaml", "# ok\n");
        Write("a/b/c/d/e/f/g/h/i/too-deep.yaml", "# x\n");
        Write("big.yaml", "# " + new string('x', PolicyLimits.MaxFileBytes));
        Write("Upper.YAML", "# x\n");
        Write("two\nlines.yaml", "# x\n");
        File.WriteAllBytes(Path.Combine(_dir.FullName, "latin1.yaml"), [(byte)'#', 0xE9]);
        File.WriteAllText(Path.Combine(_outside.FullName, "secret.yaml"), "# outside\n");
        File.CreateSymbolicLink(Path.Combine(_dir.FullName, "link.yaml"), Path.Combine(_outside.FullName, "secret.yaml"));
        File.CreateSymbolicLink(Path.Combine(_dir.FullName, "dangling.yaml"), Path.Combine(_outside.FullName, "gone.yaml"));
        Directory.CreateSymbolicLink(Path.Combine(_dir.FullName, "linked"), _outside.FullName);

        var contents = PolicyDirectoryReader.Read(_dir.FullName);

        Assert.Equal(["ok.yaml"], contents.Sources.Select(s => s.Name));
        var lines = contents.Diagnostics.Select(d => d.ToString()).ToList();
        Assert.All(contents.Diagnostics, d => Assert.Equal(Severity.Error, d.Severity));
        Assert.Contains(lines, l => l.StartsWith("a/b/c/d/e/f/g/h/i:1:1: error: folder is more than 8 levels", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"big.yaml:1:1: error: file is {PolicyLimits.MaxFileBytes + 2} bytes", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Upper.YAML:1:1: error: policy files end in lowercase", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("two\\u000alines.yaml:1:1: error: a policy file name must not contain control characters", StringComparison.Ordinal));
        Assert.Contains("latin1.yaml:1:1: error: file is not valid UTF-8", lines);
        Assert.Contains(lines, l => l.StartsWith("link.yaml:1:1: error: is a symbolic link", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("dangling.yaml:1:1: error: is a symbolic link", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("linked:1:1: error: is a symbolic link to a folder", StringComparison.Ordinal));
        Assert.Equal(8, lines.Count);
        Assert.DoesNotContain(contents.Sources, s => s.Text.Contains("outside", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Read_Fifo_NotOpenedReadsAsEmpty()
    {
        Write("site.yaml", "# a\n");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(_dir.FullName, "pipe.yaml")))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // Opening a FIFO blocks until a writer comes; a reader that did would hang here (and the watcher's reload).
        var read = Task.Run(() => PolicyDirectoryReader.Read(_dir.FullName));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30))));
        var contents = await read;
        Assert.Equal(["pipe.yaml", "site.yaml"], contents.Sources.Select(s => s.Name));
        Assert.Equal("", contents.Sources[0].Text);

        // An empty file is a warning: legal, but an admin hears of it.
        Assert.Equal(["pipe.yaml:1:1: warning: file is empty (0 bytes): it declares nothing"], contents.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Read_TooManyFiles_OneErrorNothingRead()
    {
        for (var i = 0; i <= PolicyLimits.MaxFiles; i++)
        {
            File.WriteAllText(Path.Combine(_dir.FullName, $"f{i:D4}.yaml"), "#\n");
        }

        var contents = PolicyDirectoryReader.Read(_dir.FullName);

        Assert.False(contents.IsComplete);
        Assert.Empty(contents.Sources);
        Assert.Equal([$"{_dir.FullName}:1:1: error: {PolicyLimits.MaxFiles + 1} policy files is more than the limit of {PolicyLimits.MaxFiles}"], contents.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void LoadDirectory_UnreadableFileNextToAValidPolicy_HasErrors()
    {
        // The defect of issue 13: a valid policy plus a file the reader cannot take must not load as if the file
        // were not there.
        Write("networks.yaml", PolicyTestHelpers.Networks);
        File.WriteAllBytes(Path.Combine(_dir.FullName, "cameras.yaml"), [(byte)'#', 0xE9]);

        var result = PolicyLoader.LoadDirectory(_dir.FullName);

        Assert.True(result.HasErrors);
        Assert.Null(result.Spec);
        Assert.Equal(["cameras.yaml:1:1: error: file is not valid UTF-8"], PolicyTestHelpers.Lines(result).Where(l => l.Contains(": error: ", StringComparison.Ordinal)));
    }

    public void Dispose()
    {
        _dir.Delete(recursive: true);
        _outside.Delete(recursive: true);
    }

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_dir.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}
