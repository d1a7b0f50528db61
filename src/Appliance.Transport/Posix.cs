using System.Runtime.InteropServices;

namespace Appliance.Transport;

/// <summary>
/// The libc calls the data plane needs: poll(2) on the two ports' selectable descriptors, and the CPU affinity of its
/// thread (sched_setaffinity(2), <see cref="CpuSet"/>).
/// </summary>
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

    [LibraryImport("libc.so.6", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static unsafe partial int SchedSetAffinity(int pid, nuint size, byte* mask);

    [LibraryImport("libc.so.6", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static unsafe partial int SchedGetAffinity(int pid, nuint size, byte* mask);

    /// <summary>Sets the calling thread's CPU mask (pid 0: the caller itself); 0 or -1 with errno.</summary>
    public static unsafe int SetAffinity(ReadOnlySpan<byte> mask)
    {
        // SAFETY: the span is pinned for the call; the kernel reads mask.Length bytes.
        fixed (byte* m = mask)
        {
            return SchedSetAffinity(0, (nuint)mask.Length, m);
        }
    }

    /// <summary>Reads the calling thread's CPU mask; 0 or -1 with errno.</summary>
    public static unsafe int GetAffinity(Span<byte> mask)
    {
        // SAFETY: the span is pinned for the call; the kernel writes at most mask.Length bytes. The glibc wrapper
        // returns 0 on success (the raw system call returns the size it copied).
        fixed (byte* m = mask)
        {
            return SchedGetAffinity(0, (nuint)mask.Length, m);
        }
    }
}
