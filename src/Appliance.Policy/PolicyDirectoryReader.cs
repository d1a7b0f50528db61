using System.Text;

namespace Appliance.Policy;

/// <summary>
/// What reading a policy directory found: the policy files that were read, and a diagnostic for every policy file
/// (or folder) that was not.
/// </summary>
/// <param name="Directory">The directory as given (diagnostics about the directory itself name it so).</param>
/// <param name="Sources">The files read, with names relative to <paramref name="Directory"/> using <c>/</c>, ordinal order.</param>
/// <param name="Diagnostics">One error per file or folder that could not be read, naming it.</param>
/// <param name="PolicyFiles">Every policy file found, read or not (what an apply replaces), ordinal order.</param>
/// <param name="IsComplete">False when the directory itself could not be listed (missing, unreadable, too many files).</param>
public sealed record PolicyDirectoryContents(string Directory, IReadOnlyList<PolicySource> Sources, IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<string> PolicyFiles, bool IsComplete)
{
    /// <summary>True when some policy file or folder could not be read (the policy is then incomplete and never applied).</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
}

/// <summary>
/// The one reader of a policy directory. <c>camfw policy check/show</c>, <c>camfw replay</c>, startup, the file
/// watcher, reload, <c>camfw apply</c> and history all read through it, so every path sees the same files and
/// reports the same problems. Which files count is decided by <see cref="PolicyFileNames"/>.
/// </summary>
/// <remarks>
/// Never throws on what it finds; every problem becomes a diagnostic naming the file or folder, and reading goes on,
/// so one pass shows an admin everything to fix. Symbolic links inside the policy directory are not followed (the
/// directory itself may be one): a link could bring in a file from anywhere on the box, and an API apply replaces
/// it with a regular file. Empty files are not opened (a FIFO or device also reports size 0, and opening a FIFO
/// would block the reload); they read as empty text, with a warning.
/// </remarks>
public static class PolicyDirectoryReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Hidden entries are filtered by PolicyFileNames, not by the platform's notion of "hidden"; nothing is skipped
    // because it is inaccessible (that is reported).
    private static readonly EnumerationOptions ListOptions = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
        MatchType = MatchType.Simple,
    };

    /// <summary>Reads every policy file below <paramref name="directory"/>.</summary>
    public static PolicyDirectoryContents Read(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var diagnostics = new DiagnosticBag();
        var sources = new List<PolicySource>();
        var files = new List<string>();
        if (!System.IO.Directory.Exists(directory))
        {
            diagnostics.Error(directory, 1, 1, "policy directory not found");
            return new PolicyDirectoryContents(directory, [], diagnostics.Items, [], IsComplete: false);
        }

        var pending = new Stack<(string Path, string Relative, int Depth)>();
        pending.Push((Path.GetFullPath(directory), "", 0));
        long total = 0;
        var found = 0;
        while (pending.Count > 0)
        {
            var (path, relative, depth) = pending.Pop();
            FileSystemInfo[] entries;
            try
            {
                entries = new DirectoryInfo(path).GetFileSystemInfos("*", ListOptions);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (relative.Length == 0)
                {
                    diagnostics.Error(directory, 1, 1, "cannot list the policy directory: " + e.Message);
                    return new PolicyDirectoryContents(directory, [], diagnostics.Items, [], IsComplete: false);
                }

                diagnostics.Error(Printable(relative), 1, 1, "cannot list this folder, so its policy files are not read: " + e.Message);
                continue;
            }

            Array.Sort(entries, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (var entry in entries)
            {
                if (PolicyFileNames.IsIgnored(entry.Name))
                {
                    continue;
                }

                var name = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
                try
                {
                    if (entry is DirectoryInfo)
                    {
                        if (entry.LinkTarget is { } target)
                        {
                            diagnostics.Error(Printable(name), 1, 1, $"is a symbolic link to a folder ({Printable(target)}); links inside the policy directory are not followed, so nothing in it is read");
                        }
                        else if (depth + 1 > PolicyLimits.MaxDirectoryDepth)
                        {
                            diagnostics.Error(Printable(name), 1, 1, $"folder is more than {PolicyLimits.MaxDirectoryDepth} levels below the policy directory; nothing in it is read");
                        }
                        else
                        {
                            pending.Push((entry.FullName, name, depth + 1));
                        }

                        continue;
                    }

                    if (!PolicyFileNames.HasPolicyExtension(entry.Name))
                    {
                        if (PolicyFileNames.HasMiscasedPolicyExtension(entry.Name))
                        {
                            diagnostics.Error(Printable(name), 1, 1, "policy files end in lowercase .yaml or .yml; the file is not read");
                        }

                        continue;
                    }

                    if (++found > PolicyLimits.MaxFiles)
                    {
                        diagnostics.Error(directory, 1, 1, $"{found} policy files is more than the limit of {PolicyLimits.MaxFiles}");
                        return new PolicyDirectoryContents(directory, [], diagnostics.Items, [], IsComplete: false);
                    }

                    if (PolicyFileNames.Check(name) is { } problem)
                    {
                        // Not in PolicyFiles: a name that cannot be written (or, not being UTF-8, even named) is left
                        // for the admin to rename, and keeps being reported until then.
                        diagnostics.Error(Printable(name), 1, 1, problem + "; the file is not read");
                        continue;
                    }

                    files.Add(name);

                    if (entry.LinkTarget is { } linkTarget)
                    {
                        diagnostics.Error(name, 1, 1, $"is a symbolic link (to {Printable(linkTarget)}); policy files must be regular files in the policy directory; the file is not read");
                        continue;
                    }

                    if (TryReadFile(name, (FileInfo)entry, ref total, diagnostics, out var text))
                    {
                        sources.Add(new PolicySource(name, text));
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone or changed between listing and reading (an editor's rename), or not readable.
                    diagnostics.Error(Printable(name), 1, 1, "cannot read the file: " + e.Message);
                }
            }
        }

        sources.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        files.Sort(StringComparer.Ordinal);
        return new PolicyDirectoryContents(directory, sources, diagnostics.Items, files, IsComplete: true);
    }

    private static bool TryReadFile(string name, FileInfo file, ref long total, DiagnosticBag diagnostics, out string text)
    {
        text = "";
        var length = file.Length;
        if (!PolicyLoader.WithinSizeLimits(name, length, ref total, diagnostics))
        {
            return false;
        }

        if (length == 0)
        {
            // Not opened: FIFOs, sockets and devices report size 0 too, and opening a FIFO blocks until a writer comes.
            // Legal (nothing declared), but worth a word: a copy that failed part-way leaves files like this.
            diagnostics.Warning(new SourceLocation(name, 1, 1), "file is empty (0 bytes): it declares nothing");
            return true;
        }

        // Bounded by the limit, not by the size seen a moment ago: the file may grow between the two.
        var buffer = new byte[Math.Min(length, PolicyLimits.MaxFileBytes) + 1];
        var read = 0;
        using (var handle = File.OpenHandle(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            int n;
            while ((n = RandomAccess.Read(handle, buffer.AsSpan(read), read)) > 0)
            {
                read += n;
                if (read == buffer.Length)
                {
                    if (read > PolicyLimits.MaxFileBytes)
                    {
                        break;
                    }

                    Array.Resize(ref buffer, (int)Math.Min(2L * buffer.Length, PolicyLimits.MaxFileBytes + 1L));
                }
            }
        }

        if (read > PolicyLimits.MaxFileBytes)
        {
            diagnostics.Error(name, 1, 1, $"file grew past the limit of {PolicyLimits.MaxFileBytes} bytes while being read; the file is not read");
            return false;
        }

        try
        {
            text = StrictUtf8.GetString(buffer, 0, read);
            return true;
        }
        catch (DecoderFallbackException)
        {
            diagnostics.Error(name, 1, 1, "file is not valid UTF-8");
            return false;
        }
    }

    private static string Printable(string name) => PolicyFileNames.Printable(name);
}
