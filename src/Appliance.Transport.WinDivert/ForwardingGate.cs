using System.Net.Sockets;
using Appliance.Transport.WinDivert.Native;

namespace Appliance.Transport.WinDivert;

/// <summary>
/// The gateway's fail-closed gate: IP forwarding (IPv4 and IPv6) on the camera interface and on the uplink
/// interface. Windows forwards nothing between the two while it is off, whichever of the two interfaces' flag it
/// consults, so forwarded traffic cannot bypass the engine when camfw is not deciding. Off by default; on only
/// while the gateway's handles are open and its loop turns; off first on every stop and fault.
/// </summary>
internal sealed class ForwardingGate(IForwardingControl control, IReadOnlyList<uint> interfaces)
{
    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];
    private int _open;

    /// <summary>True between a successful <see cref="Open"/> and the next <see cref="Close"/>.</summary>
    public bool IsOpen => Volatile.Read(ref _open) != 0;

    /// <summary>Turns forwarding on everywhere; on any failure turns it off again and throws.</summary>
    public void Open()
    {
        try
        {
            foreach (var index in interfaces)
            {
                foreach (var family in Families)
                {
                    control.SetForwarding(index, family, enabled: true);
                }
            }

            Volatile.Write(ref _open, 1);
        }
        catch
        {
            _ = Close();
            throw;
        }
    }

    /// <summary>
    /// Turns forwarding off on every interface and family, trying all of them even when one fails. Returns the
    /// failures (empty when the gate is shut).
    /// </summary>
    public IReadOnlyList<string> Close()
    {
        Volatile.Write(ref _open, 0);
        List<string>? failures = null;
        foreach (var index in interfaces)
        {
            foreach (var family in Families)
            {
                try
                {
                    control.SetForwarding(index, family, enabled: false);
                }
                catch (Exception e) when (e is PacketPortException or PlatformNotSupportedException or DllNotFoundException or EntryPointNotFoundException)
                {
                    (failures ??= []).Add(e.Message);
                }
            }
        }

        return failures ?? (IReadOnlyList<string>)[];
    }
}

/// <summary>
/// What <c>camfw gateway-failsafe</c> runs when the gateway's service dies (a Windows service recovery action): IP
/// forwarding off on the given interfaces, so nothing is routed past the dead gateway.
/// </summary>
public static class GatewayFailsafe
{
    /// <summary>
    /// Turns IPv4 and IPv6 forwarding off on every interface index given. Returns one message per failure (empty:
    /// all off). Throws <see cref="PlatformNotSupportedException"/> anywhere but Windows.
    /// </summary>
    public static IReadOnlyList<string> TurnForwardingOff(IReadOnlyList<uint> interfaceIndexes)
    {
        ArgumentNullException.ThrowIfNull(interfaceIndexes);
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("gateway-failsafe switches Windows IP forwarding; it runs only on Windows.");
        }

        return new ForwardingGate(IpHelperForwarding.Instance, interfaceIndexes).Close();
    }
}
