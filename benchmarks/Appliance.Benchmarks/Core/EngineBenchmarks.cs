using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Wire;
using BenchmarkDotNet.Attributes;

namespace Appliance.Benchmarks.Core;

/// <summary>
/// Parse + decide per frame, through <see cref="PacketEngine.ProcessFrame"/>, as the camera count grows. Each
/// invocation decides a batch of <see cref="Batch"/> frames from distinct cameras spread over the whole site
/// (<c>OperationsPerInvoke</c>: figures are per frame). The baseline is parsing alone, so the ratio column is the
/// price of the decision.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private const int Batch = 1024;

    private PacketEngine _engine = null!;
    private byte[][] _established = [];
    private byte[][] _openers = [];
    private long _now;

    [Params(10, 1_000, 10_000, 100_000)]
    public int Cameras { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = EngineSetup.Engine(Cameras, new EngineOptions { FlowCapacity = 65_536, EventRingCapacity = 1_024 });
        _established = new byte[Batch][];
        _openers = new byte[Batch][];
        var stride = Math.Max(1, Cameras / Batch);
        for (var i = 0; i < Batch; i++)
        {
            var cam = i * stride % Cameras;
            var port = (ushort)(20_000 + i);
            var camMac = EngineSetup.CameraMac(cam);
            var camIp = EngineSetup.CameraIp(cam);

            // An established egress flow (SYN, SYN-ACK, ACK), measured on the NVR's data towards the camera. The
            // SYN-ACK must acknowledge the SYN (the tracker follows sequence numbers): camera ISN 0, NVR ISN 1000.
            _engine.ProcessFrame(EngineSetup.Tcp(camMac, EngineSetup.NvrMac, camIp, EngineSetup.NvrIp, port, 443, TcpFlags.Syn), Side.Camera, 0);
            _engine.ProcessFrame(EngineSetup.Tcp(EngineSetup.NvrMac, camMac, EngineSetup.NvrIp, camIp, 443, port, TcpFlags.Syn | TcpFlags.Ack, seq: 1000, ack: 1), Side.Uplink, 0);
            _engine.ProcessFrame(EngineSetup.Tcp(camMac, EngineSetup.NvrMac, camIp, EngineSetup.NvrIp, port, 443, TcpFlags.Ack, seq: 1, ack: 1001), Side.Camera, 0);
            _established[i] = EngineSetup.Tcp(EngineSetup.NvrMac, camMac, EngineSetup.NvrIp, camIp, 443, port, TcpFlags.Ack | TcpFlags.Psh, seq: 1001, ack: 1);

            // A new ingress connection: the NVR opens RTSP to the camera.
            _openers[i] = EngineSetup.Tcp(EngineSetup.NvrMac, camMac, EngineSetup.NvrIp, camIp, (ushort)(40_000 + i), 554, TcpFlags.Syn);
        }

        EngineSetup.Expect(_engine, _established, Side.Uplink, 1, Reason.EstablishedFlow);
        _now = 1;
        NewFlow();
        _now = 100_000;
        foreach (var f in _openers)
        {
            if (_engine.ProcessFrame(f, Side.Uplink, _now).Reason != Reason.RuleMatch)
            {
                throw new InvalidOperationException("opener not decided as a new flow");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "parse only")]
    public int ParseOnly()
    {
        var sum = 0;
        foreach (var frame in _established)
        {
            FrameParser.ParseEthernet(frame, out var info);
            sum += info.DestinationPort;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "established flow")]
    public int EstablishedFlow()
    {
        var sum = 0;
        foreach (var frame in _established)
        {
            sum += (int)_engine.ProcessFrame(frame, Side.Uplink, _now).Reason;
        }

        return sum;
    }

    /// <summary>
    /// Each invocation moves the clock past the half-open timeout, so every SYN finds its previous flow expired
    /// (reclaimed on the probe) and is decided and tracked afresh: rule lookup + flow creation per frame.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Batch, Description = "new flow (SYN)")]
    public int NewFlow()
    {
        _now += 31_000;
        var sum = 0;
        foreach (var frame in _openers)
        {
            sum += (int)_engine.ProcessFrame(frame, Side.Uplink, _now).Reason;
        }

        return sum;
    }
}
