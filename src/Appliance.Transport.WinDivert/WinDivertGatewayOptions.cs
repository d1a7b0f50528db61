namespace Appliance.Transport.WinDivert;

/// <summary>How the WinDivert gateway captures.</summary>
public sealed record WinDivertGatewayOptions
{
    /// <summary>
    /// Index of the interface that faces the cameras (Get-NetAdapter's ifIndex). Forwarded packets that will leave
    /// by it are towards cameras (from the uplink side); every other forwarded packet is from the camera side.
    /// </summary>
    public required uint CameraInterfaceIndex { get; init; }

    /// <summary>WinDivert filter language; everything the host forwards by default.</summary>
    public string Filter { get; init; } = "true";

    /// <summary>WinDivert handle priority (-30000..30000).</summary>
    public short Priority { get; init; }

    /// <summary>Receive buffer in bytes for one batch of up to 255 packets.</summary>
    public int BufferSize { get; init; } = 2 * 1024 * 1024;

    /// <summary>
    /// The engine clock in milliseconds; by default Unix time advanced by a monotonic stopwatch.
    /// </summary>
    public Func<long>? ClockMs { get; init; }
}
