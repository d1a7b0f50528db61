using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Appliance.TestSupport;

namespace Appliance.Host.Tests.Hosting;

/// <summary>A Unix datagram socket standing in for systemd's notify socket; collects every message.</summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="name">A file path, or <c>@name</c> for the abstract namespace.</param>
    public NotifySocket(string name)
    {
        Name = name;
        _socket.Bind(new UnixDomainSocketEndPoint(name[0] == '@' ? "\0" + name[1..] : name));
        _loop = Task.Run(ReceiveAsync);
    }

    public string Name { get; }

    public ConcurrentQueue<string> Messages { get; } = new();

    public async Task<string> WaitForAsync(string prefix, TimeSpan timeout)
    {
        string? hit = null;
        await Eventually.HoldsAsync(() => (hit = Messages.FirstOrDefault(m => m.StartsWith(prefix, StringComparison.Ordinal) || m.Contains("\n" + prefix, StringComparison.Ordinal))) is not null, timeout);
        return hit ?? throw new TimeoutException($"no '{prefix}' on the notify socket; got: {string.Join(" | ", Messages)}");
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
        if (Name[0] != '@')
        {
            File.Delete(Name);
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                Messages.Enqueue(Encoding.UTF8.GetString(buffer, 0, n));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }
}
