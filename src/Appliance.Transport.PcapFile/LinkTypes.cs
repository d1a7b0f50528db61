using System.Globalization;

namespace Appliance.Transport.PcapFile;

/// <summary>
/// Capture link types (the LINKTYPE_ values files carry, and the DLT_ values libpcap hands back) with their names,
/// so a message says <c>LINUX_SLL (113)</c> instead of a bare number. Managed, so the pcapng reader and its messages
/// need no native library.
/// </summary>
public static class LinkTypes
{
    /// <summary>LINKTYPE_ETHERNET / DLT_EN10MB.</summary>
    public const int Ethernet = 1;

    /// <summary>DLT_RAW as libpcap defines it on most platforms (files say <see cref="Raw"/>).</summary>
    public const int DltRaw = 12;

    /// <summary>DLT_RAW on OpenBSD.</summary>
    public const int DltRawOpenBsd = 14;

    /// <summary>LINKTYPE_RAW: bare IPv4 or IPv6, told apart by the version nibble.</summary>
    public const int Raw = 101;

    /// <summary>LINKTYPE_IPV4.</summary>
    public const int Ipv4 = 228;

    /// <summary>LINKTYPE_IPV6.</summary>
    public const int Ipv6 = 229;

    // Names as libpcap's pcap_datalink_val_to_name spells them (its dlt_choices table), for the types captures
    // commonly hold; anything else is named by number with "unknown" so the message still says what it is.
    private static readonly Dictionary<int, string> Names = new()
    {
        [0] = "NULL",
        [Ethernet] = "EN10MB",
        [3] = "AX25",
        [6] = "IEEE802",
        [7] = "ARCNET",
        [8] = "SLIP",
        [9] = "PPP",
        [10] = "FDDI",
        [DltRaw] = "RAW",
        [DltRawOpenBsd] = "RAW",
        [50] = "PPP_SERIAL",
        [51] = "PPP_ETHER",
        [Raw] = "RAW",
        [104] = "C_HDLC",
        [105] = "IEEE802_11",
        [107] = "FRELAY",
        [108] = "LOOP",
        [113] = "LINUX_SLL",
        [117] = "PFLOG",
        [119] = "PRISM_HEADER",
        [127] = "IEEE802_11_RADIO",
        [138] = "APPLE_IP_OVER_IEEE1394",
        [143] = "DOCSIS",
        [163] = "IEEE802_11_RADIO_AVS",
        [187] = "BLUETOOTH_HCI_H4",
        [189] = "USB_LINUX",
        [192] = "PPI",
        [195] = "IEEE802_15_4_WITHFCS",
        [201] = "BLUETOOTH_HCI_H4_WITH_PHDR",
        [220] = "USB_LINUX_MMAPPED",
        [Ipv4] = "IPV4",
        [Ipv6] = "IPV6",
        [239] = "NFLOG",
        [240] = "NETANALYZER",
        [249] = "USBPCAP",
        [253] = "NETLINK",
        [274] = "VSOCK",
        [276] = "LINUX_SLL2",
        [279] = "ETW",
        [281] = "ZBOSS_NCP",
    };

    /// <summary>The link type's name and number, e.g. <c>LINUX_SLL (113)</c>; <c>unknown link type 4711</c> when unnamed.</summary>
    public static string Describe(int linkType) => Names.TryGetValue(linkType, out var name)
        ? string.Create(CultureInfo.InvariantCulture, $"{name} ({linkType})")
        : string.Create(CultureInfo.InvariantCulture, $"unknown link type {linkType}");

    /// <summary>What a port carrying frames of <paramref name="linkType"/> (LINKTYPE_ or DLT_ value) delivers, if replay can judge it.</summary>
    public static bool TryMap(int linkType, out PortLinkType portLinkType)
    {
        switch (linkType)
        {
            case Ethernet:
                portLinkType = PortLinkType.Ethernet;
                return true;
            case DltRaw or DltRawOpenBsd or Raw or Ipv4 or Ipv6:
                portLinkType = PortLinkType.RawIp;
                return true;
            default:
                portLinkType = default;
                return false;
        }
    }
}
