using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Appliance.Transport.WinDivert.Native;

/// <summary>WINDIVERT_LAYER.</summary>
internal enum WinDivertLayer
{
    Network = 0,
    NetworkForward = 1,
}

/// <summary>WINDIVERT_SHUTDOWN.</summary>
internal enum WinDivertShutdownHow
{
    Receive = 1,
    Send = 2,
    Both = 3,
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

    public readonly bool Outbound => (Bits & (1u << 17)) != 0;

    public readonly bool Loopback => (Bits & (1u << 18)) != 0;

    public readonly bool Impostor => (Bits & (1u << 19)) != 0;

    public readonly bool IsIpv6 => (Bits & (1u << 20)) != 0;
}

/// <summary>Owns a WinDivert HANDLE; closing calls WinDivertClose.</summary>
internal sealed class WinDivertHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public WinDivertHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => WinDivertNative.WinDivertClose(handle) != 0;
}

/// <summary>Thin, blittable bindings of WinDivert.dll 2.x (BOOL returned as int).</summary>
internal static unsafe partial class WinDivertNative
{
    public const string Library = "WinDivert.dll";
    public const int BatchMax = 0xFF;
    public const int MtuMax = 40 + 0xFFFF;
    public const short PriorityDefault = 0;
    public const int ErrorNoData = 232;
    public const int ErrorInsufficientBuffer = 122;

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial WinDivertHandle WinDivertOpen(string filter, WinDivertLayer layer, short priority, ulong flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertRecvEx(WinDivertHandle handle, byte* packet, uint packetLength, uint* receivedLength, ulong flags, WinDivertAddress* addresses, uint* addressesLength, nint overlapped);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertSendEx(WinDivertHandle handle, byte* packet, uint packetLength, uint* sentLength, ulong flags, WinDivertAddress* addresses, uint addressesLength, nint overlapped);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertShutdown(WinDivertHandle handle, WinDivertShutdownHow how);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int WinDivertClose(nint handle);
}
