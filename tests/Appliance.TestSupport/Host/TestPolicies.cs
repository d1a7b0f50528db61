using System.Globalization;
using System.Text;

namespace Appliance.TestSupport.Host;

/// <summary>Small policy files in the real YAML language, for host and management tests.</summary>
public static class TestPolicies
{
    /// <summary>The NVR every test camera lets in.</summary>
    public const string NvrIp = "198.51.100.10";

    /// <summary>The first test camera: MAC <c>02:00:00:00:0c:01</c>, 192.0.2.11.</summary>
    public const string CameraIp = "192.0.2.11";

    /// <summary>The first test camera's name.</summary>
    public const string CameraName = "cam-a";

    /// <summary>The networks file every variant shares.</summary>
    public const string Networks = "networks:\n  nvr: 198.51.100.10\n";

    /// <summary>
    /// A cameras file: <paramref name="count"/> cameras (<c>cam-a</c> first, then <c>cam-2</c>...), each letting the
    /// NVR open TCP <paramref name="nvrPort"/>.
    /// </summary>
    public static string Cameras(int nvrPort = 554, int count = 1)
    {
        var sb = new StringBuilder("cameras:\n");
        for (var i = 1; i <= count; i++)
        {
            var name = i == 1 ? CameraName : $"cam-{i}";
            sb.Append(CultureInfo.InvariantCulture, $"  {name}:\n    mac: 02:00:00:00:{i / 256:x2}:{i % 256:x2}\n    ip: 192.0.2.{10 + i}\n")
              .Append("    rules:\n      - id: stream-from-nvr\n        direction: ingress\n        protocol: tcp\n")
              .Append(CultureInfo.InvariantCulture, $"        ports: {nvrPort}\n        peer: nvr\n");
        }

        return sb.ToString();
    }

    /// <summary>A cameras file whose rule names a network that does not exist (line 10, an error).</summary>
    public const string InvalidCameras =
        "cameras:\n  cam-a:\n    mac: 02:00:00:00:00:01\n    ip: 192.0.2.11\n    rules:\n      - id: stream-from-nvr\n        direction: ingress\n        protocol: tcp\n        ports: 554\n        peer: nvrs\n";

    /// <summary>The files of a valid policy: <c>networks.yaml</c> and <c>cameras.yaml</c>.</summary>
    public static Dictionary<string, string> Files(int nvrPort = 554, int count = 1)
        => new(StringComparer.Ordinal) { ["networks.yaml"] = Networks, ["cameras.yaml"] = Cameras(nvrPort, count) };
}
