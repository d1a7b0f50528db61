using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Appliance.Transport.WinDivert.Native;

/// <summary>
/// MIB_IPINTERFACE_ROW (netioapi.h), 168 bytes on 64-bit Windows. Only the fields camfw reads or must fix are named:
/// <code>
///   0 ADDRESS_FAMILY Family (USHORT, padded)   8 NET_LUID InterfaceLuid   16 NET_IFINDEX InterfaceIndex
///  20 ULONG MaxReassemblySize   24 ULONG64 InterfaceIdentifier   32/36 Min/MaxRouterAdvertisementInterval
///  40 BOOLEAN AdvertisingEnabled   41 BOOLEAN ForwardingEnabled   42..48 seven more BOOLEANs
///  52 RouterDiscoveryBehavior ... 76 LinkLocalAddressTimeout   80 ULONG ZoneIndices[16]
/// 144 ULONG SitePrefixLength   148 Metric   152 NlMtu   156..159 BOOLEANs   160 ReachableTime
/// 164/165 offload bit-field bytes   166 BOOLEAN DisableDefaultRoutes   (padded to 168)
/// </code>
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct MibIpInterfaceRow
{
    public const int Size = 168;

    [FieldOffset(0)]
    public ushort Family;

    [FieldOffset(8)]
    public ulong InterfaceLuid;

    [FieldOffset(16)]
    public uint InterfaceIndex;

    [FieldOffset(41)]
    public byte ForwardingEnabled;

    [FieldOffset(144)]
    public uint SitePrefixLength;
}

/// <summary>The IP Helper calls that read and set an interface's forwarding flag.</summary>
internal static unsafe partial class IpHelperNative
{
    public const string Library = "iphlpapi.dll";
    public const ushort AfInet = 2;
    public const ushort AfInet6 = 23;
    public const uint ErrorNotFound = 1168;

    [LibraryImport(Library)]
    public static partial void InitializeIpInterfaceEntry(MibIpInterfaceRow* row);

    [LibraryImport(Library)]
    public static partial uint GetIpInterfaceEntry(MibIpInterfaceRow* row);

    [LibraryImport(Library)]
    public static partial uint SetIpInterfaceEntry(MibIpInterfaceRow* row);
}

/// <summary>
/// The seam over "is IP forwarding on for this interface and family" (what <c>Set-NetIPInterface -Forwarding</c>
/// changes). Implementations throw <see cref="PacketPortException"/> naming the interface when Windows refuses.
/// </summary>
internal interface IForwardingControl
{
    /// <summary>Turns forwarding on or off; returns false when the interface has no such family (nothing to gate).</summary>
    bool SetForwarding(uint interfaceIndex, AddressFamily family, bool enabled);
}

/// <summary>Forwarding through the IP Helper API: GetIpInterfaceEntry, change ForwardingEnabled, SetIpInterfaceEntry.</summary>
internal sealed unsafe class IpHelperForwarding : IForwardingControl
{
    public static readonly IpHelperForwarding Instance = new();

    public bool SetForwarding(uint interfaceIndex, AddressFamily family, bool enabled)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Interface forwarding is switched through the Windows IP Helper API; this is not Windows.");
        }

        MibIpInterfaceRow row;
        IpHelperNative.InitializeIpInterfaceEntry(&row);
        row.Family = family == AddressFamily.InterNetworkV6 ? IpHelperNative.AfInet6 : IpHelperNative.AfInet;
        row.InterfaceIndex = interfaceIndex;
        var status = IpHelperNative.GetIpInterfaceEntry(&row);
        if (status == IpHelperNative.ErrorNotFound)
        {
            return false;
        }

        if (status != 0)
        {
            throw new PacketPortException($"GetIpInterfaceEntry({Name(family)}, ifIndex {interfaceIndex}) failed: {Marshal.GetPInvokeErrorMessage((int)status)} (error {status})");
        }

        if ((row.ForwardingEnabled != 0) == enabled)
        {
            return true;
        }

        row.ForwardingEnabled = enabled ? (byte)1 : (byte)0;

        // SetIpInterfaceEntry rejects an IPv4 row whose SitePrefixLength is not 0 (an IPv6-only field that
        // GetIpInterfaceEntry may fill), so it is cleared before writing the row back.
        if (row.Family == IpHelperNative.AfInet)
        {
            row.SitePrefixLength = 0;
        }

        status = IpHelperNative.SetIpInterfaceEntry(&row);
        if (status != 0)
        {
            throw new PacketPortException($"SetIpInterfaceEntry({Name(family)}, ifIndex {interfaceIndex}, forwarding {(enabled ? "on" : "off")}) failed: {Marshal.GetPInvokeErrorMessage((int)status)} (error {status})");
        }

        return true;
    }

    private static string Name(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}
