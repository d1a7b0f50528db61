using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Appliance.TestSupport;

namespace Appliance.Syslog.Tests.Support;

/// <summary>How the test collector listens.</summary>
internal enum CollectorMode
{
    Udp,
    Tcp,
    Tls,
}

/// <summary>One message as rsyslog parsed it.</summary>
internal sealed record ReceivedMessage(
    int Pri,
    string Version,
    string AppName,
    string ProcId,
    string MsgId,
    string Hostname,
    string Timestamp,
    string Message,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> StructuredData,
    string Raw)
{
    /// <summary>The params of one SD-ID (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Sd(string sdId)
        => StructuredData.TryGetValue(sdId, out var p) ? p : new Dictionary<string, string>();
}

/// <summary>
/// A real rsyslogd on loopback, in the foreground with its own config and work directory in a temp dir. It
/// parses RFC 5424, extracts structured data with mmpstrucdata, and writes one JSON object per message to a
/// file the test reads. Stopped (SIGTERM, then SIGKILL) and its directory removed on dispose.
/// </summary>
internal sealed class RsyslogServer : IDisposable
{
    public const string RsyslogdPath = "/usr/sbin/rsyslogd";

    private readonly CollectorMode _mode;
    private readonly string _tlsAuthMode;
    private Process? _process;

    private RsyslogServer(CollectorMode mode, int port, string directory, TestPki? pki, string tlsAuthMode)
    {
        _mode = mode;
        Port = port;
        Directory = directory;
        Pki = pki;
        _tlsAuthMode = tlsAuthMode;
        OutputFile = Path.Combine(directory, "out.jsonl");
    }

    public int Port { get; }

    public string Directory { get; }

    public string OutputFile { get; }

    public TestPki? Pki { get; }

    /// <summary>Starts a collector. For TLS, <paramref name="tlsAuthMode"/> is gtls's StreamDriver.AuthMode.</summary>
    public static async Task<RsyslogServer> StartAsync(CollectorMode mode, string tlsAuthMode = "anon")
    {
        if (!File.Exists(RsyslogdPath))
        {
            throw new InvalidOperationException(
                $"{RsyslogdPath} is missing: these tests need a real rsyslog. Install the Debian packages rsyslog and rsyslog-gnutls (scripts/install-deps.sh).");
        }

        var directory = Path.Combine(Path.GetTempPath(), "camfw-rsyslog-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "work"));
        var server = new RsyslogServer(mode, FreePort(mode), directory, mode == CollectorMode.Tls ? TestPki.Create(directory) : null, tlsAuthMode);
        try
        {
            await server.StartProcessAsync();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Starts rsyslogd (again) on the same port and waits until it accepts messages.</summary>
    public async Task StartProcessAsync()
    {
        var conf = Path.Combine(Directory, "rsyslog.conf");
        File.WriteAllText(conf, Config());
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };

        // exec: the shell becomes rsyslogd, so the pid we hold is rsyslogd's; its chatter goes to a file.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec {RsyslogdPath} -n -f '{conf}' -i '{Path.Combine(Directory, "rsyslogd.pid")}' >>'{Path.Combine(Directory, "rsyslogd.log")}' 2>&1");
        _process = Process.Start(start) ?? throw new InvalidOperationException("cannot start rsyslogd");
        await WaitReadyAsync();
    }

    /// <summary>Stops rsyslogd gracefully (SIGTERM; or SIGKILL, a crash) and waits for it to exit.</summary>
    public async Task StopProcessAsync(bool graceful = true)
    {
        var p = _process;
        if (p is null)
        {
            return;
        }

        _process = null;
        if (!graceful && !p.HasExited)
        {
            p.Kill();
        }

        if (!p.HasExited)
        {
            using (var kill = Process.Start("/bin/kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill();
                p.WaitForExit();
            }
        }

        p.Dispose();
    }

    /// <summary>
    /// Every message received so far with APP-NAME <paramref name="appName"/>, except the generic host's own
    /// lifetime messages (category <c>Microsoft.*</c>), which the sink ships like any other.
    /// </summary>
    public IReadOnlyList<ReceivedMessage> Read(string appName = "camfw")
    {
        var result = new List<ReceivedMessage>();
        if (!File.Exists(OutputFile))
        {
            return result;
        }

        using var stream = new FileStream(OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || !line.EndsWith('}'))
            {
                continue; // a line rsyslog is still writing
            }

            var m = Parse(line);
            if (m.AppName == appName && !(m.Sd("camfw@32473").TryGetValue("category", out var category) && category.StartsWith("Microsoft.", StringComparison.Ordinal)))
            {
                result.Add(m);
            }
        }

        return result;
    }

    /// <summary>Polls the output until <paramref name="done"/> holds or the timeout passes; returns the last read.</summary>
    public async Task<IReadOnlyList<ReceivedMessage>> WaitForAsync(Func<IReadOnlyList<ReceivedMessage>, bool> done, TimeSpan timeout)
    {
        IReadOnlyList<ReceivedMessage> messages = [];
        await Eventually.HoldsAsync(() => done(messages = Read()), timeout, every: TimeSpan.FromMilliseconds(50));
        return messages;
    }

    public string Diagnostics() => File.Exists(Path.Combine(Directory, "rsyslogd.log")) ? File.ReadAllText(Path.Combine(Directory, "rsyslogd.log")) : "";

    public void Dispose()
    {
        try
        {
            // The test is over: no graceful stop (rsyslogd takes ~2 s for that), just make sure it is gone.
            var p = _process;
            _process = null;
            if (p is not null)
            {
                if (!p.HasExited)
                {
                    p.Kill();
                    p.WaitForExit();
                }

                p.Dispose();
            }
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a file still held open; the temp dir is unique, so nothing else is affected.
            }
        }
    }

    private static ReceivedMessage Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        string S(string name) => root.GetProperty(name).GetString() ?? "";
        var sd = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        var vars = S("vars");
        if (vars.Length > 0)
        {
            using var v = JsonDocument.Parse(vars);
            if (v.RootElement.TryGetProperty("rfc5424-sd", out var sdElement))
            {
                foreach (var id in sdElement.EnumerateObject())
                {
                    var p = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var param in id.Value.EnumerateObject())
                    {
                        p[param.Name] = param.Value.GetString() ?? "";
                    }

                    sd[id.Name] = p;
                }
            }
        }

        return new ReceivedMessage(
            int.Parse(S("pri"), CultureInfo.InvariantCulture), S("ver"), S("app"), S("procid"), S("msgid"), S("host"), S("ts"), S("msg"), sd, S("raw"));
    }

    private async Task WaitReadyAsync()
    {
        // A generous bound: the probe succeeds as soon as rsyslogd answers; a loaded CI machine can take tens of seconds to start it with TLS.
        var token = Guid.NewGuid().ToString("N");
        if (!await Eventually.HoldsAsync(() => AnswersAsync(token), TimeSpan.FromSeconds(60), every: TimeSpan.FromMilliseconds(50)))
        {
            throw new TimeoutException($"rsyslogd did not come up on port {Port}: {Diagnostics()}");
        }
    }

    private async Task<bool> AnswersAsync(string token)
    {
        if (_process!.HasExited)
        {
            throw new InvalidOperationException($"rsyslogd exited with {_process.ExitCode}: {Diagnostics()}");
        }

        if (_mode == CollectorMode.Udp)
        {
            // UDP has no handshake: send probes (another APP-NAME) until one comes out the other end.
            // The token tells this start's probe from an earlier one already in the output file.
            using var udp = new UdpClient();
            var probe = Encoding.ASCII.GetBytes("<14>1 - - probe - - - ready " + token);
            await udp.SendAsync(probe, new IPEndPoint(IPAddress.Loopback, Port));
            return Read("probe").Any(m => m.Message.EndsWith(token, StringComparison.Ordinal));
        }

        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false; // not listening yet
        }
    }

    private string Config()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"global(workDirectory=\"{Path.Combine(Directory, "work")}\" maxMessageSize=\"64k\"");
        if (Pki is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $" DefaultNetstreamDriverCAFile=\"{Pki.CaFile}\" DefaultNetstreamDriverCertFile=\"{Pki.ServerCertFile}\" DefaultNetstreamDriverKeyFile=\"{Pki.ServerKeyFile}\"");
        }

        sb.AppendLine(")");
        sb.AppendLine("module(load=\"mmpstrucdata\")");

        // One JSON object per line; the local variables ($!, where mmpstrucdata puts the SD) as an escaped string.
        sb.AppendLine("template(name=\"jsonl\" type=\"string\" string=\"{\\\"pri\\\":\\\"%pri%\\\",\\\"ver\\\":\\\"%protocol-version%\\\",\\\"app\\\":\\\"%app-name:::json%\\\",\\\"procid\\\":\\\"%procid:::json%\\\",\\\"msgid\\\":\\\"%msgid:::json%\\\",\\\"host\\\":\\\"%hostname:::json%\\\",\\\"ts\\\":\\\"%timereported:::date-rfc3339%\\\",\\\"vars\\\":\\\"%$!:::json%\\\",\\\"msg\\\":\\\"%msg:::json%\\\",\\\"raw\\\":\\\"%rawmsg:::json%\\\"}\\n\")");
        sb.AppendLine("ruleset(name=\"main\") {");
        sb.AppendLine("  action(type=\"mmpstrucdata\" sd_name.lowercase=\"off\")");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  action(type=\"omfile\" file=\"{OutputFile}\" template=\"jsonl\")");
        sb.AppendLine("}");
        switch (_mode)
        {
            case CollectorMode.Udp:
                sb.AppendLine("module(load=\"imudp\")");
                sb.AppendLine(CultureInfo.InvariantCulture, $"input(type=\"imudp\" address=\"127.0.0.1\" port=\"{Port}\" ruleset=\"main\")");
                break;
            case CollectorMode.Tcp:
                sb.AppendLine("module(load=\"imtcp\")");
                sb.AppendLine(CultureInfo.InvariantCulture, $"input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{Port}\" ruleset=\"main\")");
                break;
            case CollectorMode.Tls:
                sb.AppendLine(CultureInfo.InvariantCulture, $"module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"{_tlsAuthMode}\")");
                sb.AppendLine(CultureInfo.InvariantCulture, $"input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{Port}\" ruleset=\"main\")");
                break;
        }

        return sb.ToString();
    }

    private static int FreePort(CollectorMode mode)
    {
        if (mode == CollectorMode.Udp)
        {
            using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            return ((IPEndPoint)u.Client.LocalEndPoint!).Port;
        }

        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
