using System.Runtime.InteropServices;

namespace Appliance.Transport.WinDivert.Native;

/// <summary>
/// The seam over WinDivert.dll: everything the gateway asks the driver, one call each, errors as Win32 codes. The
/// real implementation is <see cref="WinDivertNativeApi"/>; tests script a fake so the gateway loop runs anywhere.
/// Handles are raw values: the gateway owns each one and closes it exactly once, never while a call on it is in
/// flight (see <see cref="WinDivertGateway"/>).
/// </summary>
internal unsafe interface IWinDivertApi
{
    /// <summary>WinDivertOpen; returns false with the error when the handle is invalid. May throw
    /// <see cref="DllNotFoundException"/>, <see cref="BadImageFormatException"/> or <see cref="EntryPointNotFoundException"/>.</summary>
    bool Open(string filter, WinDivertLayer layer, short priority, out nint handle, out int error);

    /// <summary>WinDivertRecvEx without overlapped I/O: blocks until a batch or an error.</summary>
    bool Receive(nint handle, byte* packets, uint packetsLength, out uint received, WinDivertAddress* addresses, ref uint addressesLength, out int error);

    /// <summary>WinDivertSendEx of a packed batch.</summary>
    bool Send(nint handle, byte* packets, uint packetsLength, WinDivertAddress* addresses, uint addressesLength, out int error);

    /// <summary>WinDivertShutdown.</summary>
    bool Shutdown(nint handle, WinDivertShutdownHow how, out int error);

    /// <summary>WinDivertClose.</summary>
    bool Close(nint handle, out int error);

    /// <summary>WinDivertSetParam.</summary>
    bool SetParam(nint handle, WinDivertParam param, ulong value, out int error);

    /// <summary>WinDivertGetParam.</summary>
    bool GetParam(nint handle, WinDivertParam param, out ulong value, out int error);
}

/// <summary>The real WinDivert.dll (64-bit Windows only).</summary>
internal sealed unsafe class WinDivertNativeApi : IWinDivertApi
{
    public static readonly WinDivertNativeApi Instance = new();

    public bool Open(string filter, WinDivertLayer layer, short priority, out nint handle, out int error)
    {
        handle = WinDivertNative.WinDivertOpen(filter, layer, priority, 0);
        error = handle == WinDivertNative.InvalidHandle || handle == 0 ? Marshal.GetLastPInvokeError() : 0;
        return error == 0;
    }

    public bool Receive(nint handle, byte* packets, uint packetsLength, out uint received, WinDivertAddress* addresses, ref uint addressesLength, out int error)
    {
        uint got = 0;
        uint addressBytes = addressesLength;
        var ok = WinDivertNative.WinDivertRecvEx(handle, packets, packetsLength, &got, 0, addresses, &addressBytes, 0) != 0;
        error = ok ? 0 : Marshal.GetLastPInvokeError();
        received = got;
        addressesLength = addressBytes;
        return ok;
    }

    public bool Send(nint handle, byte* packets, uint packetsLength, WinDivertAddress* addresses, uint addressesLength, out int error)
    {
        var ok = WinDivertNative.WinDivertSendEx(handle, packets, packetsLength, null, 0, addresses, addressesLength, 0) != 0;
        error = ok ? 0 : Marshal.GetLastPInvokeError();
        return ok;
    }

    public bool Shutdown(nint handle, WinDivertShutdownHow how, out int error)
    {
        var ok = WinDivertNative.WinDivertShutdown(handle, how) != 0;
        error = ok ? 0 : Marshal.GetLastPInvokeError();
        return ok;
    }

    public bool Close(nint handle, out int error)
    {
        var ok = WinDivertNative.WinDivertClose(handle) != 0;
        error = ok ? 0 : Marshal.GetLastPInvokeError();
        return ok;
    }

    public bool SetParam(nint handle, WinDivertParam param, ulong value, out int error)
    {
        var ok = WinDivertNative.WinDivertSetParam(handle, param, value) != 0;
        error = ok ? 0 : Marshal.GetLastPInvokeError();
        return ok;
    }

    public bool GetParam(nint handle, WinDivertParam param, out ulong value, out int error)
    {
        ulong v = 0;
        var ok = WinDivertNative.WinDivertGetParam(handle, param, &v) != 0;
        error = ok ? 0 : Marshal.GetLastPInvokeError();
        value = v;
        return ok;
    }
}
