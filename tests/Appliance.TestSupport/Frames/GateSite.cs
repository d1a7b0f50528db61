namespace Appliance.TestSupport.Frames;

/// <summary>
/// The one-camera site the replay and bridge tests share: camera <c>gate</c> (<see cref="Frames.CameraMac"/>,
/// <see cref="Camera"/>) that the NVR may pull RTSP from and that may ask the site's DNS server, and pretend internet
/// hosts on documentation addresses that it must not reach.
/// </summary>
public static class GateSite
{
    public const string CameraMacText = "02:00:00:00:0c:01";
    public const string Camera = "192.0.2.10";
    public const string Router = "192.0.2.1";
    public const string Nvr = "192.0.2.20";
    public const string SiteDns = "192.0.2.53";
    public const string Cloud = "203.0.113.10";
    public const string Internet = "198.51.100.10";
    public const string PublicResolver = "198.51.100.53";

    /// <summary>The policy (one file): RTSP from the NVR in, DNS to the site's resolver out, nothing else.</summary>
    public const string PolicyYaml = $"""
        networks:
          nvr: {Nvr}
          site-dns: {SiteDns}
        cameras:
          gate:
            mac: {CameraMacText}
            ip: {Camera}
            rules:
              - id: rtsp-from-nvr
                direction: ingress
                protocol: tcp
                ports: 554
                peer: nvr
              - id: site-dns
                direction: egress
                protocol: udp
                ports: 53
                peer: site-dns
        """;
}
