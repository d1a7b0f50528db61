using System.Net;
using System.Net.Sockets;
using Appliance.Management.Client;

namespace Appliance.Lab;

/// <summary>
/// The appliance's management API as the lab reads it: the shared <see cref="ManagementClient"/>, with every
/// connection opened from inside the appliance's namespace (its API listens on that namespace's loopback; see
/// <see cref="LabNative.CreateTcpSocketIn"/>).
/// </summary>
internal static class LabApi
{
    /// <summary>A client for the API at <paramref name="endpoint"/> inside <paramref name="netns"/>.</summary>
    public static ManagementClient Create(string netns, IPEndPoint endpoint, string token, string tokenFile)
        => new(new ManagementClientOptions
        {
            BaseAddress = new Uri($"http://{endpoint}/"),
            Token = token,
            TokenSource = tokenFile,

            // The live view refreshes every second: a slow answer is shown as such rather than waited for.
            Timeout = TimeSpan.FromSeconds(3),
            Connect = async (context, ct) =>
            {
                var target = new IPEndPoint(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port);
                var socket = await LabNative.ConnectInAsync(netns, target, ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });

    /// <summary>True when the appliance answers its health check with 200 (healthy or degraded).</summary>
    public static async Task<bool> IsHealthyAsync(this ManagementClient client, CancellationToken ct)
    {
        try
        {
            return (await client.HealthAsync(ct).ConfigureAwait(false)).IsSuccess;
        }
        catch (ManagementClientException)
        {
            return false;
        }
    }
}
