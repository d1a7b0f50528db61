using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Core;
using Appliance.Core.Policy;

namespace Appliance.Learn;

/// <summary>
/// Learn mode's summary as the state directory keeps it (<c>learn-summary.json</c>), so what a week of learning
/// found survives a restart. Written atomically (a temporary file, flushed, renamed over the old one). Read
/// defensively: a file that is too large, not JSON, of another version or with one bad entry is refused whole with a
/// reason (the caller reports it and starts afresh), never an exception.
/// </summary>
public static class LearnSummaryFile
{
    /// <summary>The file's name in the state directory.</summary>
    public const string FileName = "learn-summary.json";

    private const int FormatVersion = 1;

    /// <summary>Bounds what a (possibly hostile) file can make the appliance read; the learner's own bounds apply after.</summary>
    private const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>Writes <paramref name="summary"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, LearnSnapshot summary)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(summary);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var file = new SummaryFile(
            FormatVersion,
            [.. summary.Devices.Select(d => new DeviceRecord(
                d.Key.ToString(),
                d.Key.HasMac,
                [.. d.Addresses.Select(a => new AddressRecord(a.Address.ToString(), a.Frames))],
                d.Frames,
                d.Bytes,
                d.FirstMs,
                d.LastMs,
                d.UsedDhcp,
                (int)d.Discovery))],
            [.. summary.Services.Select(s => new ServiceRecord(
                s.Device.ToString(),
                s.Direction == Direction.Egress ? "egress" : "ingress",
                (int)s.Protocol,
                s.Port,
                s.Peer.ToString(),
                s.Name,
                s.Connections,
                s.Incomplete,
                s.MidStream,
                s.MaxPacketsPerConnection,
                s.MaxDurationMs,
                s.Packets,
                s.Bytes,
                s.FirstMs,
                s.LastMs))],
            new CounterRecord(summary.Counters.ServicesEvicted, summary.Counters.DevicesEvicted, summary.Counters.NotesLost));
        var bytes = JsonSerializer.SerializeToUtf8Bytes(file, LearnSummaryJson.Default.SummaryFile);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Reads the summary at <paramref name="path"/>. Null with <paramref name="error"/> null when there is no file;
    /// null with a reason when the file cannot be used (nothing of it is taken).
    /// </summary>
    public static LearnSnapshot? Load(string path, out string? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        error = null;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return null;
            }

            if (info.Length > MaxBytes)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"{info.Length} bytes is more than {MaxBytes}");
                return null;
            }

            var file = JsonSerializer.Deserialize(File.ReadAllBytes(path), LearnSummaryJson.Default.SummaryFile);
            if (file is null || file.Version != FormatVersion || file.Devices is null || file.Services is null)
            {
                error = "not a version 1 learn summary";
                return null;
            }

            return Convert(file, out error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            error = e.Message;
            return null;
        }
    }

    private static LearnSnapshot? Convert(SummaryFile file, out string? error)
    {
        error = null;
        var devices = new List<LearnedDevice>(file.Devices!.Count);
        foreach (var d in file.Devices!)
        {
            if (d is null || !TryKey(d.Key, d.ByMac, out var key) || d.Addresses is null || d.Discovery is < 0 or > 7)
            {
                error = $"device '{d?.Key}' is incomplete or malformed";
                return null;
            }

            var addresses = new List<(IPAddress, long)>(d.Addresses.Count);
            foreach (var a in d.Addresses)
            {
                if (a is null || !IPAddress.TryParse(a.Address, out var address))
                {
                    error = $"device '{d.Key}' has a malformed address";
                    return null;
                }

                addresses.Add((address, a.Frames));
            }

            devices.Add(new LearnedDevice
            {
                Key = key,
                Addresses = addresses,
                Frames = d.Frames,
                Bytes = d.Bytes,
                FirstMs = d.FirstMs,
                LastMs = d.LastMs,
                UsedDhcp = d.UsedDhcp,
                Discovery = (DiscoveryProtocols)d.Discovery,
            });
        }

        var known = devices.Select(d => d.Key).ToHashSet();
        var services = new List<LearnedService>(file.Services!.Count);
        foreach (var s in file.Services!)
        {
            if (s is null || !TryDevice(s.Device, known, out var device) || s.Direction is not ("egress" or "ingress")
                || s.Protocol is not (1 or 6 or 17 or 58) || s.Port is < 0 or > 65535 || !IPAddress.TryParse(s.Peer, out var peer)
                || s.Connections < 0 || s.Incomplete < 0 || s.Packets < 0 || s.Bytes < 0)
            {
                error = $"service of '{s?.Device}' to '{s?.Peer}' is incomplete or malformed";
                return null;
            }

            services.Add(new LearnedService
            {
                Device = device,
                Direction = s.Direction == "egress" ? Direction.Egress : Direction.Ingress,
                Protocol = (RuleProtocol)s.Protocol,
                Port = (ushort)s.Port,
                Peer = peer,
                Name = s.Name,
                Connections = s.Connections,
                Incomplete = s.Incomplete,
                MidStream = s.MidStream,
                MaxPacketsPerConnection = s.MaxPacketsPerConnection,
                MaxDurationMs = s.MaxDurationMs,
                Packets = s.Packets,
                Bytes = s.Bytes,
                FirstMs = s.FirstMs,
                LastMs = s.LastMs,
            });
        }

        var counters = file.Counters ?? new CounterRecord(0, 0, 0);
        return new LearnSnapshot(devices, services, new LearnCounters
        {
            ServicesEvicted = counters.ServicesEvicted,
            DevicesEvicted = counters.DevicesEvicted,
            NotesLost = counters.NotesLost,
        });
    }

    private static bool TryDevice(string? text, HashSet<DeviceKey> known, out DeviceKey key)
    {
        key = default;
        return text is not null
            && ((MacAddress.TryParse(text, out var mac) && known.Contains(key = new DeviceKey(mac, default)))
                || (IPAddress.TryParse(text, out var ip) && known.Contains(key = new DeviceKey(default, IpAddr.FromIPAddress(ip)))));
    }

    private static bool TryKey(string? text, bool byMac, out DeviceKey key)
    {
        key = default;
        if (text is null)
        {
            return false;
        }

        if (byMac)
        {
            if (!MacAddress.TryParse(text, out var mac) || mac.Value == 0)
            {
                return false;
            }

            key = new DeviceKey(mac, default);
            return true;
        }

        if (!IPAddress.TryParse(text, out var ip))
        {
            return false;
        }

        key = new DeviceKey(default, IpAddr.FromIPAddress(ip));
        return true;
    }

    internal sealed record SummaryFile(int Version, List<DeviceRecord>? Devices, List<ServiceRecord>? Services, CounterRecord? Counters);

    internal sealed record DeviceRecord(string Key, bool ByMac, List<AddressRecord>? Addresses, long Frames, long Bytes, long FirstMs, long LastMs, bool UsedDhcp, int Discovery);

    internal sealed record AddressRecord(string Address, long Frames);

    internal sealed record ServiceRecord(
        string Device,
        string Direction,
        int Protocol,
        int Port,
        string Peer,
        string? Name,
        long Connections,
        long Incomplete,
        long MidStream,
        long MaxPacketsPerConnection,
        long MaxDurationMs,
        long Packets,
        long Bytes,
        long FirstMs,
        long LastMs);

    internal sealed record CounterRecord(long ServicesEvicted, long DevicesEvicted, long NotesLost);
}

[JsonSerializable(typeof(LearnSummaryFile.SummaryFile))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class LearnSummaryJson : JsonSerializerContext;
