using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Host.Hosting;

/// <summary>
/// sd_notify(3), hand-written: one datagram per state change to the Unix socket named by <c>NOTIFY_SOCKET</c>
/// (a path, or <c>@name</c> for the abstract namespace). Without <c>NOTIFY_SOCKET</c> (not started by systemd with
/// <c>Type=notify</c>) every call is a no-op.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;
    private readonly Lock _gate = new();

    public SystemdNotifier(string? notifySocket)
    {
        SocketName = notifySocket;
        if (string.IsNullOrEmpty(notifySocket) || !OperatingSystem.IsLinux())
        {
            return;
        }

        // '@' marks the abstract namespace; on the wire it is a leading NUL byte.
        var path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        _endpoint = new UnixDomainSocketEndPoint(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>From the process environment.</summary>
    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public string? SocketName { get; }

    public bool IsEnabled => _socket is not null;

    /// <summary>
    /// Half of <c>WATCHDOG_USEC</c> (systemd's advice), or null when the watchdog is off or meant for another process
    /// (<c>WATCHDOG_PID</c> set to a different pid).
    /// </summary>
    public static TimeSpan? WatchdogInterval(string? watchdogUsec, string? watchdogPid, int pid)
    {
        if (string.IsNullOrEmpty(watchdogUsec) || !ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec == 0)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(watchdogPid) && (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out var target) || target != pid))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(usec / 2);
    }

    /// <summary>Sends one state message, e.g. <c>READY=1\nSTATUS=...</c>. False when disabled or the send failed.</summary>
    public bool Notify(string state, out string? error)
    {
        error = null;
        if (_socket is null)
        {
            return false;
        }

        try
        {
            lock (_gate)
            {
                _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endpoint!);
            }

            return true;
        }
        catch (SocketException e)
        {
            error = e.Message;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>STATUS= text must be one line.</summary>
    public static string Status(string text) => "STATUS=" + text.Replace('\n', ' ');

    public void Dispose() => _socket?.Dispose();
}
