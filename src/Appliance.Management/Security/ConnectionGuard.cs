using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Appliance.Management.Security;

/// <summary>
/// Kestrel connection middleware of one management listener (<c>ListenOptions.Use</c>): takes a slot from the
/// listener's <see cref="ConnectionLimiter"/> before any byte is parsed, closes a connection that has not authenticated
/// within the pre-authentication timeout (short keep-alive before authentication), and on the local socket records
/// the peer's kernel-reported credentials. Runs before TLS, so a handshake that never finishes holds a slot only until
/// the timeout.
/// </summary>
internal sealed class ConnectionGuard(ConnectionLimiter limiter, TimeSpan unauthenticatedTimeout, TimeProvider time, ILogger logger, bool localSocket)
{
    /// <summary>The listener's slots.</summary>
    public ConnectionLimiter Limiter => limiter;

    /// <summary>The middleware.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var address = localSocket ? IPAddress.None : Normalize((connection.RemoteEndPoint as IPEndPoint)?.Address);
        var slot = limiter.TryAcquire(address, () => connection.Abort(new ConnectionAbortedException("closed to make room: no request authenticated on it")));
        if (slot is null)
        {
            Log.ConnectionRefused(logger, localSocket ? "local socket" : address.ToString());
            return; // Kestrel closes a connection whose middleware returns.
        }

        try
        {
            if (localSocket)
            {
                // SO_PEERCRED: the uid the kernel recorded at connect(2); a client cannot choose it. Without it the
                // connection is not served at all (fail closed).
                if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
                {
                    return;
                }

                connection.Features.Set(UnixIdentity.PeerOf(socket));
            }

            connection.Features.Set(slot);
            await using var timer = time.CreateTimer(
                static state =>
                {
                    var (slot, connection) = ((ConnectionLimiter.Slot, ConnectionContext))state!;
                    if (!slot.IsAuthenticated)
                    {
                        connection.Abort(new ConnectionAbortedException("no authenticated request in time"));
                    }
                },
                (slot, connection),
                unauthenticatedTimeout,
                Timeout.InfiniteTimeSpan).ConfigureAwait(false);
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            slot.Release();
        }
    }

    private static IPAddress Normalize(IPAddress? address) => address is null ? IPAddress.None : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
