using System.Net.Sockets;

namespace Appliance.Management.Security;

/// <summary>
/// The management API's local Unix domain socket (<c>Management:UnixSocket</c>): the path an administrator on the box
/// always has, whatever happens on TCP (issue 12.3). Access is the socket file's permissions (0600, owned by the
/// service) and, on every connection, the peer's uid from SO_PEERCRED: root or the service's own user.
/// </summary>
internal static class LocalSocket
{
    /// <summary>The socket file's mode: only its owner (the service) may connect; root always can.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Makes <paramref name="path"/> ready to bind: creates its directory (0755) if missing, refuses a directory that
    /// others may write to or that belongs to someone other than root or this service, and removes a stale socket
    /// file left by a process that died, after checking nothing answers on it. Anything else at the path (a regular
    /// file, a symlink, a directory, a socket someone serves) is refused, never removed. Returns true when a stale
    /// socket was removed.
    /// </summary>
    public static bool Prepare(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Management:UnixSocket needs Linux (SO_PEERCRED); set it to \"\" here");
        }

        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? throw new InvalidOperationException($"Management:UnixSocket '{path}' has no directory");
        var me = UnixIdentity.EffectiveUid;
        var dir = UnixIdentity.Stat(directory);
        if (dir.Type == UnixIdentity.FileType.Missing)
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            dir = UnixIdentity.Stat(directory);
        }

        if (dir.Type != UnixIdentity.FileType.Directory)
        {
            throw new InvalidOperationException($"Management:UnixSocket: {directory} is not a directory");
        }

        // Whoever can write to the directory can replace the socket with their own and collect the CLI's requests.
        if ((dir.Mode & UnixFileMode.OtherWrite) != 0)
        {
            throw new InvalidOperationException($"Management:UnixSocket: {directory} is writable by everyone (mode {Octal(dir.Mode)}); use a directory only root or the service may write, such as /run/camfw");
        }

        if (dir.Uid != 0 && dir.Uid != me)
        {
            throw new InvalidOperationException($"Management:UnixSocket: {directory} belongs to uid {dir.Uid}, neither root nor this service (uid {me})");
        }

        var existing = UnixIdentity.Stat(full);
        switch (existing.Type)
        {
            case UnixIdentity.FileType.Missing:
                return false;
            case UnixIdentity.FileType.Socket:
                if (IsServed(full))
                {
                    throw new InvalidOperationException($"Management:UnixSocket {full} is in use by another process (is camfw already running?)");
                }

                // unlink(2) removes the name, never what a symlink points to; the type was checked without following.
                File.Delete(full);
                return true;
            default:
                throw new InvalidOperationException($"Management:UnixSocket {full} exists and is not a socket; remove it or choose another path");
        }
    }

    /// <summary>Restricts the bound socket to <see cref="Mode"/> (bind(2) created it under the umask).</summary>
    public static void Restrict(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(Path.GetFullPath(path), Mode);
        }
    }

    private static bool IsServed(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return false;
        }
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
