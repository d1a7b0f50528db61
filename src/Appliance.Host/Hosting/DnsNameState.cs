using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Hosting;

/// <summary>
/// One learned mapping as the state file keeps it: by camera name (slots are renumbered at start). A mapping that a name
/// rule may admit through (taught by an answer to an admitted query) also keeps how long it may, and what it was asked
/// of whom (resolver, transport, question) so that the policy in force after the restart judges it again; one without
/// (<see cref="AdmitsMs"/> absent, as in files written before these fields) names the peer in reports and admits nothing.
/// </summary>
internal sealed record DnsNameRecord(
    string Camera,
    string Name,
    string Address,
    long RemainingMs,
    long? AdmitsMs = null,
    string? Resolver = null,
    string? Transport = null,
    string? Question = null);

/// <summary>
/// The state file of the cameras' learned DNS names (<c>dns-names.json</c> in the state directory), per bridge pair.
/// Written atomically (a temporary file renamed over the old one); a file that cannot be read or parsed is ignored with a
/// log line, never a failed start: the cameras re-learn their names from their next answers.
/// </summary>
internal static class DnsNameStateFile
{
    public const string FileName = "dns-names.json";

    private const int FormatVersion = 1;

    /// <summary>Bounds what a (possibly hostile) file can make the appliance allocate.</summary>
    private const long MaxBytes = 64L * 1024 * 1024;

    public static Dictionary<string, List<DnsNameRecord>> Load(string path, ILogger logger)
    {
        var empty = new Dictionary<string, List<DnsNameRecord>>(StringComparer.Ordinal);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return empty;
            }

            if (info.Length > MaxBytes)
            {
                HostLog.DnsNameStateIgnored(logger, path, $"{info.Length} bytes is more than {MaxBytes}");
                return empty;
            }

            var file = JsonSerializer.Deserialize(File.ReadAllBytes(path), DnsNameStateJson.Default.StateFile);
            if (file is null || file.Version != FormatVersion || file.Pairs is null)
            {
                HostLog.DnsNameStateIgnored(logger, path, "not a version 1 state file");
                return empty;
            }

            foreach (var (pair, records) in file.Pairs)
            {
                if (records is null || records.Exists(r => r is null || r.Camera is null || r.Name is null || !IPAddress.TryParse(r.Address, out _)))
                {
                    HostLog.DnsNameStateIgnored(logger, path, $"pair '{pair}' has an incomplete entry");
                    return empty;
                }
            }

            return new Dictionary<string, List<DnsNameRecord>>(file.Pairs!, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            HostLog.DnsNameStateIgnored(logger, path, e.Message);
            return empty;
        }
    }

    public static void Save(string path, IReadOnlyDictionary<string, List<DnsNameRecord>> pairs)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new StateFile(FormatVersion, new Dictionary<string, List<DnsNameRecord>>(pairs)), DnsNameStateJson.Default.StateFile);
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>What an engine has learned, by camera name (cameras no longer in <paramref name="policy"/> are left out).</summary>
    public static List<DnsNameRecord> Export(PacketEngine engine, CompiledPolicy? policy, long nowMs)
    {
        var result = new List<DnsNameRecord>();
        if (policy is null)
        {
            return result;
        }

        foreach (var learned in engine.DnsNames.Snapshot(nowMs))
        {
            if (learned.RemainingMs > 0 && policy.TryGetCameraBySlot(learned.CameraSlot, out var camera))
            {
                // A lapsed admission that a live flow kept ends with the process (its flows do).
                result.Add(learned.AdmitsRemainingMs is > 0 and var admits
                    ? new DnsNameRecord(camera.Name, learned.Name, learned.Address.ToString(), learned.RemainingMs, admits,
                        learned.Resolver.ToString(), learned.Protocol == IpProtocols.Tcp ? "tcp" : "udp", learned.Question)
                    : new DnsNameRecord(camera.Name, learned.Name, learned.Address.ToString(), learned.RemainingMs));
            }
        }

        return result;
    }

    /// <summary>
    /// Teaches a new engine what the file kept for its pair: before its data plane starts, on the starting thread (the
    /// table's only writer until then). Entries for cameras not in <paramref name="policy"/> are skipped. Admitting
    /// mappings come back with their source and no policy version, so the first lookup judges them under the policy in
    /// force (questions first, so that CNAME targets can point at theirs; a target whose question is not held cannot pass
    /// a query filter again).
    /// </summary>
    public static int Import(PacketEngine engine, CompiledPolicy? policy, IEnumerable<DnsNameRecord> records, long nowMs)
    {
        var count = 0;
        if (policy is null)
        {
            return 0;
        }

        Span<byte> name = stackalloc byte[DnsNameTable.NameCell];
        Span<byte> question = stackalloc byte[DnsNameTable.NameCell];
        foreach (var r in records.OrderBy(r => r.Question is null || r.Question == r.Name ? 0 : 1))
        {
            if (r.RemainingMs <= 0 || !policy.TryGetCamera(r.Camera, out var camera) || !IPAddress.TryParse(r.Address, out var address)
                || !DnsNamePattern.TryParse(r.Name, out var parsed, out _) || parsed!.IsWildcard)
            {
                continue;
            }

            var length = System.Text.Encoding.ASCII.GetBytes(parsed.Text, name);
            var source = DnsAnswerSource.NotAdmitted;
            if (r.AdmitsMs is > 0 && IPAddress.TryParse(r.Resolver, out var resolver) && r.Transport is "udp" or "tcp")
            {
                // -1: the name is its own question; -2: the question is not known (a query filter never passes it).
                var q = r.Question == r.Name ? -1
                    : r.Question is not null && DnsNamePattern.TryParse(r.Question, out var asked, out _) && !asked!.IsWildcard
                        ? engine.DnsNames.FindName(camera.Slot, question[..System.Text.Encoding.ASCII.GetBytes(asked.Text, question)])
                        : -2;
                q = q == -1 && r.Question != r.Name ? -2 : q;

                source = new DnsAnswerSource(true, IpAddr.FromIPAddress(resolver), r.Transport == "tcp" ? IpProtocols.Tcp : IpProtocols.Udp,
                    Question: q, QuestionGeneration: engine.DnsNames.GenerationOf(q));
            }

            var ip = IpAddr.FromIPAddress(address);
            if (source.Admitted)
            {
                // The admission lapses when the file said, the name (for reports) when it said.
                engine.DnsNames.Learn(camera.Slot, name[..length], ip, nowMs + r.AdmitsMs!.Value, nowMs, in source);
            }

            engine.DnsNames.Learn(camera.Slot, name[..length], ip, nowMs + r.RemainingMs, nowMs, DnsAnswerSource.NotAdmitted);
            count++;
        }

        return count;
    }

    internal sealed record StateFile(int Version, Dictionary<string, List<DnsNameRecord>>? Pairs);
}

[JsonSerializable(typeof(DnsNameStateFile.StateFile))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class DnsNameStateJson : JsonSerializerContext;

/// <summary>
/// Writes the learned names to the state directory every <see cref="Interval"/> and at stop, off the data path (a
/// snapshot read under each entry's sequence counter). Registered after the data planes, so it stops first, while
/// they still run.
/// </summary>
internal sealed class DnsNameStateService(
    DataPlaneService planes,
    PolicyHolder policies,
    IOptions<Appliance.Management.Policies.PolicyServiceOptions> options,
    ILogger<DnsNameStateService> logger) : BackgroundService
{
    /// <summary>How often the file is rewritten while running.</summary>
    internal static TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    public string Path => System.IO.Path.Combine(options.Value.StateDirectory, DnsNameStateFile.FileName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                SaveNow();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        SaveNow();
    }

    /// <summary>Writes the file now; a failure is logged, never thrown (the names are a cache, not the policy).</summary>
    public void SaveNow()
    {
        try
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var policy = policies.Current;
            var pairs = new Dictionary<string, List<DnsNameRecord>>(StringComparer.Ordinal);
            foreach (var pair in planes.Pairs)
            {
                pairs[pair.Settings.EffectiveName] = DnsNameStateFile.Export(pair.Engine, policy, now);
            }

            if (pairs.Count > 0)
            {
                DnsNameStateFile.Save(Path, pairs);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HostLog.DnsNameStateSaveFailed(logger, Path, e.Message);
        }
    }
}
