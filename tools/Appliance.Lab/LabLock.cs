using System.Globalization;

namespace Appliance.Lab;

/// <summary>
/// One lab per machine: the namespace names are machine-wide, so the lock is too (<c>/run/camfw-lab/lab.lock</c>).
/// The lock is an exclusive advisory lock (flock, which .NET takes for <see cref="FileShare.None"/>) held open for the
/// lab's life, so the kernel frees it the moment the lab dies, however it dies: a lock left by a dead pid is never
/// in the way. Because the locked file cannot be opened by anyone else, the pid lives next to it in
/// <c>lab.pid</c>, for the message a second lab prints.
/// </summary>
internal sealed class LabLock : IDisposable
{
    public const string DefaultDirectory = "/run/camfw-lab";

    private readonly FileStream _stream;
    private readonly string _pidPath;

    private LabLock(FileStream stream, string pidPath)
    {
        _stream = stream;
        _pidPath = pidPath;
    }

    /// <summary>Takes the lock, or returns null and the pid of the lab holding it (0 when unknown).</summary>
    public static LabLock? TryAcquire(string directory, out int holder)
    {
        Directory.CreateDirectory(directory);
        var pidPath = Path.Combine(directory, "lab.pid");
        holder = 0;
        FileStream? stream = null;
        try
        {
            try
            {
                stream = new FileStream(Path.Combine(directory, "lab.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                holder = ReadPid(pidPath);
                return null;
            }

            // Ours now; a pid written before belonged to a lab that is gone (its lock died with it).
            File.WriteAllText(pidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            var acquired = new LabLock(stream, pidPath);
            stream = null;
            return acquired;
        }
        finally
        {
            stream?.Dispose();
        }
    }

    private static int ReadPid(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_pidPath);
        }
        catch (IOException)
        {
            // Best effort: a stale pid file is harmless, the flock is what counts.
        }

        _stream.Dispose();
    }
}
