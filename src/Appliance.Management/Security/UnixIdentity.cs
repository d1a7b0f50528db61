using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Appliance.Management.Security;

/// <summary>
/// The few Linux facts the local management socket needs that .NET does not expose: this process's uid, a path's
/// owner, type and mode without following a symlink, and a connected peer's credentials. statx(2) is used rather than
/// lstat(2) because its record has the same layout on every architecture; SO_PEERCRED is read through
/// <see cref="Socket.GetRawSocketOption"/>, so no native call is needed for it.
/// </summary>
internal static partial class UnixIdentity
{
    /// <summary>File type bits of <c>st_mode</c>.</summary>
    public enum FileType
    {
        Missing = 0,
        Socket = 0xC000,
        SymbolicLink = 0xA000,
        Regular = 0x8000,
        Directory = 0x4000,
        Other = -1,
    }

    /// <summary>What statx(2) says about a path (the link itself for a symlink).</summary>
    public readonly record struct PathStatus(FileType Type, uint Uid, UnixFileMode Mode);

    /// <summary>This process's effective uid (0 off Linux).</summary>
    public static uint EffectiveUid => OperatingSystem.IsLinux() ? GetEuid() : 0;

    /// <summary>
    /// statx(2) with AT_SYMLINK_NOFOLLOW. Returns <see cref="FileType.Missing"/> when nothing is there; throws
    /// <see cref="IOException"/> on any other failure.
    /// </summary>
    public static PathStatus Stat(string path)
    {
        // struct statx (linux/stat.h, identical on every architecture, native byte order): stx_uid (u32) at offset 20,
        // stx_mode (u16) at 28.
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENoEnt)
            {
                return new PathStatus(FileType.Missing, 0, 0);
            }

            throw new IOException($"statx({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var uid = MemoryMarshal.Read<uint>(buffer[20..]);
        var mode = MemoryMarshal.Read<ushort>(buffer[28..]);

        var type = (mode & 0xF000) switch
        {
            0xC000 => FileType.Socket,
            0xA000 => FileType.SymbolicLink,
            0x8000 => FileType.Regular,
            0x4000 => FileType.Directory,
            _ => FileType.Other,
        };
        return new PathStatus(type, uid, (UnixFileMode)(mode & 0xFFF));
    }

    /// <summary>The credentials of the process at the other end of a connected Unix domain socket (SO_PEERCRED).</summary>
    public static PeerCredentials PeerOf(Socket socket)
    {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three native-endian 32-bit fields.
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 12)
        {
            throw new IOException("SO_PEERCRED returned a short record");
        }

        return new PeerCredentials(MemoryMarshal.Read<int>(ucred), MemoryMarshal.Read<uint>(ucred[4..]), MemoryMarshal.Read<uint>(ucred[8..]));
    }

    // SOL_SOCKET and SO_PEERCRED as on x86-64 and arm64 Linux (asm-generic); other architectures are not targets.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7FF;
    private const int ENoEnt = 2;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
