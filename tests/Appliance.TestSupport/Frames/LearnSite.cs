using Appliance.Core;

namespace Appliance.TestSupport.Frames;

/// <summary>
/// A small site like the lab's, for learning tests: two Hikvision cameras that behave alike, a Dahua camera that
/// uses DHCP, a NAS by name and a public resolver, an NVR, a DNS/NTP server and an admin. Labels: <c>legit</c> for
/// what the site needs; <c>phone-home</c>, <c>probe</c>, <c>new</c> (something not done while learning) for what a
/// learned policy must drop.
/// </summary>
public static class LearnSite
{
    public static readonly MacAddress Hik1 = Frames.Mac("44:47:cc:00:00:11");
    public static readonly MacAddress Hik2 = Frames.Mac("44:47:cc:00:00:12");
    public static readonly MacAddress Dahua = Frames.Mac("08:ed:ed:00:00:13");
    public const string Hik1Ip = "192.0.2.11";
    public const string Hik2Ip = "192.0.2.12";
    public const string DahuaIp = "192.0.2.13";
    public const string Nvr = "198.51.100.10";
    public const string DnsNtp = "198.51.100.2";
    public const string Admin = "203.0.113.5";
    public const string Cloud = "203.0.113.50";
    public const string PublicResolver = "203.0.113.53";
    public const string InternetHost = "198.51.100.66";

    /// <summary>The site's current policy: its networks and one camera already named.</summary>
    public static IReadOnlyList<(string Name, string Text)> PolicyFiles { get; } =
    [
        ("networks.yaml", """
            networks:
              nvr: 198.51.100.10
              dns-ntp: 198.51.100.2
              admins: [203.0.113.0/28]
            """),
        ("cameras.yaml", """
            cameras:
              north-gate:
                mac: 44:47:cc:00:00:11
                ip: 192.0.2.11
                rules:
                  - { id: dns, direction: egress, protocol: udp, ports: 53, peer: dns-ntp }
            """),
    ];

    /// <summary>
    /// About an hour of the site. <paramref name="later"/>: a second capture, a day on, with other ports and ids, a
    /// new address behind the NAS name, and what the learned policy must refuse.
    /// </summary>
    public static SiteTraffic Capture(bool later)
    {
        var start = later ? new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero) : new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);
        var t = new SiteTraffic(start, later ? 50000 : 40000);
        t.DhcpDiscover(Dahua, "legit");
        foreach (var (mac, ip) in new[] { (Hik1, Hik1Ip), (Hik2, Hik2Ip), (Dahua, DahuaIp) })
        {
            t.Arp(mac, ip, "192.0.2.1", "legit").Wait(TimeSpan.FromMilliseconds(10));
        }

        t.WsDiscovery(Hik1, Hik1Ip, "legit").WsDiscovery(Hik2, Hik2Ip, "legit");
        foreach (var (mac, ip) in new[] { (Hik1, Hik1Ip), (Hik2, Hik2Ip), (Dahua, DahuaIp) })
        {
            t.Tcp(mac, ip, cameraOpens: false, Nvr, 554, dataPackets: 60, "legit");
        }

        for (var minute = 0; minute < 6; minute++)
        {
            t.Wait(TimeSpan.FromMinutes(10));
            foreach (var (mac, ip) in new[] { (Hik1, Hik1Ip), (Hik2, Hik2Ip), (Dahua, DahuaIp) })
            {
                t.Dns(mac, ip, DnsNtp, "time.site.example", "legit", DnsNtp);
                t.Udp(mac, ip, DnsNtp, 123, "legit");
                if (minute % 2 == 0)
                {
                    t.Tcp(mac, ip, cameraOpens: false, Admin, 443, dataPackets: 6, "legit");
                }
            }

            // The Dahua camera stores clips on the NAS, found by name; the name has two addresses, and a third later.
            t.Dns(Dahua, DahuaIp, DnsNtp, "nas.site.example", "legit", later ? ["10.1.0.32", "10.1.0.31"] : ["10.1.0.30", "10.1.0.31"]);
            t.Tcp(Dahua, DahuaIp, cameraOpens: true, minute % 2 == 0 ? (later ? "10.1.0.32" : "10.1.0.30") : "10.1.0.31", 445, dataPackets: 9, "legit");

            // north-gate phones home, by name.
            t.Dns(Hik1, Hik1Ip, DnsNtp, "cloud.vendor.example", "legit", Cloud);
            t.Tcp(Hik1, Hik1Ip, cameraOpens: true, Cloud, 443, dataPackets: 4, "phone-home");

            // The Dahua camera also asks a public resolver directly.
            t.Udp(Dahua, DahuaIp, PublicResolver, 53, "phone-home");

            // The internet keeps trying the second camera's web page; once it even got an answer.
            t.Tcp(Hik2, Hik2Ip, cameraOpens: false, InternetHost, 80, dataPackets: 2, "probe", refuse: minute != 3);
        }

        // Once: an admin host tries SSH on the Dahua camera; the camera tries a port on the NVR nobody answers.
        t.Tcp(Dahua, DahuaIp, cameraOpens: false, Admin, 22, dataPackets: 1, "probe");
        t.Tcp(Dahua, DahuaIp, cameraOpens: true, Nvr, 8000, dataPackets: 0, "probe", answer: false);
        if (later)
        {
            // Something no camera did while learning.
            t.Tcp(Hik1, Hik1Ip, cameraOpens: true, Nvr, 21, dataPackets: 3, "new");
            t.Tcp(Hik2, Hik2Ip, cameraOpens: false, Admin, 8080, dataPackets: 3, "new");
        }

        return t;
    }
}
