using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Transport.LibPcap;

/// <summary>What <see cref="InterfacePreparation"/> found and changed on one port.</summary>
/// <param name="Name">The interface.</param>
/// <param name="Mtu">Its MTU.</param>
/// <param name="TurnedOff">Offload features that were on and are now off.</param>
/// <param name="AlreadyOff">Offload features that were off already.</param>
public sealed record PreparedInterface(string Name, int Mtu, IReadOnlyList<string> TurnedOff, IReadOnlyList<string> AlreadyOff);

/// <summary>
/// Makes two interfaces fit to be bridge ports, before any frame is forwarded: both exist and are up, their MTUs
/// are equal (a frame passed from one must fit the other), and receive/segmentation/checksum offloads are off.
/// With GRO/LRO on, the kernel hands the capture merged super-frames larger than the MTU that cannot be sent out
/// again; with TSO/GSO or checksum offload on, frames can leave unsegmented or with checksums still to be filled.
/// Every failure is a <see cref="PacketPortException"/> that names the interface and what to do.
/// </summary>
public static partial class InterfacePreparation
{
    /// <summary>ethtool feature names (as <c>ethtool -k</c> prints them) and the short names <c>ethtool -K</c> takes.</summary>
    private static readonly (string Long, string Short)[] Offloads =
    [
        ("generic-receive-offload", "gro"),
        ("large-receive-offload", "lro"),
        ("tcp-segmentation-offload", "tso"),
        ("generic-segmentation-offload", "gso"),
        ("rx-checksumming", "rx"),
        ("tx-checksumming", "tx"),
        ("rx-gro-hw", "rx-gro-hw"),
    ];

    /// <summary>Checks and prepares both ports of a bridge pair. Linux only.</summary>
    /// <param name="cameraInterface">The camera-side port.</param>
    /// <param name="uplinkInterface">The uplink-side port.</param>
    /// <param name="logger">Where to say what changed.</param>
    /// <param name="minimumMtu">
    /// Raise both ports' MTU to at least this (0: leave it). A packet socket sends a frame of at most MTU + 14 bytes of
    /// Ethernet header, + 4 only under an 802.1Q outer tag; a full-size 802.1ad frame carries two tags under 0x88A8,
    /// so a bridge port needs the site's MTU + 8 (<see cref="LibPcapDataPlaneFactory.QinQHeadroom"/>) or such frames
    /// are refused with EMSGSIZE on send.
    /// </param>
    public static IReadOnlyList<PreparedInterface> Prepare(string cameraInterface, string uplinkInterface, ILogger? logger = null, int minimumMtu = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(cameraInterface);
        ArgumentException.ThrowIfNullOrEmpty(uplinkInterface);
        logger ??= NullLogger.Instance;
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Bridge ports can be prepared only on Linux (sysfs, ethtool).");
        }

        if (cameraInterface == uplinkInterface)
        {
            throw new PacketPortException($"The camera and uplink ports are both {cameraInterface}; a bridge needs two interfaces.");
        }

        var cameraMtu = RaiseMtu(cameraInterface, CheckLink(cameraInterface), minimumMtu, logger);
        var uplinkMtu = RaiseMtu(uplinkInterface, CheckLink(uplinkInterface), minimumMtu, logger);
        if (cameraMtu != uplinkMtu)
        {
            throw new PacketPortException(
                $"MTU mismatch: camera port {cameraInterface} has {cameraMtu}, uplink port {uplinkInterface} has {uplinkMtu}; "
                + $"frames that fit one would not fit the other. Set both equal (ip link set DEV mtu N).");
        }

        var camera = TurnOffOffloads(cameraInterface, cameraMtu, logger);
        var uplink = TurnOffOffloads(uplinkInterface, uplinkMtu, logger);
        return [camera, uplink];
    }

    /// <summary>
    /// Checks one interface exists and is up; returns its MTU. Asks iproute2 rather than sysfs, because /sys shows the
    /// namespace it was mounted in, not the one the calling thread is in.
    /// </summary>
    public static int CheckLink(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var (code, output, error) = Run("ip", ["-o", "link", "show", "dev", name], name);
        if (code != 0)
        {
            throw new PacketPortException(error.Contains("does not exist", StringComparison.Ordinal)
                ? $"Interface {name} does not exist."
                : $"Cannot query interface {name}: {error.Trim()}");
        }

        // "7: eth1@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT ..."
        var open = output.IndexOf('<', StringComparison.Ordinal);
        var close = output.IndexOf('>', StringComparison.Ordinal);
        var flags = open >= 0 && close > open ? output[(open + 1)..close].Split(',') : [];
        if (!flags.Contains("UP"))
        {
            throw new PacketPortException($"Interface {name} is administratively down; bring it up with 'ip link set {name} up'.");
        }

        if (!flags.Contains("LOWER_UP"))
        {
            throw new PacketPortException($"Interface {name} has no link (no carrier); check the cable or the peer.");
        }

        var words = output.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.IndexOf(words, "mtu");
        return at >= 0 && at + 1 < words.Length && int.TryParse(words[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var mtu)
            ? mtu
            : throw new PacketPortException($"Interface {name} reports no readable MTU: '{output.Trim()}'.");
    }

    private static int RaiseMtu(string name, int mtu, int minimumMtu, ILogger logger)
    {
        if (mtu >= minimumMtu)
        {
            return mtu;
        }

        var target = minimumMtu.ToString(CultureInfo.InvariantCulture);
        var (code, _, error) = Run("ip", ["link", "set", "dev", name, "mtu", target], name);
        if (code != 0)
        {
            throw new PacketPortException($"Cannot raise the MTU of {name} from {mtu} to {minimumMtu} (room for two VLAN tags): {error.Trim()}");
        }

        Log.MtuRaised(logger, name, mtu, minimumMtu);
        return CheckLink(name);
    }

    private static PreparedInterface TurnOffOffloads(string name, int mtu, ILogger logger)
    {
        var before = ReadFeatures(name);
        var toChange = new List<string>();
        var alreadyOff = new List<string>();
        foreach (var (longName, shortName) in Offloads)
        {
            if (!before.TryGetValue(longName, out var state))
            {
                continue; // the driver does not know the feature (rx-gro-hw on most NICs)
            }

            if (!state.On)
            {
                alreadyOff.Add(shortName);
            }
            else if (state.Fixed)
            {
                throw new PacketPortException(
                    $"Interface {name} has {longName} fixed on; its driver cannot turn it off, so it cannot be a bridge port.");
            }
            else
            {
                toChange.Add(shortName);
            }
        }

        if (toChange.Count > 0)
        {
            var args = new List<string> { "-K", name };
            foreach (var feature in toChange)
            {
                args.Add(feature);
                args.Add("off");
            }

            RunEthtool(args, name);
            var after = ReadFeatures(name);
            foreach (var (longName, shortName) in Offloads)
            {
                if (toChange.Contains(shortName) && after.TryGetValue(longName, out var state) && state.On)
                {
                    throw new PacketPortException($"Interface {name} still has {longName} on after 'ethtool -K {name} {shortName} off'.");
                }
            }
        }

        Log.OffloadsOff(logger, name, mtu, toChange.Count == 0 ? "nothing" : string.Join(' ', toChange), alreadyOff.Count == 0 ? "none" : string.Join(' ', alreadyOff));
        return new PreparedInterface(name, mtu, toChange, alreadyOff);
    }

    private static Dictionary<string, (bool On, bool Fixed)> ReadFeatures(string name)
    {
        var output = RunEthtool(["-k", name], name);
        var features = new Dictionary<string, (bool On, bool Fixed)>(StringComparer.Ordinal);
        foreach (var raw in output.Split('\n'))
        {
            // "tcp-segmentation-offload: on", "large-receive-offload: off [fixed]"
            var line = raw.Trim();
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var value = line[(colon + 1)..].Trim();
            features[line[..colon]] = (value.StartsWith("on", StringComparison.Ordinal), value.Contains("[fixed]", StringComparison.Ordinal));
        }

        return features;
    }

    private static string RunEthtool(IReadOnlyList<string> args, string name)
    {
        var (code, stdout, stderr) = Run("ethtool", args, name);
        return code == 0
            ? stdout
            : throw new PacketPortException($"'ethtool {string.Join(' ', args)}' failed on {name} (exit {code}): {stderr.Trim()}");
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string tool, IReadOnlyList<string> args, string name)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new PacketPortException($"{tool} could not be started.");
        }
        catch (Win32Exception ex)
        {
            throw new PacketPortException(
                $"{tool} is not installed (Debian: apt-get install {(tool == "ip" ? "iproute2" : tool)}); it is needed to prepare the bridge ports.", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill();
                throw new PacketPortException($"'{tool} {string.Join(' ', args)}' did not finish within 10 s on {name}.");
            }

            return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message = "Bridge port {Interface} (MTU {Mtu}): offloads turned off: {TurnedOff}; already off: {AlreadyOff}")]
        public static partial void OffloadsOff(ILogger logger, string @interface, int mtu, string turnedOff, string alreadyOff);

        [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Bridge port {Interface}: MTU raised from {From} to {To} so full-size frames with two VLAN tags (802.1ad) fit")]
        public static partial void MtuRaised(ILogger logger, string @interface, int from, int to);
    }
}
