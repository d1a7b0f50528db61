using System.Buffers.Binary;
using System.Net;
using Appliance.Core;
using Appliance.TestSupport;
using Appliance.Transport.WinDivert.Native;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Transport.WinDivert.Tests;

/// <summary>A decider that records what it was asked and answers by a rule (or throws).</summary>
internal sealed class RecordingDecider(Func<byte[], Side, bool>? pass = null) : IPacketDecider
{
    private readonly Lock _sync = new();
    private readonly List<(byte[] Packet, Side Side)> _seen = [];

    public Func<byte[], Side, bool> Pass { get; set; } = pass ?? ((_, _) => true);

    public IReadOnlyList<(byte[] Packet, Side Side)> Seen
    {
        get
        {
            lock (_sync)
            {
                return [.. _seen];
            }
        }
    }

    public Verdict ProcessPacket(ReadOnlySpan<byte> packet, Side side, long nowMs)
    {
        var copy = packet.ToArray();
        lock (_sync)
        {
            _seen.Add((copy, side));
        }

        return Pass(copy, side) ? Verdict.Pass(Reason.RuleMatch) : Verdict.Drop(Reason.NoRuleMatched);
    }

    public void Maintain(long nowMs)
    {
    }
}

/// <summary>One gateway over the fake driver, fake forwarding and fake time.</summary>
internal sealed class Harness
{
    public const uint Camera = 7;
    public const uint Uplink = 3;
    public const uint Third = 9;

    public FakeWinDivert Fake { get; } = new();

    public FakeTimeProvider Time { get; } = new();

    public RecordingDecider Forward { get; } = new();

    public RecordingDecider Local { get; } = new();

    public WinDivertGatewayOptions Options { get; set; } = new()
    {
        CameraInterfaceIndex = Camera,
        UplinkInterfaceIndex = Uplink,
        CameraNetworks = [IPNetwork.Parse("10.20.0.0/24"), IPNetwork.Parse("2001:db8:20::/64")],
        QueueTime = TimeSpan.FromMilliseconds(500),
        ClockMs = () => 1_000,
    };

    public TimeSpan Hold => Options.QueueTime + WinDivertGateway.HoldMargin;

    public WinDivertGateway Open() => WinDivertGateway.Open(Forward, Local, Options, Fake, Fake, Time, null);

    public async Task<WinDivertGateway> StartedAsync()
    {
        var gateway = Open();
        gateway.Start();
        await Eventually.TrueAsync(() => Fake.IsWaiting(FakeWinDivert.ForwardHandle) && Fake.IsWaiting(FakeWinDivert.LocalHandle), "both loops blocked in WinDivertRecvEx");
        return gateway;
    }

    /// <summary>An IPv4 UDP packet with <paramref name="payload"/> bytes of payload.</summary>
    public static byte[] V4(string source, string destination, int payload = 8, byte marker = 0)
    {
        var p = new byte[20 + payload];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = 64;
        p[9] = 17;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(p, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(p, 16);
        if (payload > 0)
        {
            p[^1] = marker;
        }

        return p;
    }

    /// <summary>An IPv6 UDP packet with <paramref name="payload"/> bytes of payload.</summary>
    public static byte[] V6(string source, string destination, int payload = 8, byte marker = 0)
    {
        var p = new byte[40 + payload];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)payload);
        p[6] = 17;
        p[7] = 64;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(p, 8);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(p, 24);
        if (payload > 0)
        {
            p[^1] = marker;
        }

        return p;
    }

    /// <summary>The address WinDivert gives a packet: forward layer (outbound) or network layer, interface, IPv6 flag.</summary>
    public static WinDivertAddress Address(byte[] packet, uint ifIdx, bool forward = true, bool outbound = true, bool loopback = false, long timestamp = 0)
    {
        var bits = (forward ? 1u : 0u)
            | (forward || outbound ? WinDivertAddress.OutboundBit : 0)
            | (loopback ? WinDivertAddress.LoopbackBit : 0)
            | (packet[0] >> 4 == 6 ? WinDivertAddress.Ipv6Bit : 0);
        return new WinDivertAddress { Timestamp = timestamp == 0 ? 0x1234_5678 + packet.Length : timestamp, Bits = bits, InterfaceIndex = ifIdx, SubInterfaceIndex = 0 };
    }

    public static ScriptedReceive Batch(params (byte[] Packet, WinDivertAddress Address)[] packets)
        => new([.. packets.SelectMany(p => p.Packet)], [.. packets.Select(p => p.Address)]);
}
