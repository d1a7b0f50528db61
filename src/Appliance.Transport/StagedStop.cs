namespace Appliance.Transport;

/// <summary>
/// The one staged stop every data plane follows, the libpcap bridge's and the WinDivert gateway's:
/// <list type="number">
/// <item>close the gate, so nothing passes without a verdict once stopping begins (the gateway turns IP forwarding
/// off; a bridge forwards only what its own loop sends, so its loop is its gate);</item>
/// <item>stop receiving: a started plane's loop then decides what it still holds and closes its ports or handles;
/// one never started releases them the way it must;</item>
/// <item>wait until the plane reports itself closed.</item>
/// </list>
/// It also keeps the lifecycle both share: start once, and never after a stop; stop before start, twice or from
/// several threads; a stop never throws for an earlier fault (that is reported through the plane's completion).
/// </summary>
public sealed class StagedStop
{
    private readonly Lock _sync = new();
    private bool _started;
    private volatile bool _stopRequested;

    /// <summary>True once a stop (or dispose) began; the loop ends its turn when it reads true.</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>Runs <paramref name="start"/> under the lifecycle lock, once; throws when already started or stopped.</summary>
    /// <param name="name">The plane's name, for the error.</param>
    /// <param name="start">Starts the plane's threads.</param>
    public void Start(string name, Action start)
    {
        ArgumentNullException.ThrowIfNull(start);
        lock (_sync)
        {
            if (_started || _stopRequested)
            {
                throw new InvalidOperationException($"Data plane {name} was already started or stopped.");
            }

            _started = true;
            start();
        }
    }

    /// <summary>Marks the stop requested (no start after it) and returns whether the plane had started.</summary>
    public bool RequestStop()
    {
        lock (_sync)
        {
            _stopRequested = true;
            return _started;
        }
    }

    /// <summary>The staged stop: <paramref name="closeGate"/>, then <paramref name="stopReceiving"/> (told whether the plane started), then wait for <paramref name="closed"/>.</summary>
    /// <param name="closeGate">Step 1; must not throw.</param>
    /// <param name="stopReceiving">Step 2, given whether the plane had started.</param>
    /// <param name="closed">Completes when every port or handle is closed (successfully or not).</param>
    /// <param name="cancellationToken">Gives up waiting (throws <see cref="OperationCanceledException"/>).</param>
    public async Task StopAsync(Action closeGate, Action<bool> stopReceiving, Func<Task> closed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(closeGate);
        ArgumentNullException.ThrowIfNull(stopReceiving);
        ArgumentNullException.ThrowIfNull(closed);
        var started = RequestStop();

        // 1. The gate first: whatever happens to the ports below, nothing more passes undecided.
        closeGate();

        // 2. Stop receiving; the loop decides what it still holds.
        stopReceiving(started);

        // 3. Wait for the close. An earlier fault is the plane's to report, not the stop's.
        try
        {
            await closed().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
