using Appliance.Core.Engine;
using Appliance.Transport;
using Microsoft.Extensions.Logging;

namespace Appliance.Host.Tests.Hosting;

/// <summary>Data planes without interfaces: they "run" until stopped or told to fail.</summary>
internal sealed class FakeDataPlaneFactory : IDataPlaneFactory
{
    public List<FakeDataPlane> Planes { get; } = [];

    public IDataPlane Create(BridgePair pair, PacketEngine engine, ILogger logger)
    {
        var plane = new FakeDataPlane(pair.Name, engine);
        Planes.Add(plane);
        return plane;
    }
}

internal sealed class FakeDataPlane(string name, PacketEngine engine) : IDataPlane
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => name;

    public PacketEngine Engine => engine;

    public Task Completion => _completion.Task;

    public bool Started { get; private set; }

    public bool Stopped { get; private set; }

    /// <summary>Simulates a wedged loop: still "running" but no longer turning.</summary>
    public bool Stalled { get; set; }

    /// <summary>Simulates a port without carrier: the loop still turns, but nothing can be forwarded.</summary>
    public bool PortDown { get; set; }

    public bool IsHealthy => Started && !Stalled && !PortDown && !_completion.Task.IsCompleted;

    bool IDataPlane.IsStalled => Started && Stalled && !_completion.Task.IsCompleted;

    public Exception? Fault => _completion.Task.Exception?.InnerException;

    public DataPlaneReport Report() => new(name, IsHealthy, Fault?.Message ?? (PortDown ? "port cam0 has no carrier" : IsHealthy ? null : "not forwarding"), null, null);

    public void Start() => Started = true;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Stopped = true;
        _completion.TrySetResult();
        return Task.CompletedTask;
    }

    public void Die(Exception fault) => _completion.TrySetException(fault);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
