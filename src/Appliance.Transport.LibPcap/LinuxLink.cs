using System.Runtime.InteropServices;
using System.Text;

namespace Appliance.Transport.LibPcap;

/// <summary>
/// Reads an interface's flags, MTU and receive offloads with ioctl(2) on the port's own capture socket. A socket
/// answers for the network namespace it was created in, so this is right wherever the calling thread is; reading
/// /sys/class/net would show the namespace sysfs was mounted in instead (the tests' ports live in their own).
/// </summary>
internal static unsafe partial class LinuxLink
{
    public const int EAGAIN = 11;
    public const int ENOBUFS = 105;
    public const int ENETDOWN = 100;
    public const int ENXIO = 6;
    public const int ENODEV = 19;
    public const int EMSGSIZE = 90;
    public const int EINTR = 4;
    public const short PollOut = 0x004;

    private const uint SIOCGIFFLAGS = 0x8913;
    private const uint SIOCGIFMTU = 0x8921;
    private const uint SIOCETHTOOL = 0x8946;
    private const uint ETHTOOL_GFLAGS = 0x25;
    private const uint ETHTOOL_GGRO = 0x2b;
    private const uint EthFlagLro = 1 << 15;
    private const int IffUp = 0x1;
    private const int IffRunning = 0x40;

    /// <summary>struct ifreq: a 16-byte name, then a union (flags, mtu or a data pointer); 40 bytes on 64-bit.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    private struct IfReq
    {
        [FieldOffset(16)]
        public short Flags;

        [FieldOffset(16)]
        public int Mtu;

        [FieldOffset(16)]
        public nint Data;
    }

    /// <summary>struct ethtool_value.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct EthtoolValue
    {
        public uint Cmd;
        public uint Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc.so.6", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, IfReq* arg);

    [LibraryImport("libc.so.6", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>Reads link state, MTU and whether GRO or LRO is on for <paramref name="name"/> through socket <paramref name="fd"/>.</summary>
    public static PortCondition Read(int fd, string name, int openedMtu)
    {
        var req = NewRequest(name);
        if (Ioctl(fd, SIOCGIFFLAGS, &req) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return new PortCondition { Link = errno is ENODEV or ENXIO ? PortLinkState.Gone : PortLinkState.Unknown, OpenedMtu = openedMtu };
        }

        // IFF_RUNNING is the kernel's "operationally up": admin up and carrier (veth: the peer is up too).
        var flags = req.Flags;
        var link = (flags & IffUp) == 0 ? PortLinkState.AdminDown : (flags & IffRunning) == 0 ? PortLinkState.NoCarrier : PortLinkState.Up;
        req = NewRequest(name);
        var mtu = Ioctl(fd, SIOCGIFMTU, &req) == 0 ? req.Mtu : 0;
        return new PortCondition { Link = link, Mtu = mtu, OpenedMtu = openedMtu, OffloadsOn = ReceiveOffloadsOn(fd, name) };
    }

    /// <summary>"gro", "lro", "gro lro" or null: the offloads that merge received frames beyond the MTU.</summary>
    public static string? ReceiveOffloadsOn(int fd, string name)
    {
        var gro = Ethtool(fd, name, ETHTOOL_GGRO) is { } g && g != 0;
        var lro = Ethtool(fd, name, ETHTOOL_GFLAGS) is { } f && (f & EthFlagLro) != 0;
        return (gro, lro) switch
        {
            (true, true) => "gro lro",
            (true, false) => "gro",
            (false, true) => "lro",
            _ => null,
        };
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for <paramref name="fd"/> to be writable; false on timeout.</summary>
    public static bool WaitWritable(int fd, int timeoutMs)
    {
        var pfd = new PollFd { Fd = fd, Events = PollOut };
        return Poll(&pfd, 1, timeoutMs) > 0 && (pfd.Revents & PollOut) != 0;
    }

    private static uint? Ethtool(int fd, string name, uint cmd)
    {
        var value = new EthtoolValue { Cmd = cmd };
        var req = NewRequest(name);

        // SAFETY: value lives on this stack frame for the duration of the synchronous ioctl that reads and writes it.
        req.Data = (nint)(&value);
        return Ioctl(fd, SIOCETHTOOL, &req) == 0 ? value.Data : null;
    }

    private static IfReq NewRequest(string name)
    {
        var req = default(IfReq);
        var bytes = new Span<byte>(&req, 15);
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), bytes);
        return req;
    }
}
