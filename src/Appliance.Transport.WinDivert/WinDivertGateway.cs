using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Appliance.Core;
using Appliance.Transport.WinDivert.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Transport.WinDivert;

/// <summary>
/// The Windows data path: a WinDivert handle at the NETWORK_FORWARD layer diverts every packet the host routes
/// between the camera interface and the others; one thread receives them in batches (WinDivertRecvEx, up to 255),
/// asks the engine's L3 entry about each bare IP packet, compacts the passed ones in place and re-injects them in
/// one WinDivertSendEx. Dropped packets are simply not re-injected.
/// <para>
/// Fail closed as the bridge does: if the engine throws, nothing more is re-injected, <see cref="IsHealthy"/> turns
/// false and <see cref="Completion"/> faults. Staged shutdown: WinDivertShutdown(RECV) stops new packets, the loop
/// drains what the driver already queued, then the handle closes.
/// </para>
/// Not exercised on this repository's Linux CI: it needs Windows, Administrator and the signed WinDivert driver.
/// </summary>
public sealed partial class WinDivertGateway : IAsyncDisposable, IDisposable
{
    private readonly WinDivertHandle _handle;
    private readonly Loop _loop;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;
    private volatile bool _running;
    private long _passed;
    private long _dropped;
    private long _sendErrors;

    private WinDivertGateway(WinDivertHandle handle, Loop loop, ILogger logger)
    {
        _handle = handle;
        _loop = loop;
        _logger = logger;
    }

    /// <summary>Completes when the loop ends; faulted with the cause when it failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>True while packets are being decided and re-injected.</summary>
    public bool IsHealthy => _running;

    /// <summary>Packets passed and re-injected.</summary>
    public long PacketsPassed => Volatile.Read(ref _passed);

    /// <summary>Packets dropped (not re-injected).</summary>
    public long PacketsDropped => Volatile.Read(ref _dropped);

    /// <summary>Passed packets WinDivert refused to re-inject.</summary>
    public long SendErrors => Volatile.Read(ref _sendErrors);

    /// <summary>
    /// Opens the WinDivert handle. Throws <see cref="PlatformNotSupportedException"/> anywhere but Windows, and
    /// <see cref="PacketPortException"/> naming the cause (driver missing, not Administrator, bad filter) on Windows.
    /// </summary>
    public static WinDivertGateway Open<TDecider>(TDecider decider, WinDivertGatewayOptions options, ILogger? logger = null)
        where TDecider : IPacketDecider
    {
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentNullException.ThrowIfNull(options);
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(
                $"The WinDivert gateway runs only on Windows (it needs the WinDivert driver); this is {RuntimeInformation.OSDescription}. "
                + "On Linux use the libpcap bridge: camfw run with a camera and an uplink interface.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.BufferSize, WinDivertNative.MtuMax);
        WinDivertHandle handle;
        try
        {
            handle = WinDivertNative.WinDivertOpen(options.Filter, WinDivertLayer.NetworkForward, options.Priority, 0);
        }
        catch (DllNotFoundException ex)
        {
            throw new PacketPortException("WinDivert.dll was not found next to camfw; install WinDivert 2.x (WinDivert.dll and WinDivert64.sys).", ex);
        }

        if (handle.IsInvalid)
        {
            var error = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new PacketPortException(error switch
            {
                2 => "WinDivertOpen failed: the driver file WinDivert64.sys was not found next to WinDivert.dll.",
                5 => "WinDivertOpen failed: access denied; run camfw as Administrator.",
                87 => $"WinDivertOpen failed: the filter '{options.Filter}' is invalid for the NETWORK_FORWARD layer.",
                577 => "WinDivertOpen failed: the WinDivert driver's signature was rejected (secure boot or an old Windows).",
                1275 => "WinDivertOpen failed: the driver was blocked; another incompatible WinDivert version may be loaded.",
                _ => $"WinDivertOpen failed: {Marshal.GetPInvokeErrorMessage(error)} (error {error}).",
            });
        }

        var clock = options.ClockMs ?? EngineClock.CreateMonotonic();
        return new WinDivertGateway(handle, new Loop<TDecider>(decider, options.CameraInterfaceIndex, options.BufferSize, clock), logger ?? NullLogger.Instance);
    }

    /// <summary>Starts the gateway thread.</summary>
    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("The WinDivert gateway was already started.");
        }

        _running = true;
        _thread = new Thread(Run) { IsBackground = true, Name = "camfw-windivert" };
        _thread.Start();
    }

    /// <summary>Staged shutdown: stop receiving, drain the driver's queue, close.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (!_handle.IsClosed)
        {
            _ = WinDivertNative.WinDivertShutdown(_handle, WinDivertShutdownHow.Receive);
        }

        if (_thread is null)
        {
            _handle.Dispose();
            _completion.TrySetResult();
            return;
        }

        try
        {
            await _completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Reported through Completion.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_handle.IsClosed)
        {
            _ = WinDivertNative.WinDivertShutdown(_handle, WinDivertShutdownHow.Both);
        }

        _thread?.Join(TimeSpan.FromSeconds(5));
        _handle.Dispose();
        _completion.TrySetResult();
    }

    private void Run()
    {
        Log.Started(_logger);
        try
        {
            _loop.Run(this);
            _running = false;
            _handle.Dispose();
            Log.Stopped(_logger, PacketsPassed, PacketsDropped);
            _completion.TrySetResult();
        }
        catch (Exception ex)
        {
            // Fail closed: 1. unhealthy, 2. close the handle (the driver drops whatever it still queues), 3. report.
            _running = false;
            _handle.Dispose();
            Log.Faulted(_logger, ex);
            _completion.TrySetException(ex);
        }
    }

    /// <summary>Length of the IP packet at the start of <paramref name="data"/> by its own header, or 0 when unreadable.</summary>
    internal static int PacketLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < 1)
        {
            return 0;
        }

        return (data[0] >> 4) switch
        {
            4 when data.Length >= 20 => BinaryPrimitives.ReadUInt16BigEndian(data[2..]),
            6 when data.Length >= 40 => 40 + BinaryPrimitives.ReadUInt16BigEndian(data[4..]),
            _ => 0,
        };
    }

    private abstract class Loop
    {
        public abstract void Run(WinDivertGateway owner);
    }

    private sealed class Loop<TDecider>(TDecider decider, uint cameraInterface, int bufferSize, Func<long> clock) : Loop
        where TDecider : IPacketDecider
    {
        public override unsafe void Run(WinDivertGateway owner)
        {
            var buffer = GC.AllocateUninitializedArray<byte>(bufferSize, pinned: true);
            var addresses = GC.AllocateArray<WinDivertAddress>(WinDivertNative.BatchMax, pinned: true);

            // SAFETY: both arrays are allocated pinned and live for the whole loop; every native call gets their
            // lengths in bytes, and the packet walk below never reads past recvLength.
            fixed (byte* buf = buffer)
            fixed (WinDivertAddress* addrs = addresses)
            {
                while (true)
                {
                    uint received = 0;
                    var addressBytes = (uint)(WinDivertNative.BatchMax * WinDivertAddress.Size);
                    if (WinDivertNative.WinDivertRecvEx(owner._handle, buf, (uint)buffer.Length, &received, 0, addrs, &addressBytes, 0) == 0)
                    {
                        var error = Marshal.GetLastPInvokeError();
                        if (error == WinDivertNative.ErrorNoData)
                        {
                            return; // shut down and drained
                        }

                        throw new PacketPortException($"WinDivertRecvEx failed: {Marshal.GetPInvokeErrorMessage(error)} (error {error}).");
                    }

                    var now = clock();
                    var count = (int)(addressBytes / WinDivertAddress.Size);
                    var data = new Span<byte>(buf, (int)received);
                    int read = 0, write = 0, passed = 0;
                    long dropped = 0;
                    for (var i = 0; i < count; i++)
                    {
                        var length = PacketLength(data[read..]);
                        if (length <= 0 || length > data.Length - read)
                        {
                            // The driver hands whole IP packets; a length that does not fit means the rest of the
                            // batch cannot be split safely, so none of it passes.
                            dropped += count - i;
                            break;
                        }

                        // At NETWORK_FORWARD every packet is outbound and IfIdx is the interface it will leave by.
                        var side = addrs[i].InterfaceIndex == cameraInterface ? Side.Uplink : Side.Camera;
                        var packet = data.Slice(read, length);
                        var verdict = decider.ProcessPacket(packet, side, now);
                        if (verdict.IsPass)
                        {
                            // Compact passed packets to the front (write <= read, so the copy never overruns).
                            if (write != read)
                            {
                                packet.CopyTo(data[write..]);
                            }

                            addrs[passed++] = addrs[i];
                            write += length;
                        }
                        else
                        {
                            dropped++;
                        }

                        read += length;
                    }

                    if (passed > 0 && WinDivertNative.WinDivertSendEx(owner._handle, buf, (uint)write, null, 0, addrs, (uint)(passed * WinDivertAddress.Size), 0) == 0)
                    {
                        Volatile.Write(ref owner._sendErrors, owner._sendErrors + passed);
                    }
                    else
                    {
                        Volatile.Write(ref owner._passed, owner._passed + passed);
                    }

                    Volatile.Write(ref owner._dropped, owner._dropped + dropped);
                    decider.Maintain(now);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6300, Level = LogLevel.Information, Message = "WinDivert gateway forwarding at the NETWORK_FORWARD layer")]
        public static partial void Started(ILogger logger);

        [LoggerMessage(EventId = 6301, Level = LogLevel.Information, Message = "WinDivert gateway stopped: passed {Passed}, dropped {Dropped}")]
        public static partial void Stopped(ILogger logger, long passed, long dropped);

        [LoggerMessage(EventId = 6302, Level = LogLevel.Critical, Message = "WinDivert gateway faulted and stopped re-injecting (fail closed)")]
        public static partial void Faulted(ILogger logger, Exception exception);
    }
}
