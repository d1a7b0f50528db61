using System.Diagnostics;
using System.Text;
using Appliance.TestSupport;

namespace Appliance.Package.Tests;

/// <summary>
/// A Debian userland booted with systemd as PID 1 by <c>systemd-nspawn --register=no --keep-unit -b</c>, never against
/// the host's root: the cached root file system is mounted read-only under a tmpfs overlay (<c>--volatile=overlay</c>),
/// so every boot starts from the same clean system and leaves the cache untouched. The container lives in a network
/// namespace the test made (its bridge ports), and commands run inside it through <c>nsenter</c> into its PID 1's
/// namespaces (no machined registration here). Dispose halts it, and kills it if it does not halt.
/// </summary>
internal sealed class BootedContainer : IDisposable
{
    private static readonly string[] Path = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", "COLUMNS=200", "TERM=dumb", "DEBIAN_FRONTEND=noninteractive"];
    private readonly Process _nspawn;
    private readonly StringBuilder _console = new();
    private readonly Lock _gate = new();

    private BootedContainer(Process nspawn, int leader)
    {
        _nspawn = nspawn;
        Leader = leader;
    }

    /// <summary>The container's PID 1 (systemd) as the host sees it.</summary>
    public int Leader { get; }

    /// <summary>What the container printed on its console (boot messages), for failure reports.</summary>
    public string Console
    {
        get
        {
            lock (_gate)
            {
                return _console.ToString();
            }
        }
    }

    /// <summary>Boots <paramref name="root"/> in <paramref name="netns"/> with <paramref name="packages"/> bound read-only at /mnt/packages; returns once systemd says the system is up.</summary>
    public static BootedContainer Boot(string root, string netns, string packages)
    {
        var psi = new ProcessStartInfo("systemd-nspawn")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--register=no", "--keep-unit", "--boot", "--quiet", "--directory", root, "--volatile=overlay",
            "--network-namespace-path", $"/run/netns/{netns}", "--bind-ro", $"{packages}:/mnt/packages",
            "--console=read-only", "--machine", $"camfw-{netns}",
            // A real box's systemd holds every capability and may call bpf(2); nspawn keeps CAP_NET_ADMIN and CAP_BPF
            // and that call from a container unless asked. camfw needs the first (links up, offloads off) as it would
            // on the box, and the others with its XDP fast path (the unit grants them only with its drop-in).
            "--capability=CAP_NET_ADMIN,CAP_BPF",
            "--system-call-filter=bpf",
        })
        {
            psi.ArgumentList.Add(a);
        }

        var nspawn = Process.Start(psi)!;
        nspawn.StandardInput.Close();
        BootedContainer? container = null;
        var console = new StringBuilder();
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (container is null)
            {
                lock (console)
                {
                    console.AppendLine(line);
                }
            }
            else
            {
                lock (container._gate)
                {
                    container._console.AppendLine(line);
                }
            }
        }

        nspawn.OutputDataReceived += (_, e) => Append(e.Data);
        nspawn.ErrorDataReceived += (_, e) => Append(e.Data);
        nspawn.BeginOutputReadLine();
        nspawn.BeginErrorReadLine();

        int leader = 0;
        var found = Eventually.Holds(() =>
        {
            leader = FindLeader(nspawn.Id);
            return leader != 0 || nspawn.HasExited;
        }, TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(100));
        if (!found || leader == 0)
        {
            Kill(nspawn, 0);
            throw new InvalidOperationException($"systemd-nspawn did not start a container: {console}");
        }

        container = new BootedContainer(nspawn, leader);
        lock (console)
        {
            container._console.Append(console);
        }

        try
        {
            // "running" or "degraded" (a unit that cannot work in a container failed): the boot has finished.
            string state = "";
            var up = Eventually.Holds(() =>
            {
                state = container.Run("systemctl", "is-system-running").Stdout.Trim();
                return state is "running" or "degraded" || nspawn.HasExited;
            }, TimeSpan.FromSeconds(90), every: TimeSpan.FromMilliseconds(500));
            if (!up || nspawn.HasExited)
            {
                throw new InvalidOperationException($"the container did not finish booting (state '{state}'): {container.Console}");
            }
        }
        catch
        {
            container.Dispose();
            throw;
        }

        return container;
    }

    /// <summary>Runs a command inside the container as root, with a clean environment; never throws on failure.</summary>
    public (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, string? stdin, params string[] command)
        => Shell.Run(timeout, "nsenter", ["--target", Leader.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd=/", "--", "/usr/bin/env", "-i", .. Path, .. command], stdin);

    public (int ExitCode, string Stdout, string Stderr) Run(params string[] command) => Run(TimeSpan.FromSeconds(60), null, command);

    /// <summary>Runs a command inside the container; throws with its output when it fails.</summary>
    public string Check(params string[] command) => Check(TimeSpan.FromSeconds(120), command);

    public string Check(TimeSpan timeout, params string[] command)
    {
        var (code, stdout, stderr) = Run(timeout, null, command);
        return code == 0 ? stdout : throw new InvalidOperationException($"in the container, '{string.Join(' ', command)}' failed ({code}):\n{stderr.Trim()}\n{stdout.Trim()}");
    }

    /// <summary>A shell command line inside the container (for pipes and redirections).</summary>
    public string Sh(string script, string? stdin = null)
    {
        var (code, stdout, stderr) = Run(TimeSpan.FromSeconds(120), stdin, "sh", "-c", script);
        return code == 0 ? stdout : throw new InvalidOperationException($"in the container, '{script}' failed ({code}):\n{stderr.Trim()}\n{stdout.Trim()}");
    }

    /// <summary>One property of a unit (<c>systemctl show -P</c>).</summary>
    public string Property(string unit, string property) => Check("systemctl", "show", "-P", property, unit).Trim();

    public void Dispose()
    {
        Kill(_nspawn, Leader);
        _nspawn.Dispose();
    }

    private static void Kill(Process nspawn, int leader)
    {
        try
        {
            if (!nspawn.HasExited)
            {
                // SIGTERM asks systemd-nspawn to halt a booted container cleanly (it signals PID 1 SIGRTMIN+3).
                Shell.Run(TimeSpan.FromSeconds(5), "kill", ["-TERM", nspawn.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                if (!nspawn.WaitForExit(TimeSpan.FromSeconds(30)))
                {
                    nspawn.Kill(entireProcessTree: true);
                    nspawn.WaitForExit(TimeSpan.FromSeconds(10));
                }
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        // Killing PID 1 of a PID namespace kills everything in it; harmless when it is gone already.
        if (leader != 0 && Directory.Exists($"/proc/{leader}"))
        {
            Shell.Run(TimeSpan.FromSeconds(5), "kill", ["-KILL", leader.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
    }

    /// <summary>systemd-nspawn's child that runs in a PID namespace of its own: the container's PID 1.</summary>
    private static int FindLeader(int nspawn)
    {
        try
        {
            var ours = File.ResolveLinkTarget("/proc/self/ns/pid", returnFinalTarget: false)?.ToString();
            foreach (var task in Directory.EnumerateDirectories($"/proc/{nspawn}/task"))
            {
                foreach (var child in File.ReadAllText(System.IO.Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var ns = File.ResolveLinkTarget($"/proc/{child}/ns/pid", returnFinalTarget: false)?.ToString();
                    var comm = File.ReadAllText($"/proc/{child}/comm").Trim();
                    if (ns is not null && ns != ours && comm == "systemd")
                    {
                        return int.Parse(child, System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the process is starting or gone: look again
        }

        return 0;
    }
}
