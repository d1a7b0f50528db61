using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Appliance.Lab;

/// <summary>The two libc calls the lab needs: entering a network namespace and signalling its own children.</summary>
internal static class LabNative
{
    public const int SigTerm = 15;
    public const int SigKill = 9;
    private const int CloneNewNet = 0x40000000;

    // Blittable signatures: DllImport needs no marshalling stub here, and LibraryImport would need unsafe code
    // enabled for the whole host project.
    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nsType);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Sends a signal; false when the process is already gone.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && Kill(pid, signal) == 0;

    /// <summary>True while a process with this pid exists (signal 0 probes without sending anything).</summary>
    public static bool IsAlive(int pid) => pid > 0 && (Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM */);

    /// <summary>
    /// Opens a TCP socket that lives in the named network namespace. A socket belongs to the namespace of the thread
    /// that created it, for its whole life; so a throwaway thread enters the namespace, creates the socket and
    /// exits, and no pooled thread (nor the rest of the process) ever changes namespace.
    /// </summary>
    public static Socket CreateTcpSocketIn(string netns)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/run/netns", netns), FileMode.Open, FileAccess.Read);
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    failure = new LabException($"cannot enter network namespace {netns}: errno {Marshal.GetLastPInvokeError()}");
                    return;
                }

                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "netns-socket",
        };
        thread.Start();
        thread.Join();
        return socket ?? throw (failure ?? new LabException($"cannot open a socket in {netns}"));
    }

    /// <summary>Connects to <paramref name="endpoint"/> as seen from inside <paramref name="netns"/>.</summary>
    public static async Task<Socket> ConnectInAsync(string netns, IPEndPoint endpoint, CancellationToken ct)
    {
        var socket = CreateTcpSocketIn(netns);
        try
        {
            await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
