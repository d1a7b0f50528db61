using System.Net;
using System.Net.Sockets;

namespace Appliance.Lab;

/// <summary>
/// Makes the appliance's management API (on the loopback of its namespace) reachable from this machine's own
/// loopback, so an admin can use curl or a browser on the lab host as on a real box. Loopback to loopback only:
/// nothing outside the machine can reach it, and the bearer token is still required by the appliance.
/// </summary>
internal sealed class LabApiRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly string _netns;
    private readonly IPEndPoint _target;

    private LabApiRelay(TcpListener listener, string netns, IPEndPoint target)
    {
        _listener = listener;
        _netns = netns;
        _target = target;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The loopback port on this machine.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Listens on 127.0.0.1:<paramref name="preferredPort"/>, or any free port when that one is taken.</summary>
    public static LabApiRelay Start(int preferredPort, string netns, IPEndPoint target)
    {
        var listener = new TcpListener(IPAddress.Loopback, preferredPort);
        try
        {
            listener.Start();
        }
        catch (SocketException)
        {
            listener.Dispose();
            listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
        }

        return new LabApiRelay(listener, netns, target);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => PipeAsync(client));
        }
    }

    private async Task PipeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                using var upstream = await LabNative.ConnectInAsync(_netns, _target, _stop.Token).ConfigureAwait(false);
                using var a = new NetworkStream(client, ownsSocket: false);
                using var b = new NetworkStream(upstream, ownsSocket: false);
                var up = a.CopyToAsync(b, _stop.Token);
                var down = b.CopyToAsync(a, _stop.Token);
                await Task.WhenAny(up, down).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or LabException)
            {
                // The client, the appliance or the lab went away; the connection simply ends.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }
}
