using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Appliance.TestSupport.Netns;

/// <summary>
/// Network namespaces and veth pairs made for one test and always removed (Dispose deletes every namespace, veth
/// and process it made, even after a failure). Names carry a random suffix so parallel runs never collide, and
/// stay within the 15-character interface name limit. The namespaces get no route out: tests may reach only
/// addresses configured inside them (use documentation ranges).
/// </summary>
public sealed class NetnsLab : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _rootLinks = [];
    private readonly List<Process> _processes = [];
    private readonly Lock _gate = new();
    private int _vethCount;

    public NetnsLab(string prefix = "cf")
    {
        if (prefix.Length > 4)
        {
            throw new ArgumentException("Keep the prefix to 4 characters so names fit 15.", nameof(prefix));
        }

        Prefix = prefix;
        Suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    }

    public string Prefix { get; }

    /// <summary>Random per lab (6 hex digits).</summary>
    public string Suffix { get; }

    /// <summary>Creates a namespace named <c>{prefix}{role}{suffix}</c> with loopback up and IPv6 off (no stray RS/DAD traffic).</summary>
    public string AddNamespace(string role)
    {
        var name = $"{Prefix}{role}{Suffix}";
        Ip("netns", "add", name);
        lock (_gate)
        {
            _namespaces.Add(name);
        }

        Exec(name, "ip", "link", "set", "lo", "up");
        Exec(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        Exec(name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        return name;
    }

    /// <summary>
    /// Creates a veth pair and moves each end into a namespace (null keeps it in the caller's namespace). Both ends
    /// come up. Returns the two interface names.
    /// </summary>
    public (string A, string B) AddVeth(string? namespaceA, string? namespaceB, string? macA = null, string? macB = null)
    {
        var n = Interlocked.Increment(ref _vethCount);
        var a = $"{Prefix}{Suffix}v{n}a";
        var b = $"{Prefix}{Suffix}v{n}b";
        Ip("link", "add", a, "type", "veth", "peer", "name", b);
        lock (_gate)
        {
            _rootLinks.Add(a);
        }

        Configure(a, namespaceA, macA);
        Configure(b, namespaceB, macB);
        return (a, b);
    }

    /// <summary>Runs a command inside <paramref name="ns"/> (null: here) and returns its stdout; throws with stderr on failure.</summary>
    public string Exec(string? ns, string file, params string[] args)
    {
        var (code, stdout, stderr) = TryExec(ns, file, args);
        return code == 0 ? stdout : throw new InvalidOperationException($"'{Describe(ns, file, args)}' failed ({code}): {stderr.Trim()}");
    }

    /// <summary>Runs a command inside <paramref name="ns"/> and returns exit code and output, without throwing.</summary>
    public (int ExitCode, string Stdout, string Stderr) TryExec(string? ns, string file, params string[] args)
        => TryExec(ns, TimeSpan.FromSeconds(30), file, args);

    /// <summary>As <see cref="TryExec(string?, string, string[])"/> with a time limit (the process is killed after it).</summary>
    public (int ExitCode, string Stdout, string Stderr) TryExec(string? ns, TimeSpan timeout, string file, params string[] args)
    {
        using var process = Process.Start(StartInfo(ns, file, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, stdout.GetAwaiter().GetResult(), $"timed out after {timeout.TotalSeconds} s");
        }

        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>Starts a long-running process inside <paramref name="ns"/>; it is killed on Dispose.</summary>
    public Process Start(string? ns, string file, params string[] args)
    {
        var process = Process.Start(StartInfo(ns, file, args))!;
        lock (_gate)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a fresh thread that has entered <paramref name="ns"/>: sockets it opens
    /// (libpcap handles included) stay in that namespace for life, wherever they are used afterwards.
    /// </summary>
    public static T InNamespace<T>(string ns, Func<T> action)
    {
        T? result = default;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/var/run/netns", ns));
                if (SetNs(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({ns}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = action();
            }
            catch (Exception ex)
            {
                error = ex;
            }
        });
        thread.Start();
        thread.Join();
        return error is null ? result! : throw new InvalidOperationException($"Action in namespace {ns} failed: {error.Message}", error);
    }

    public void Dispose()
    {
        List<Process> processes;
        List<string> namespaces;
        List<string> links;
        lock (_gate)
        {
            processes = [.. _processes];
            namespaces = [.. _namespaces];
            links = [.. _rootLinks];
        }

        foreach (var p in processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(2000);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }

            p.Dispose();
        }

        // Deleting a namespace deletes the veth ends in it and so their peers; links left here are deleted by name.
        foreach (var ns in namespaces)
        {
            TryExec(null, "ip", "netns", "delete", ns);
        }

        foreach (var link in links)
        {
            if (Directory.Exists(Path.Combine("/sys/class/net", link)))
            {
                TryExec(null, "ip", "link", "delete", link);
            }
        }
    }

    private void Configure(string link, string? ns, string? mac)
    {
        if (mac is not null)
        {
            Ip("link", "set", link, "address", mac);
        }

        if (ns is not null)
        {
            Ip("link", "set", link, "netns", ns);
        }

        Exec(ns, "ip", "link", "set", link, "up");
    }

    private void Ip(params string[] args) => Exec(null, "ip", args);

    private static ProcessStartInfo StartInfo(string? ns, string file, string[] args)
    {
        var psi = new ProcessStartInfo(ns is null ? file : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (ns is not null)
        {
            psi.ArgumentList.Add("netns");
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(ns);
            psi.ArgumentList.Add(file);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    private static string Describe(string? ns, string file, string[] args)
        => (ns is null ? "" : $"ip netns exec {ns} ") + file + " " + string.Join(' ', args);

    private const int CloneNewNet = 0x40000000;

    [DllImport("libc.so.6", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);
}
