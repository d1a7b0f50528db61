using System.Runtime.InteropServices;
using Appliance.Transport.WinDivert.Native;

namespace Appliance.Transport.WinDivert;

/// <summary>What each WinDivertOpen failure means and what to do, from WinDivert 2.2.2's doc/windivert.html.</summary>
internal static class WinDivertOpenErrors
{
    public const string DllNotFound = "WinDivert.dll could not be loaded: put WinDivert 2.2 x64 (WinDivert.dll and WinDivert64.sys) next to camfw.exe.";

    public const string WrongBitness = "WinDivert.dll is not a 64-bit DLL: camfw runs as a 64-bit process and needs the x64 build of WinDivert 2.2 (WinDivert.dll and WinDivert64.sys from its x64 folder).";

    public static string NotVersion2(string detail) => $"WinDivert.dll lacks a WinDivert 2.x function ({detail}): it is WinDivert 1.x; install WinDivert 2.2 (x64).";

    public static string Describe(int error, WinDivertLayer layer)
    {
        var call = $"WinDivertOpen ({(layer == WinDivertLayer.NetworkForward ? "NETWORK_FORWARD" : "NETWORK")} layer) failed with error {error}";
        return error switch
        {
            WinDivertErrors.FileNotFound => $"{call} (ERROR_FILE_NOT_FOUND): WinDivert64.sys was not found next to WinDivert.dll.",
            WinDivertErrors.AccessDenied => $"{call} (ERROR_ACCESS_DENIED): camfw needs Administrator rights (the installed service runs as LocalSystem).",
            WinDivertErrors.InvalidParameter => $"{call} (ERROR_INVALID_PARAMETER): the driver rejected camfw's filter, layer, priority or flags; the driver is probably not WinDivert 2.2.",
            WinDivertErrors.InvalidImageHash => $"{call} (ERROR_INVALID_IMAGE_HASH): WinDivert64.sys has no digital signature this Windows accepts; use the signed release driver.",
            WinDivertErrors.DriverFailedPriorUnload => $"{call} (ERROR_DRIVER_FAILED_PRIOR_UNLOAD): an incompatible WinDivert driver version is loaded by another program; stop that program (or reboot) and start camfw again.",
            WinDivertErrors.ServiceDoesNotExist => $"{call} (ERROR_SERVICE_DOES_NOT_EXIST): the WinDivert driver service is not installed.",
            WinDivertErrors.DriverBlocked => $"{call} (ERROR_DRIVER_BLOCKED): Windows blocked the driver: security software blocks WinDivert, or this virtual machine does not support drivers.",
            WinDivertErrors.EptNotRegistered => $"{call} (EPT_S_NOT_REGISTERED): the Base Filtering Engine service (BFE) is disabled; WinDivert needs it running.",
            _ => $"{call}: {Marshal.GetPInvokeErrorMessage(error)}.",
        };
    }
}
