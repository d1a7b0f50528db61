using System.Net;

namespace Appliance.Transport.WinDivert;

/// <summary>How the WinDivert gateway opens and runs. The WinDivert filters are fixed by the gateway, never configured.</summary>
public sealed record WinDivertGatewayOptions
{
    /// <summary>Index of the interface that faces the cameras (Get-NetAdapter's ifIndex).</summary>
    public required uint CameraInterfaceIndex { get; init; }

    /// <summary>Index of the interface that faces the rest of the site. Traffic routed out of any third interface is dropped.</summary>
    public required uint UplinkInterfaceIndex { get; init; }

    /// <summary>
    /// The networks behind the camera interface. A routed packet leaving by the uplink came from the camera side only
    /// when its source lies in one of them; otherwise it was routed from the uplink back out of it (or another
    /// non-camera interface) and is dropped as not camera traffic. At least one.
    /// </summary>
    public required IReadOnlyList<IPNetwork> CameraNetworks { get; init; }

    /// <summary>
    /// WINDIVERT_PARAM_QUEUE_TIME: how long the driver keeps an unread packet before dropping it (100 ms to 2 s). After
    /// a fault the gateway keeps its handles open and unread this long, so the driver drops what it queued instead of
    /// re-injecting it when the handle closes.
    /// </summary>
    public TimeSpan QueueTime { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>WINDIVERT_PARAM_QUEUE_LENGTH: packets the driver queues per handle (32 to 16384).</summary>
    public int QueueLength { get; init; } = 4096;

    /// <summary>Receive buffer in bytes for one batch of up to 255 packets; at least one maximal packet (65575).</summary>
    public int BufferSize { get; init; } = 2 * 1024 * 1024;

    /// <summary>Name in logs, metrics and the API.</summary>
    public string? Name { get; init; }

    /// <summary>The engine clock in milliseconds; by default Unix time advanced by a monotonic stopwatch.</summary>
    public Func<long>? ClockMs { get; init; }

    /// <summary>Every problem with these options, each naming the option (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (CameraInterfaceIndex == 0)
        {
            errors.Add("CameraInterfaceIndex must be a Windows interface index (Get-NetAdapter ifIndex), not 0");
        }

        if (UplinkInterfaceIndex == 0)
        {
            errors.Add("UplinkInterfaceIndex must be a Windows interface index (Get-NetAdapter ifIndex), not 0");
        }
        else if (UplinkInterfaceIndex == CameraInterfaceIndex)
        {
            errors.Add($"UplinkInterfaceIndex {UplinkInterfaceIndex} is the camera interface; the two sides need two interfaces");
        }

        if (CameraNetworks is null || CameraNetworks.Count == 0)
        {
            errors.Add("CameraNetworks is empty: name the networks behind the camera interface (e.g. 10.20.0.0/24)");
        }

        if (QueueTime < TimeSpan.FromMilliseconds(Native.WinDivertNative.QueueTimeMinMs) || QueueTime > TimeSpan.FromSeconds(2))
        {
            errors.Add($"QueueTime {QueueTime.TotalMilliseconds} ms must be between 100 ms and 2000 ms");
        }

        if (QueueLength is < Native.WinDivertNative.QueueLengthMin or > Native.WinDivertNative.QueueLengthMax)
        {
            errors.Add($"QueueLength {QueueLength} must be between 32 and 16384");
        }

        if (BufferSize < Native.WinDivertNative.MtuMax || BufferSize > 64 * 1024 * 1024)
        {
            errors.Add($"BufferSize {BufferSize} must be between {Native.WinDivertNative.MtuMax} and {64 * 1024 * 1024} bytes");
        }

        return errors;
    }
}
