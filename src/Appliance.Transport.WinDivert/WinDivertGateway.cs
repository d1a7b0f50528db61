using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Appliance.Core;
using Appliance.Transport.WinDivert.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Transport.WinDivert;

/// <summary>
/// The Windows data path, for a Windows host that routes between a camera interface and an uplink interface.
/// Two WinDivert 2.2 handles, one thread each, receive packets in batches (WinDivertRecvEx, up to 255), ask the
/// engine about each bare IP packet, compact the passed ones in place and re-inject them, bytes and addresses
/// unchanged, in one WinDivertSendEx; dropped packets are not re-injected.
/// <list type="bullet">
/// <item>NETWORK_FORWARD, filter <c>true</c>: everything Windows routes. The driver gives only the interface a
/// packet will leave by (IfIdx), so: leaving by the camera interface means it came from elsewhere (uplink side);
/// leaving by the uplink means it came from the camera side only when its source lies in
/// <see cref="WinDivertGatewayOptions.CameraNetworks"/>, else it is uplink-to-uplink traffic and dropped as not
/// camera traffic; leaving by any third interface is dropped.</item>
/// <item>NETWORK, filter <c>ifIdx == camera and !loopback</c>: traffic between the cameras and this Windows host
/// (RDP, SMB, the management API): inbound is camera side, outbound is uplink side.</item>
/// </list>
/// Each layer has its own engine: a packet is either routed or local, so no flow spans both.
/// <para>
/// Fail closed. IP forwarding on the camera and uplink interfaces is the gate (<see cref="ForwardingGate"/>): off
/// before the handles open, on once the forward loop turns, and off FIRST on every stop and fault, before any
/// WinDivertShutdown or WinDivertClose, because the driver re-injects what a closing handle still queues and stops
/// diverting once shut down or closed. On a fault the handle stays open and unread for the queue time so the
/// driver drops what it queued, then closes. A stop turns forwarding off, shuts receiving down and decides what
/// the driver still queues before closing.
/// </para>
/// Not run against the real driver: the repository's CI is Linux; tests drive the loop through a scripted fake of
/// <see cref="IWinDivertApi"/>.
/// </summary>
public sealed partial class WinDivertGateway : IDataPlane
{
    /// <summary>The forward layer's filter: every routed packet. Fixed; a narrower filter would pass the rest unjudged.</summary>
    internal const string ForwardFilter = "true";

    /// <summary>Margin past the queue time before a held handle closes (the driver's timestamps are not ours).</summary>
    internal static readonly TimeSpan HoldMargin = TimeSpan.FromMilliseconds(250);

    private readonly IWinDivertApi _api;
    private readonly ForwardingGate _gate;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WinDivertGatewayOptions _options;
    private readonly CameraNetworkSet _cameraNetworks;
    private readonly Func<long> _clock;
    private readonly Channel _forward;
    private readonly Channel _local;
    private readonly StagedStop _stop = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _running;
    private Exception? _fault;
    private volatile string? _gateProblem;

    private WinDivertGateway(IWinDivertApi api, ForwardingGate gate, TimeProvider time, ILogger logger, WinDivertGatewayOptions options, Func<WinDivertGateway, Channel> forward, Func<WinDivertGateway, Channel> local)
    {
        _api = api;
        _gate = gate;
        _time = time;
        _logger = logger;
        _options = options;
        _cameraNetworks = new CameraNetworkSet(options.CameraNetworks);
        _clock = options.ClockMs ?? EngineClock.CreateMonotonic();
        Name = options.Name ?? $"windivert-{options.CameraInterfaceIndex}-{options.UplinkInterfaceIndex}";
        _forward = forward(this);
        _local = local(this);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public Task Completion => _completion.Task;

    /// <summary>True while both loops run, nothing faulted and forwarding is on.</summary>
    public bool IsHealthy => _running && Fault is null && _gate.IsOpen;

    /// <summary>
    /// Always false: WinDivertRecvEx blocks until traffic arrives, so a quiet gateway cannot be told from a wedged one
    /// by its turn time. A dead process is covered by the service's recovery action (<c>camfw gateway-failsafe</c>).
    /// </summary>
    public bool IsStalled => false;

    /// <inheritdoc />
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>Routed packets dropped because they were not between the camera side and the uplink (uplink to uplink, third interfaces), and local packets not on the camera interface.</summary>
    public long NotCameraTraffic => _forward.Counters.NotCameraTraffic + _local.Counters.NotCameraTraffic;

    /// <summary>Packets dropped because the driver's batch could not be split or a packet's header contradicted its address.</summary>
    public long Malformed => _forward.Counters.Malformed + _local.Counters.Malformed;

    /// <summary>
    /// Failed WinDivertSendEx calls by Win32 error code. 1232 (ERROR_HOST_UNREACHABLE) is soft: an impostor packet's
    /// TTL ran out, that packet was not injected and the rest of the batch was; other codes lost the batch.
    /// </summary>
    public IReadOnlyList<KeyValuePair<int, long>> SendErrors => [.. _forward.Counters.SendErrors.Snapshot().Concat(_local.Counters.SendErrors.Snapshot()).GroupBy(p => p.Key).Select(g => new KeyValuePair<int, long>(g.Key, g.Sum(p => p.Value))).OrderBy(p => p.Key)];

    /// <summary>
    /// Opens both WinDivert handles (forwarding turned off first). Throws <see cref="PlatformNotSupportedException"/>
    /// anywhere but 64-bit Windows, and <see cref="PacketPortException"/> naming the cause (driver missing or
    /// blocked, not Administrator, wrong WinDivert version) on Windows.
    /// </summary>
    /// <param name="forwardDecider">Decides routed packets; its engine belongs to the forward thread alone.</param>
    /// <param name="localDecider">Decides camera-to-host packets; its engine belongs to the local thread alone.</param>
    /// <param name="options">Interfaces, camera networks, queue tuning.</param>
    /// <param name="logger">Start, stop, gate and fault events.</param>
    public static WinDivertGateway Open<TDecider>(TDecider forwardDecider, TDecider localDecider, WinDivertGatewayOptions options, ILogger? logger = null)
        where TDecider : IPacketDecider
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(
                $"The WinDivert gateway runs only on Windows (it needs the WinDivert driver); this is {RuntimeInformation.OSDescription}. "
                + "On Linux use the libpcap bridge: camfw run with a camera and an uplink interface and Bridge:Backend libpcap.");
        }

        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException(
                $"The WinDivert gateway runs only as a 64-bit x64 process (windivert.h declares no calling convention, so the 32-bit DLL would be cdecl); this is {RuntimeInformation.ProcessArchitecture}.");
        }

        return Open(forwardDecider, localDecider, options, WinDivertNativeApi.Instance, IpHelperForwarding.Instance, TimeProvider.System, logger);
    }

    /// <summary>Opens the gateway over the given seams (tests pass fakes).</summary>
    internal static WinDivertGateway Open<TDecider>(TDecider forwardDecider, TDecider localDecider, WinDivertGatewayOptions options, IWinDivertApi api, IForwardingControl forwarding, TimeProvider time, ILogger? logger)
        where TDecider : IPacketDecider
    {
        ArgumentNullException.ThrowIfNull(forwardDecider);
        ArgumentNullException.ThrowIfNull(localDecider);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid WinDivert gateway options: " + string.Join("; ", problems), nameof(options));
        }

        var gate = new ForwardingGate(forwarding, [options.CameraInterfaceIndex, options.UplinkInterfaceIndex]);

        // 1. Forwarding off before any handle opens: off by default, whatever a crash left behind.
        var failures = gate.Close();
        if (failures.Count > 0)
        {
            throw new PacketPortException("Cannot turn IP forwarding off on the camera and uplink interfaces, so the gateway would not fail closed: " + string.Join("; ", failures));
        }

        // 2. The handles: the forward one first, so a missing or blocked driver is reported once.
        var forwardHandle = OpenHandle(api, ForwardFilter, WinDivertLayer.NetworkForward, options);
        nint localHandle;
        try
        {
            localHandle = OpenHandle(api, LocalFilter(options.CameraInterfaceIndex), WinDivertLayer.Network, options);
        }
        catch
        {
            // Forwarding is off, so the forward handle has queued nothing to re-inject.
            _ = api.Close(forwardHandle, out _);
            throw;
        }

        return new WinDivertGateway(
            api,
            gate,
            time,
            logger ?? NullLogger.Instance,
            options,
            owner => new Channel<TDecider>(owner, WinDivertLayer.NetworkForward, forwardHandle, forwardDecider),
            owner => new Channel<TDecider>(owner, WinDivertLayer.Network, localHandle, localDecider));
    }

    /// <summary>The local layer's filter: packets between this host and the camera interface, loopback excluded.</summary>
    internal static string LocalFilter(uint cameraInterface) => $"ifIdx == {cameraInterface} and !loopback";

    /// <inheritdoc />
    public DataPlaneReport Report()
    {
        var camera = new PortReport($"if{_options.CameraInterfaceIndex}", _forward.Counters.Camera.Snapshot(_local.Counters.Camera), default, PortCondition.NoLink);
        var uplink = new PortReport($"if{_options.UplinkInterfaceIndex}", _forward.Counters.Uplink.Snapshot(_local.Counters.Uplink), default, PortCondition.NoLink);
        var healthy = IsHealthy;
        var problem = Fault?.Message ?? _gateProblem ?? (!healthy ? "not forwarding" : null);
        return new DataPlaneReport(Name, healthy, problem, camera, uplink);
    }

    /// <summary>Starts both gateway threads; the forward thread turns forwarding on as its loop begins. Once only.</summary>
    public void Start() => _stop.Start(Name, () =>
    {
        _running = true;
        Log.Started(_logger, Name, _options.CameraInterfaceIndex, _options.UplinkInterfaceIndex);
        foreach (var channel in (ReadOnlySpan<Channel>)[_forward, _local])
        {
            lock (channel.Sync)
            {
                channel.State = ChannelState.Running;
            }

            channel.Thread = new Thread(() => Run(channel)) { IsBackground = true, Name = $"camfw-windivert-{channel.LayerName}" };
            channel.Thread.Start();
        }
    });

    /// <summary>
    /// The data planes' one <see cref="StagedStop"/>: 1. IP forwarding off (the gate), 2. each running handle stops receiving (WinDivertShutdown RECV) and its loop
    /// decides what the driver still queued, 3. the handle closes with nothing left to re-inject. A handle never read
    /// (stop before start) or faulted stays open and unread for the queue time first. Does not throw for an earlier
    /// fault; read <see cref="Completion"/> or <see cref="Fault"/> for that. Safe to call twice and from any thread.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _stop.StopAsync(
            () =>
            {
                // 1. The gate first: nothing more is routed, whatever happens to the handles below.
                _running = false;
                CloseGate();
            },
            started =>
            {
                // 2. Stop receiving, or hold what was never read.
                foreach (var channel in (ReadOnlySpan<Channel>)[_forward, _local])
                {
                    if (started)
                    {
                        ShutdownReceive(channel);
                    }
                    else
                    {
                        Hold(channel);
                    }
                }
            },
            // 3. The loops close their handles once drained; held handles close after the queue time.
            () => Task.WhenAll(_forward.Closed.Task, _local.Closed.Task),
            cancellationToken).ConfigureAwait(false);
        if (Fault is null)
        {
            Log.Stopped(_logger, Name, Report().Camera?.Traffic.FramesPassed ?? 0, Report().Uplink?.Traffic.FramesPassed ?? 0);
        }

        _completion.TrySetResult();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Length of the IP packet at the start of <paramref name="data"/> by its own header, or 0 when unreadable.</summary>
    internal static int PacketLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < 1)
        {
            return 0;
        }

        switch (data[0] >> 4)
        {
            case 4 when data.Length >= 20:
                // IHL below 5 words, or a total length shorter than the header it declares, is not a packet.
                var headerLength = (data[0] & 0x0F) * 4;
                var total = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
                return headerLength >= 20 && total >= headerLength ? total : 0;
            case 6 when data.Length >= 40:
                return 40 + BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
            default:
                return 0;
        }
    }

    /// <summary>Which side a routed packet came from, by the interface it leaves by and its source.</summary>
    internal static Origin ForwardOrigin(uint leavingBy, ReadOnlySpan<byte> packet, uint camera, uint uplink, CameraNetworkSet cameraNetworks)
    {
        if (leavingBy == camera)
        {
            // Towards the cameras, so it arrived on another interface: judged as from the uplink side, where a
            // camera's own address is a spoof the engine drops.
            return Origin.Uplink;
        }

        if (leavingBy == uplink)
        {
            // The driver does not say where a routed packet arrived. Out of the uplink it came from the camera side
            // only if its source is a camera network's; anything else was routed uplink to uplink.
            return cameraNetworks.ContainsSource(packet) ? Origin.Camera : Origin.NotCameraTraffic;
        }

        return Origin.NotCameraTraffic;
    }

    /// <summary>Which side a local (host) packet on the camera interface came from.</summary>
    internal static Origin LocalOrigin(in WinDivertAddress address, uint camera)
        => address.Loopback || address.InterfaceIndex != camera ? Origin.NotCameraTraffic
            : address.Outbound ? Origin.Uplink : Origin.Camera;

    private static nint OpenHandle(IWinDivertApi api, string filter, WinDivertLayer layer, WinDivertGatewayOptions options)
    {
        var handle = WinDivertNative.InvalidHandle;
        try
        {
            if (!api.Open(filter, layer, WinDivertNative.PriorityHighest, out handle, out var error))
            {
                throw new PacketPortException(WinDivertOpenErrors.Describe(error, layer));
            }

            CheckVersion(api, handle);
            SetParam(api, handle, WinDivertParam.QueueTime, (ulong)options.QueueTime.TotalMilliseconds);
            SetParam(api, handle, WinDivertParam.QueueLength, (ulong)options.QueueLength);
            return handle;
        }
        catch (Exception e)
        {
            if (handle != WinDivertNative.InvalidHandle && handle != 0)
            {
                // Opened moments ago with forwarding off: only the local layer may have queued a few host packets.
                _ = api.Close(handle, out _);
            }

            throw e switch
            {
                DllNotFoundException => new PacketPortException(WinDivertOpenErrors.DllNotFound, e),
                BadImageFormatException => new PacketPortException(WinDivertOpenErrors.WrongBitness, e),
                EntryPointNotFoundException => new PacketPortException(WinDivertOpenErrors.NotVersion2(e.Message), e),
                _ => e,
            };
        }
    }

    private static void CheckVersion(IWinDivertApi api, nint handle)
    {
        if (!api.GetParam(handle, WinDivertParam.VersionMajor, out var major, out var error)
            || !api.GetParam(handle, WinDivertParam.VersionMinor, out var minor, out error))
        {
            throw new PacketPortException($"The WinDivert driver does not report its version (WinDivertGetParam error {error}): it is older than 2.0; install WinDivert 2.2 (x64).");
        }

        if (major != 2 || minor < 2)
        {
            throw new PacketPortException($"The loaded WinDivert driver is version {major}.{minor}; camfw is built against WinDivert 2.2 (its WINDIVERT_ADDRESS layout and parameters) and needs 2.2 or a later 2.x. Another program may have loaded an older driver: stop it or reboot.");
        }
    }

    private static void SetParam(IWinDivertApi api, nint handle, WinDivertParam param, ulong value)
    {
        if (!api.SetParam(handle, param, value, out var error))
        {
            throw new PacketPortException($"WinDivertSetParam({param}, {value}) failed: {Marshal.GetPInvokeErrorMessage(error)} (error {error}).");
        }
    }

    private void Run(Channel channel)
    {
        try
        {
            if (channel == _forward)
            {
                // The gate opens only as the forward loop is about to read; until now forwarding was off.
                _gate.Open();
                Log.GateOpened(_logger, Name);
            }

            channel.Loop();
            if (!_stop.StopRequested)
            {
                throw new PacketPortException($"The WinDivert {channel.LayerName} handle reported ERROR_NO_DATA although nobody shut it down.");
            }

            // Drained to ERROR_NO_DATA after the shutdown: closing re-injects nothing.
            CloseHandle(channel);
        }
        catch (Exception ex)
        {
            Fail(channel, ex);
        }
    }

    private void Fail(Channel channel, Exception ex)
    {
        // Fail closed: 1. not healthy, 2. forwarding off before anything touches a handle, 3. the faulted handle stays
        // open and unread for the queue time, so the driver drops what it queued instead of re-injecting it on close,
        // 4. then it closes, 5. the host hears of it (and exits non-zero).
        _running = false;
        CloseGate();
        lock (channel.Sync)
        {
            channel.State = ChannelState.Faulted;
        }

        _ = Interlocked.CompareExchange(ref _fault, ex, null);

        Log.Faulted(_logger, ex, Name, channel.LayerName);
        _ = HoldThenCloseAsync(channel);
        _completion.TrySetException(ex);
    }

    private void CloseGate()
    {
        var failures = _gate.Close();
        if (failures.Count > 0)
        {
            _gateProblem = "IP forwarding could not be turned off: " + string.Join("; ", failures);
            Log.GateCloseFailed(_logger, Name, _gateProblem);
        }
        else
        {
            Log.GateClosed(_logger, Name);
        }
    }

    private void ShutdownReceive(Channel channel)
    {
        lock (channel.Sync)
        {
            if (channel.State != ChannelState.Running)
            {
                return; // faulted (held), already draining or closed
            }

            channel.State = ChannelState.Draining;
            if (!_api.Shutdown(channel.Handle, WinDivertShutdownHow.Receive, out var error))
            {
                Log.ShutdownFailed(_logger, Name, channel.LayerName, error);
            }
        }
    }

    private void Hold(Channel channel)
    {
        lock (channel.Sync)
        {
            if (channel.State != ChannelState.Open)
            {
                return;
            }

            channel.State = ChannelState.Holding;
        }

        _ = HoldThenCloseAsync(channel);
    }

    private async Task HoldThenCloseAsync(Channel channel)
    {
        await Task.Delay(_options.QueueTime + HoldMargin, _time).ConfigureAwait(false);
        CloseHandle(channel);
    }

    private void CloseHandle(Channel channel)
    {
        lock (channel.Sync)
        {
            if (channel.State == ChannelState.Closed)
            {
                return;
            }

            channel.State = ChannelState.Closed;
            if (!_api.Close(channel.Handle, out var error))
            {
                Log.CloseFailed(_logger, Name, channel.LayerName, error);
            }
        }

        channel.Closed.TrySetResult();
    }

    /// <summary>Where a packet came from, as far as the gateway can tell.</summary>
    internal enum Origin : byte
    {
        /// <summary>From the camera side.</summary>
        Camera,

        /// <summary>From the uplink side (or this host, towards the cameras).</summary>
        Uplink,

        /// <summary>Neither: routed between non-camera interfaces, or not on the camera interface.</summary>
        NotCameraTraffic,
    }

    /// <summary>A handle's life: opened, read by its loop, draining after a shutdown, held after a fault or unread, closed.</summary>
    private enum ChannelState
    {
        Open,
        Running,
        Draining,
        Holding,
        Faulted,
        Closed,
    }

    /// <summary>One handle and the thread that reads it.</summary>
    private abstract class Channel(WinDivertGateway owner, WinDivertLayer layer, nint handle)
    {
        public readonly Lock Sync = new();
        public readonly TaskCompletionSource Closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly ChannelCounters Counters = new();
        public ChannelState State;
        public Thread? Thread;

        public WinDivertGateway Owner { get; } = owner;

        public WinDivertLayer Layer { get; } = layer;

        /// <summary>The handle; closed only by <see cref="CloseHandle"/>, never while the loop is in a call on it.</summary>
        public nint Handle { get; } = handle;

        public string LayerName => Layer == WinDivertLayer.NetworkForward ? "forward" : "local";

        /// <summary>Receives, decides and re-injects until the handle reports ERROR_NO_DATA; throws on a fatal error.</summary>
        public abstract void Loop();
    }

    private sealed class Channel<TDecider>(WinDivertGateway owner, WinDivertLayer layer, nint handle, TDecider decider) : Channel(owner, layer, handle)
        where TDecider : IPacketDecider
    {
        private readonly TDecider _decider = decider;

        public override unsafe void Loop()
        {
            var owner = Owner;
            var api = owner._api;
            var clock = owner._clock;
            var camera = owner._options.CameraInterfaceIndex;
            var uplink = owner._options.UplinkInterfaceIndex;
            var networks = owner._cameraNetworks;
            var forward = Layer == WinDivertLayer.NetworkForward;
            var buffer = GC.AllocateUninitializedArray<byte>(owner._options.BufferSize, pinned: true);
            var addresses = GC.AllocateArray<WinDivertAddress>(WinDivertNative.BatchMax, pinned: true);

            // SAFETY: both arrays are allocated pinned and live for the whole loop; every native call gets their
            // lengths in bytes, the batch walk never reads past min(received, buffer) and the compaction only copies
            // backwards (write <= read).
            fixed (byte* buf = buffer)
            fixed (WinDivertAddress* addrs = addresses)
            {
                while (true)
                {
                    var addressBytes = (uint)(WinDivertNative.BatchMax * WinDivertAddress.Size);
                    if (!api.Receive(Handle, buf, (uint)buffer.Length, out var received, addrs, ref addressBytes, out var error))
                    {
                        if (error == WinDivertErrors.NoData)
                        {
                            return; // shut down and drained
                        }

                        if (error == WinDivertErrors.InsufficientBuffer)
                        {
                            // A packet larger than the buffer came truncated; the driver has let go of it, so dropping
                            // it here is the whole of it.
                            Counters.AddMalformed(1);
                            continue;
                        }

                        throw new PacketPortException($"WinDivertRecvEx ({LayerName}) failed: {Marshal.GetPInvokeErrorMessage(error)} (error {error}).");
                    }

                    var now = clock();
                    Decide(buf, (int)Math.Min(received, (uint)buffer.Length), received <= (uint)buffer.Length, addrs, addressBytes, now, forward, camera, uplink, networks, api);
                    _decider.Maintain(now);
                }
            }
        }

        private unsafe void Decide(byte* buf, int length, bool lengthFits, WinDivertAddress* addrs, uint addressBytes, long now, bool forward, uint camera, uint uplink, CameraNetworkSet networks, IWinDivertApi api)
        {
            var count = addressBytes % WinDivertAddress.Size == 0 ? (int)(addressBytes / WinDivertAddress.Size) : -1;
            if (!lengthFits || count is <= 0 or > WinDivertNative.BatchMax)
            {
                // The driver's answer does not describe a batch that can be split safely: none of it passes.
                Counters.AddMalformed(Math.Max(count, 1));
                return;
            }

            var data = new Span<byte>(buf, length);
            SideTally fromCamera = default, fromUplink = default;
            long notCamera = 0, malformed = 0;
            int read = 0, write = 0, passed = 0;
            for (var i = 0; i < count; i++)
            {
                var size = PacketLength(data[read..]);
                if (size <= 0 || size > data.Length - read)
                {
                    // The driver hands whole IP packets; a length that does not fit means the rest of the batch
                    // cannot be split safely, so none of it passes.
                    malformed += count - i;
                    break;
                }

                var packet = data.Slice(read, size);
                var at = read;
                read += size;
                if (addrs[i].IsIpv6 != (packet[0] >> 4 == 6))
                {
                    malformed++;
                    continue;
                }

                var origin = forward ? ForwardOrigin(addrs[i].InterfaceIndex, packet, camera, uplink, networks) : LocalOrigin(in addrs[i], camera);
                if (origin == Origin.NotCameraTraffic)
                {
                    notCamera++;
                    continue;
                }

                var side = origin == Origin.Camera ? Side.Camera : Side.Uplink;
                ref var tally = ref side == Side.Camera ? ref fromCamera : ref fromUplink;
                tally.Received++;
                tally.Bytes += size;
                if (!_decider.ProcessPacket(packet, side, now).IsPass)
                {
                    tally.Dropped++;
                    continue;
                }

                tally.Passed++;
                tally.PassedBytes += size;
                if (write != at)
                {
                    packet.CopyTo(data[write..]);
                }

                addrs[passed++] = addrs[i];
                write += size;
            }

            if (passed > 0)
            {
                // Re-inject every passed packet, bytes and address (direction, interface) exactly as received.
                if (api.Send(Handle, buf, (uint)write, addrs, (uint)(passed * WinDivertAddress.Size), out var sendError))
                {
                    fromCamera.Forwarded = fromCamera.Passed;
                    fromUplink.Forwarded = fromUplink.Passed;
                }
                else if (sendError == WinDivertErrors.HostUnreachable)
                {
                    // Soft: an impostor packet's TTL ran out; the driver injected the rest of the batch.
                    Counters.SendErrors.Add(sendError);
                    fromCamera.Forwarded = fromCamera.Passed;
                    fromUplink.Forwarded = fromUplink.Passed;
                }
                else
                {
                    Counters.SendErrors.Add(sendError);
                    fromCamera.SendErrors = fromCamera.Passed;
                    fromUplink.SendErrors = fromUplink.Passed;
                }
            }

            Counters.Camera.Add(in fromCamera);
            Counters.Uplink.Add(in fromUplink);
            Counters.AddNotCamera(notCamera);
            Counters.AddMalformed(malformed);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6300, Level = LogLevel.Information, Message = "WinDivert gateway {Name} starting: camera interface {Camera}, uplink interface {Uplink}, NETWORK_FORWARD and NETWORK layers")]
        public static partial void Started(ILogger logger, string name, uint camera, uint uplink);

        [LoggerMessage(EventId = 6301, Level = LogLevel.Information, Message = "WinDivert gateway {Name} stopped: passed {CameraPassed} from the camera side, {UplinkPassed} from the uplink side")]
        public static partial void Stopped(ILogger logger, string name, long cameraPassed, long uplinkPassed);

        [LoggerMessage(EventId = 6302, Level = LogLevel.Critical, Message = "WinDivert gateway {Name} faulted on its {Layer} handle; forwarding is off and the handle is held until the driver drops what it queued (fail closed)")]
        public static partial void Faulted(ILogger logger, Exception exception, string name, string layer);

        [LoggerMessage(EventId = 6303, Level = LogLevel.Information, Message = "WinDivert gateway {Name}: IP forwarding on")]
        public static partial void GateOpened(ILogger logger, string name);

        [LoggerMessage(EventId = 6304, Level = LogLevel.Information, Message = "WinDivert gateway {Name}: IP forwarding off")]
        public static partial void GateClosed(ILogger logger, string name);

        [LoggerMessage(EventId = 6305, Level = LogLevel.Critical, Message = "WinDivert gateway {Name}: {Problem}; routed traffic may pass unfiltered, turn forwarding off by hand (camfw gateway-failsafe)")]
        public static partial void GateCloseFailed(ILogger logger, string name, string problem);

        [LoggerMessage(EventId = 6306, Level = LogLevel.Warning, Message = "WinDivert gateway {Name}: WinDivertShutdown on the {Layer} handle failed with error {Error}")]
        public static partial void ShutdownFailed(ILogger logger, string name, string layer, int error);

        [LoggerMessage(EventId = 6307, Level = LogLevel.Warning, Message = "WinDivert gateway {Name}: WinDivertClose on the {Layer} handle failed with error {Error}")]
        public static partial void CloseFailed(ILogger logger, string name, string layer, int error);
    }
}
