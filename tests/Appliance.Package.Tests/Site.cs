using System.Diagnostics;
using Appliance.TestSupport.Netns;
using Appliance.Transport.LibPcap.Tests;

namespace Appliance.Package.Tests;

/// <summary>
/// The example site (<c>policies/</c>, shipped as /etc/camfw/policies) on wires: the camera <c>north-gate</c> in a
/// camera-side namespace, the box (the container's namespace: its two bridge ports and nothing else), and an uplink
/// namespace holding the site router, the NVR and the DNS/NTP server named in <c>policies/networks.yaml</c>, and a
/// pretend vendor cloud. The uplink hosts share one interface and MAC, as hosts behind a router would. No namespace
/// has a route out.
/// </summary>
internal sealed class Site : IDisposable
{
    // policies/cameras/north.yaml: north-gate, a hikvision camera (RTSP from the NVR, DNS/NTP to dns-ntp).
    public const string CameraMac = "02:00:00:00:01:01";
    public const string Camera = "192.0.2.11";
    public const string Router = "192.0.2.1";
    public const string UplinkMac = "02:00:00:00:0a:01";

    // policies/networks.yaml
    public const string Nvr = "198.51.100.10";
    public const string DnsNtp = "198.51.100.2";

    // Nowhere in the policy (not in admins' 203.0.113.0/28): the vendor cloud a camera phones home to.
    public const string Cloud = "203.0.113.200";

    public const int StreamBytes = 512 * 1024;
    private const string Python = "/usr/bin/python3";

    private readonly NetnsLab _lab = new("cd");
    private readonly string _work;
    private readonly string _tool;
    private readonly string _cameraHostEnd = "";
    private readonly string _uplinkHostEnd = "";

    public Site()
    {
        _work = Directory.CreateTempSubdirectory("camfw-package-").FullName;
        try
        {
            _tool = NetTool.WriteTo(_work);
            CameraNs = _lab.AddNamespace("c");
            BoxNs = _lab.AddNamespace("a");
            UplinkNs = _lab.AddNamespace("u");
            var (camEth, boxCam) = _lab.AddVeth(CameraNs, BoxNs, macA: CameraMac);
            var (boxUp, upEth) = _lab.AddVeth(BoxNs, UplinkNs, macB: UplinkMac);
            CameraPort = boxCam;
            UplinkPort = boxUp;
            _cameraHostEnd = camEth;
            _uplinkHostEnd = upEth;

            // Wire-sized, checksummed frames, as real hosts put on a cable (veths would pass TSO super-frames).
            _lab.Exec(CameraNs, "ethtool", "-K", camEth, "tso", "off", "gso", "off", "gro", "off", "tx", "off");
            _lab.Exec(UplinkNs, "ethtool", "-K", upEth, "tso", "off", "gso", "off", "gro", "off", "tx", "off");

            _lab.Exec(CameraNs, "ip", "addr", "add", $"{Camera}/24", "dev", camEth);
            _lab.Exec(CameraNs, "ip", "route", "add", "default", "via", Router);
            _lab.Exec(CameraNs, "ip", "neigh", "replace", Router, "lladdr", UplinkMac, "dev", camEth, "nud", "permanent");
            _lab.Exec(UplinkNs, "ip", "addr", "add", $"{Router}/24", "dev", upEth);
            foreach (var address in new[] { Nvr, DnsNtp, Cloud })
            {
                _lab.Exec(UplinkNs, "ip", "addr", "add", $"{address}/32", "dev", "lo");
            }

            // ARP is not what these tests are about: static entries keep it out of the way.
            _lab.Exec(UplinkNs, "ip", "neigh", "replace", Camera, "lladdr", CameraMac, "dev", upEth, "nud", "permanent");

            // Servers that answer anyone the box lets through: the camera's stream, the site's DNS, the cloud.
            WaitReady(_lab.Start(CameraNs, Python, _tool, "serve", $"tcp:{Camera}:554:{StreamBytes}"));
            WaitReady(_lab.Start(UplinkNs, Python, _tool, "serve", $"udp:{DnsNtp}:53", $"tcp:{Cloud}:443:100"));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string CameraNs { get; } = "";

    /// <summary>The box's namespace: the container runs in it.</summary>
    public string BoxNs { get; } = "";

    public string UplinkNs { get; } = "";

    /// <summary>The box's camera-side port (as named inside the container).</summary>
    public string CameraPort { get; } = "";

    /// <summary>The box's uplink-side port.</summary>
    public string UplinkPort { get; } = "";

    /// <summary>The NVR pulls the camera's stream (allowed: rtsp-from-nvr). True when every byte arrived.</summary>
    public bool NvrPullsStream(out string detail, double timeoutSeconds = 5)
    {
        var r = _lab.TryExec(UplinkNs, TimeSpan.FromSeconds(timeoutSeconds + 10), Python, _tool, "tcp-get", Nvr, Camera, "554", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        detail = $"exit {r.ExitCode}: {r.Stdout.Trim()} {r.Stderr.Trim()}";
        return r.ExitCode == 0 && r.Stdout.Trim() == StreamBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The camera asks the site's DNS server (allowed: dns). True when it answered.</summary>
    public bool CameraAsksSiteDns(out string detail)
    {
        var r = _lab.TryExec(CameraNs, TimeSpan.FromSeconds(15), Python, _tool, "udp-ask", DnsNtp, "53", "3");
        detail = $"exit {r.ExitCode}: {r.Stdout.Trim()} {r.Stderr.Trim()}";
        return r.ExitCode == 0 && r.Stdout.Trim() == "answer:query";
    }

    /// <summary>The camera phones home to the cloud (nothing allows it). True when it got through.</summary>
    public bool CameraReachesCloud(out string detail)
    {
        var r = _lab.TryExec(CameraNs, TimeSpan.FromSeconds(15), Python, _tool, "tcp-get", "-", Cloud, "443", "3");
        detail = $"exit {r.ExitCode}: {r.Stdout.Trim()} {r.Stderr.Trim()}";
        return r.ExitCode == 0;
    }

    /// <summary>
    /// Attaches <paramref name="xdpPassObject"/> (the package's xdp_pass.bpf.o) to the hosts' ends of both wires. A veth
    /// takes frames redirected by an XDP program on its peer only while it runs one itself; a NIC needs nothing.
    /// </summary>
    public void TakeRedirectedFrames(string xdpPassObject)
    {
        _lab.Exec(CameraNs, "ip", "link", "set", "dev", _cameraHostEnd, "xdpdrv", "obj", xdpPassObject, "sec", "xdp");
        _lab.Exec(UplinkNs, "ip", "link", "set", "dev", _uplinkHostEnd, "xdpdrv", "obj", xdpPassObject, "sec", "xdp");
    }

    /// <summary>The configuration the tests install: the shipped /etc/camfw/camfw.json with this site's ports.</summary>
    public string SedPortsScript => $"sed -i -e 's/\"eth1\"/\"{CameraPort}\"/' -e 's/\"eth2\"/\"{UplinkPort}\"/' /etc/camfw/camfw.json";

    public void Dispose()
    {
        _lab.Dispose();
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void WaitReady(Process server)
    {
        var line = server.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(10)) || line.Result != "ready")
        {
            throw new InvalidOperationException("a test server did not start");
        }
    }
}
