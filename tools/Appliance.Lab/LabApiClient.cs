using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Appliance.Management.Api;

namespace Appliance.Lab;

/// <summary>
/// Reads the appliance's management API, which listens on the loopback of the appliance's namespace: every
/// connection is opened from inside that namespace (see <see cref="LabNative.CreateTcpSocketIn"/>).
/// </summary>
internal sealed class LabApiClient : IDisposable
{
    private readonly HttpClient _http;

    public LabApiClient(string netns, Uri baseAddress, string token)
    {
#pragma warning disable CA2000 // The HttpClient owns the handler (disposeHandler: true).
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var endpoint = new IPEndPoint(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port);
                var socket = await LabNative.ConnectInAsync(netns, endpoint, ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            },
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        };
#pragma warning restore CA2000
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(3) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("api/v1/health", UriKind.Relative), ct).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task<CamerasDto?> CamerasAsync(CancellationToken ct)
        => await GetAsync("api/v1/cameras", ManagementJsonContext.Default.CamerasDto, ct).ConfigureAwait(false);

    public async Task<EventsDto?> EventsAsync(int limit, CancellationToken ct)
        => await GetAsync("api/v1/events?limit=" + limit.ToString(CultureInfo.InvariantCulture), ManagementJsonContext.Default.EventsDto, ct).ConfigureAwait(false);

    public async Task<HealthDto?> HealthAsync(CancellationToken ct)
        => await GetAsync("api/v1/health", ManagementJsonContext.Default.HealthDto, ct).ConfigureAwait(false);

    /// <summary>Frames by reason name, from <c>camfw_frames_by_reason_total</c> in <c>/metrics</c>.</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReasonsAsync(CancellationToken ct)
    {
        var text = await _http.GetStringAsync(new Uri("metrics", UriKind.Relative), ct).ConfigureAwait(false);
        return ParseReasons(text);
    }

    /// <summary>Parses the per-reason counter lines of a Prometheus text exposition.</summary>
    public static IReadOnlyDictionary<string, long> ParseReasons(string exposition)
    {
        const string Metric = "camfw_frames_by_reason_total{";
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(Metric, StringComparison.Ordinal))
            {
                continue;
            }

            var reasonAt = line.IndexOf("reason=\"", StringComparison.Ordinal);
            var close = line.LastIndexOf('}');
            if (reasonAt < 0 || close < 0)
            {
                continue;
            }

            var start = reasonAt + "reason=\"".Length;
            var end = line.IndexOf('"', start);
            if (end > start && long.TryParse(line.AsSpan(close + 1).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
            {
                var reason = line[start..end];
                result[reason] = result.GetValueOrDefault(reason) + count;
            }
        }

        return result;
    }

    private async Task<T?> GetAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await JsonSerializer.DeserializeAsync(stream, type, ct).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();
}
