using System.Runtime.InteropServices;

namespace Appliance.Transport.WinDivert.Native;

/// <summary>WINDIVERT_LAYER (windivert.h 2.2.2).</summary>
internal enum WinDivertLayer
{
    /// <summary>Packets to and from the local machine; IfIdx is the arrival (inbound) or sending (outbound) interface.</summary>
    Network = 0,

    /// <summary>Packets routed through the machine; IfIdx is the interface the packet will leave by (the driver reads FWPS_FIELD_IPFORWARD_V*_DESTINATION_INTERFACE_INDEX), Outbound is always 1.</summary>
    NetworkForward = 1,
}

/// <summary>WINDIVERT_SHUTDOWN.</summary>
internal enum WinDivertShutdownHow
{
    Receive = 1,
    Send = 2,
    Both = 3,
}

/// <summary>WINDIVERT_PARAM.</summary>
internal enum WinDivertParam
{
    QueueLength = 0,
    QueueTime = 1,
    QueueSize = 2,
    VersionMajor = 3,
    VersionMinor = 4,
}

/// <summary>
/// WINDIVERT_ADDRESS (windivert.h, WinDivert 2.x), 80 bytes:
/// <code>
///  0  INT64  Timestamp
///  8  UINT32 Layer:8 | Event:8 | Sniffed:1 | Outbound:1 | Loopback:1 | Impostor:1 | IPv6:1 | IPChecksum:1 | TCPChecksum:1 | UDPChecksum:1 | Reserved1:8
/// 12  UINT32 Reserved2
/// 16  union { WINDIVERT_DATA_NETWORK { UINT32 IfIdx; UINT32 SubIfIdx; } ...; UINT8 Reserved3[64]; }
/// </code>
/// MSVC allocates bit-fields from the least significant bit, so Layer is bits 0-7 and Outbound bit 17.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct WinDivertAddress
{
    public const int Size = 80;
    public const uint OutboundBit = 1u << 17;
    public const uint LoopbackBit = 1u << 18;
    public const uint ImpostorBit = 1u << 19;
    public const uint Ipv6Bit = 1u << 20;

    [FieldOffset(0)]
    public long Timestamp;

    [FieldOffset(8)]
    public uint Bits;

    [FieldOffset(12)]
    public uint Reserved2;

    [FieldOffset(16)]
    public uint InterfaceIndex;

    [FieldOffset(20)]
    public uint SubInterfaceIndex;

    public readonly int Layer => (int)(Bits & 0xFF);

    public readonly bool Outbound => (Bits & OutboundBit) != 0;

    public readonly bool Loopback => (Bits & LoopbackBit) != 0;

    public readonly bool Impostor => (Bits & ImpostorBit) != 0;

    public readonly bool IsIpv6 => (Bits & Ipv6Bit) != 0;
}

/// <summary>Win32 error codes WinDivert 2.2.2 documents (doc/windivert.html, WinDivertOpen, WinDivertRecv, WinDivertSend).</summary>
internal static class WinDivertErrors
{
    public const int FileNotFound = 2;
    public const int AccessDenied = 5;
    public const int InvalidParameter = 87;
    public const int InsufficientBuffer = 122;
    public const int NoData = 232;
    public const int InvalidImageHash = 577;
    public const int DriverFailedPriorUnload = 654;
    public const int ServiceDoesNotExist = 1060;
    public const int HostUnreachable = 1232;
    public const int DriverBlocked = 1275;
    public const int EptNotRegistered = 1753;
}

/// <summary>
/// Thin, blittable bindings of WinDivert.dll 2.x (BOOL returned as int). windivert.h declares no calling convention
/// (no <c>__stdcall</c>), so on 32-bit Windows the DLL would be cdecl while .NET assumes stdcall; the gateway
/// therefore runs on 64-bit Windows only, where there is one calling convention.
/// </summary>
internal static unsafe partial class WinDivertNative
{
    public const string Library = "WinDivert.dll";
    public const int BatchMax = 0xFF;
    public const int MtuMax = 40 + 0xFFFF;
    public const short PriorityHighest = 30000;
    public const int QueueLengthMin = 32;
    public const int QueueLengthMax = 16384;
    public const int QueueTimeMinMs = 100;
    public const int QueueTimeMaxMs = 16000;
    public static readonly nint InvalidHandle = -1;

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint WinDivertOpen(string filter, WinDivertLayer layer, short priority, ulong flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertRecvEx(nint handle, byte* packet, uint packetLength, uint* receivedLength, ulong flags, WinDivertAddress* addresses, uint* addressesLength, nint overlapped);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertSendEx(nint handle, byte* packet, uint packetLength, uint* sentLength, ulong flags, WinDivertAddress* addresses, uint addressesLength, nint overlapped);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertShutdown(nint handle, WinDivertShutdownHow how);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertClose(nint handle);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertSetParam(nint handle, WinDivertParam param, ulong value);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertGetParam(nint handle, WinDivertParam param, ulong* value);
}
