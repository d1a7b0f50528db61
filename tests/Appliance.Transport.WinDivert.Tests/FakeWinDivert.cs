using System.Net.Sockets;
using Appliance.Transport.WinDivert.Native;

namespace Appliance.Transport.WinDivert.Tests;

/// <summary>One scripted answer of WinDivertRecvEx: a batch (packed packets and their addresses) or an error.</summary>
internal sealed record ScriptedReceive(byte[] Packets, WinDivertAddress[] Addresses, int Error = 0, uint? AddressBytes = null, uint? ReceivedLength = null)
{
    public static ScriptedReceive Fail(int error) => new([], [], error);
}

/// <summary>What the fake was asked to send.</summary>
internal sealed record SentBatch(string Layer, byte[] Packets, WinDivertAddress[] Addresses);

/// <summary>
/// A scripted WinDivert driver and IP Helper: every call lands in one ordered log, receives block until a batch is
/// scripted or the handle is shut down (then ERROR_NO_DATA once the script is empty), as the driver does.
/// </summary>
internal sealed unsafe class FakeWinDivert : IWinDivertApi, IForwardingControl
{
    public const nint ForwardHandle = 100;
    public const nint LocalHandle = 200;

    private readonly object _sync = new();
    private readonly List<string> _log = [];
    private readonly Dictionary<nint, Queue<ScriptedReceive>> _scripts = new() { [ForwardHandle] = new(), [LocalHandle] = new() };
    private readonly HashSet<nint> _shutdown = [];
    private readonly HashSet<nint> _closed = [];
    private readonly HashSet<nint> _waiting = [];
    private readonly List<SentBatch> _sent = [];

    public Dictionary<WinDivertLayer, int> OpenErrors { get; } = [];

    public Dictionary<WinDivertLayer, Exception> OpenThrows { get; } = [];

    public ulong VersionMajor { get; set; } = 2;

    public ulong VersionMinor { get; set; } = 2;

    public int GetParamError { get; set; }

    public int SetParamError { get; set; }

    public Queue<int> SendErrors { get; } = new();

    public Exception? ForwardingThrowsWhenEnabling { get; set; }

    public Dictionary<(uint, AddressFamily), bool> Forwarding { get; } = [];

    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_sync)
            {
                return [.. _log];
            }
        }
    }

    public IReadOnlyList<SentBatch> Sent
    {
        get
        {
            lock (_sync)
            {
                return [.. _sent];
            }
        }
    }

    public static string LayerOf(nint handle) => handle == ForwardHandle ? "forward" : handle == LocalHandle ? "local" : $"handle{handle}";

    public bool IsWaiting(nint handle)
    {
        lock (_sync)
        {
            return _waiting.Contains(handle);
        }
    }

    public bool IsClosed(nint handle)
    {
        lock (_sync)
        {
            return _closed.Contains(handle);
        }
    }

    public void Script(nint handle, ScriptedReceive receive)
    {
        lock (_sync)
        {
            _scripts[handle].Enqueue(receive);
            Monitor.PulseAll(_sync);
        }
    }

    public bool Open(string filter, WinDivertLayer layer, short priority, out nint handle, out int error)
    {
        var name = layer == WinDivertLayer.NetworkForward ? "forward" : "local";
        Record($"open {name} {filter}");
        if (OpenThrows.TryGetValue(layer, out var ex))
        {
            throw ex;
        }

        if (OpenErrors.TryGetValue(layer, out error))
        {
            handle = WinDivertNative.InvalidHandle;
            return false;
        }

        handle = layer == WinDivertLayer.NetworkForward ? ForwardHandle : LocalHandle;
        error = 0;
        return true;
    }

    public bool Receive(nint handle, byte* packets, uint packetsLength, out uint received, WinDivertAddress* addresses, ref uint addressesLength, out int error)
    {
        ScriptedReceive next;
        lock (_sync)
        {
            Assert.DoesNotContain(handle, _closed);
            while (_scripts[handle].Count == 0 && !_shutdown.Contains(handle))
            {
                _waiting.Add(handle);
                Monitor.Wait(_sync);
            }

            _waiting.Remove(handle);
            if (_scripts[handle].Count == 0)
            {
                _log.Add($"recv {LayerOf(handle)} -> no data");
                received = 0;
                addressesLength = 0;
                error = WinDivertErrors.NoData;
                return false;
            }

            next = _scripts[handle].Dequeue();
            _log.Add($"recv {LayerOf(handle)}" + (next.Error != 0 ? $" -> error {next.Error}" : $" -> {next.Addresses.Length} packets"));
        }

        if (next.Error != 0)
        {
            received = 0;
            error = next.Error;
            return false;
        }

        var length = (uint)Math.Min(next.Packets.Length, packetsLength);
        next.Packets.AsSpan(0, (int)length).CopyTo(new Span<byte>(packets, (int)packetsLength));
        var count = Math.Min(next.Addresses.Length, (int)(addressesLength / WinDivertAddress.Size));
        next.Addresses.AsSpan(0, count).CopyTo(new Span<WinDivertAddress>(addresses, count));
        received = next.ReceivedLength ?? length;
        addressesLength = next.AddressBytes ?? (uint)(count * WinDivertAddress.Size);
        error = 0;
        return true;
    }

    public bool Send(nint handle, byte* packets, uint packetsLength, WinDivertAddress* addresses, uint addressesLength, out int error)
    {
        var batch = new SentBatch(LayerOf(handle), new ReadOnlySpan<byte>(packets, (int)packetsLength).ToArray(), new ReadOnlySpan<WinDivertAddress>(addresses, (int)(addressesLength / WinDivertAddress.Size)).ToArray());
        lock (_sync)
        {
            Assert.DoesNotContain(handle, _closed);
            _log.Add($"send {LayerOf(handle)} {batch.Addresses.Length}");
            _sent.Add(batch);
            error = SendErrors.Count > 0 ? SendErrors.Dequeue() : 0;
            return error == 0;
        }
    }

    public bool Shutdown(nint handle, WinDivertShutdownHow how, out int error)
    {
        lock (_sync)
        {
            Assert.DoesNotContain(handle, _closed);
            _log.Add($"shutdown {LayerOf(handle)} {how}");
            _shutdown.Add(handle);
            Monitor.PulseAll(_sync);
        }

        error = 0;
        return true;
    }

    public bool Close(nint handle, out int error)
    {
        lock (_sync)
        {
            Assert.True(_closed.Add(handle), $"{LayerOf(handle)} closed twice");
            _log.Add($"close {LayerOf(handle)}");
        }

        error = 0;
        return true;
    }

    public bool SetParam(nint handle, WinDivertParam param, ulong value, out int error)
    {
        Record($"setparam {LayerOf(handle)} {param} {value}");
        error = SetParamError;
        return error == 0;
    }

    public bool GetParam(nint handle, WinDivertParam param, out ulong value, out int error)
    {
        Record($"getparam {LayerOf(handle)} {param}");
        value = param == WinDivertParam.VersionMajor ? VersionMajor : param == WinDivertParam.VersionMinor ? VersionMinor : 0;
        error = GetParamError;
        return error == 0;
    }

    public bool SetForwarding(uint interfaceIndex, AddressFamily family, bool enabled)
    {
        Record($"forwarding {interfaceIndex} {(family == AddressFamily.InterNetworkV6 ? "v6" : "v4")} {(enabled ? "on" : "off")}");
        if (enabled && ForwardingThrowsWhenEnabling is { } ex)
        {
            throw ex;
        }

        lock (_sync)
        {
            Forwarding[(interfaceIndex, family)] = enabled;
        }

        return true;
    }

    private void Record(string entry)
    {
        lock (_sync)
        {
            _log.Add(entry);
        }
    }
}
