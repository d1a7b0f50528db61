using System.Security.Cryptography;

namespace Appliance.Transport.PcapFile;

/// <summary>
/// An output written under a temporary name beside its destination and renamed over it only on
/// <see cref="Commit"/>, so an existing file is neither created, emptied nor half-written by a run that fails;
/// disposing without committing removes the temporary file.
/// </summary>
internal sealed class AtomicOutputFile : IDisposable
{
    private bool _committed;

    private AtomicOutputFile(string path, string temporaryPath)
    {
        Path = path;
        TemporaryPath = temporaryPath;
    }

    /// <summary>The destination.</summary>
    public string Path { get; }

    /// <summary>Where the content is written until <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>
    /// Reserves an empty temporary file in the destination's directory (same file system, so the rename is atomic),
    /// which also proves early that the directory is writable. Throws IOException or UnauthorizedAccessException.
    /// </summary>
    public static AtomicOutputFile Reserve(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full) ?? ".";
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(full)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");

        // CreateNew: never reuse (and so never follow) a file or link someone placed under that name.
        using (new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
        }

        return new AtomicOutputFile(full, temporary);
    }

    /// <summary>Renames the temporary file over the destination. Call after the writer is flushed and closed.</summary>
    public void Commit()
    {
        File.Move(TemporaryPath, Path, overwrite: true);
        _committed = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_committed)
        {
            try
            {
                File.Delete(TemporaryPath);
            }
            catch (IOException)
            {
                // Best effort: a leftover ".name.xxxx.tmp" is harmless and says what it is.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
