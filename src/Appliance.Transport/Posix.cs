using System.Runtime.InteropServices;

namespace Appliance.Transport;

/// <summary>The one libc call the data plane needs: poll(2) on the two ports' selectable descriptors.</summary>
internal static partial class Posix
{
    public const short PollIn = 0x001;
    public const int EINTR = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc.so.6", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int PollNative(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>Waits until one descriptor is readable or the timeout passes; EINTR counts as a timeout.</summary>
    public static unsafe int Poll(Span<PollFd> fds, int timeoutMs)
    {
        // SAFETY: the span is pinned for the duration of the call and poll(2) writes only the revents fields of
        // the fds.Length entries it is given.
        fixed (PollFd* p = fds)
        {
            var rc = PollNative(p, (nuint)fds.Length, timeoutMs);
            if (rc < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                {
                    return 0;
                }

                throw new PacketPortException($"poll() failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            }

            return rc;
        }
    }
}
