using Appliance.Policy;
using Microsoft.Extensions.Logging;

namespace Appliance.Management.Policies;

/// <summary>
/// Watches the policy directory and reloads through <see cref="PolicyService"/> once changes have been quiet for
/// the debounce interval. Editors' temporary files are ignored; the service makes a reload of identical content a
/// no-op, so the service's own writes (API applies) do not cause a second version.
/// </summary>
public sealed class PolicyDirectoryWatcher : IDisposable
{
    private readonly PolicyService _service;
    private readonly ILogger _logger;
    private readonly TimeSpan _debounce;
    private readonly ITimer _timer;
    private FileSystemWatcher? _watcher;
    private int _reloading;
    private int _pendingWhileReloading;

    /// <summary>Creates the watcher for <paramref name="service"/>'s directory; nothing is watched until <see cref="Start"/>.</summary>
    /// <param name="service">Reloads go through it, with <see cref="ChangeOrigin.FileWatcher"/> as origin.</param>
    /// <param name="logger">Watcher errors: a lost event queue, a reload that threw.</param>
    /// <param name="time">Clock of the debounce timer; tests pass a fake one and advance it.</param>
    public PolicyDirectoryWatcher(PolicyService service, ILogger<PolicyDirectoryWatcher> logger, TimeProvider? time = null)
    {
        _service = service;
        _logger = logger;
        _debounce = service.Options.WatchDebounce;
        _timer = (time ?? TimeProvider.System).CreateTimer(_ => _ = ReloadAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Completed reloads triggered by the watcher (for tests and metrics).</summary>
    public long Triggered => Interlocked.Read(ref _triggered);

    private long _triggered;

    /// <summary>
    /// File-system events the watcher dropped as irrelevant (editors' temporary files, files that are not policy);
    /// lets a test see that an event arrived and was ignored, instead of waiting and seeing nothing.
    /// </summary>
    internal long Ignored => Interlocked.Read(ref _ignored);

    private long _ignored;

    /// <summary>Starts watching. The directory must exist.</summary>
    public void Start()
    {
        var watcher = new FileSystemWatcher(_service.Options.Directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            InternalBufferSize = 64 * 1024,
        };
        watcher.Changed += OnChanged;
        watcher.Created += OnChanged;
        watcher.Deleted += OnChanged;
        watcher.Renamed += OnRenamed;
        watcher.Error += OnError;
        watcher.EnableRaisingEvents = true;
        _watcher = watcher;
        Log.WatchingDirectory(_logger, _service.Options.Directory);
    }

    /// <summary>Stops watching and cancels a pending debounced reload; one already running completes.</summary>
    public void Dispose()
    {
        _watcher?.Dispose();
        _timer.Dispose();
    }

    /// <summary>
    /// True when a file-system event for <paramref name="name"/> (relative to the policy directory) may change the
    /// policy: a policy file, a file that looks like one (<c>x.YAML</c>, reported by the reader), or a folder
    /// (no extension) renamed or removed with policy files inside. Editors' swap, backup and probe files are ignored,
    /// by the same rule the reader uses (<see cref="PolicyFileNames.IsIgnored"/>).
    /// </summary>
    internal static bool IsRelevantChange(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        // Inside a hidden folder (.git) nothing is read, so nothing there changes the policy.
        foreach (var segment in name.Split(Path.DirectorySeparatorChar, '/'))
        {
            if (PolicyFileNames.IsIgnored(segment))
            {
                return false;
            }
        }

        var file = Path.GetFileName(name);

        return PolicyFileNames.HasPolicyExtension(file) || PolicyFileNames.HasMiscasedPolicyExtension(file) || !Path.HasExtension(file);
    }

    private void OnChanged(object sender, FileSystemEventArgs e)
    {
        if (IsRelevantChange(e.Name))
        {
            Poke();
        }
        else
        {
            Interlocked.Increment(ref _ignored);
        }
    }

    // vim and most editors save by writing a temporary file and renaming it over the original.
    private void OnRenamed(object sender, RenamedEventArgs e)
    {
        if (IsRelevantChange(e.Name) || IsRelevantChange(e.OldName))
        {
            Poke();
        }
        else
        {
            Interlocked.Increment(ref _ignored);
        }
    }

    // The kernel queue overflowed: some events were lost, so reload to be sure.
    private void OnError(object sender, ErrorEventArgs e)
    {
        Log.WatcherError(_logger, e.GetException().Message);
        Poke();
    }

    private void Poke()
    {
        try
        {
            _timer.Change(_debounce, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ReloadAsync()
    {
        if (Interlocked.Exchange(ref _reloading, 1) == 1)
        {
            // A reload is running; run once more after it, since it may have read the directory before this change.
            Interlocked.Exchange(ref _pendingWhileReloading, 1);
            return;
        }

        try
        {
            do
            {
                Interlocked.Exchange(ref _pendingWhileReloading, 0);
                await _service.ReloadFromDiskAsync(ChangeOrigin.FileWatcher).ConfigureAwait(false);
                Interlocked.Increment(ref _triggered);
            }
            while (Interlocked.Exchange(ref _pendingWhileReloading, 0) == 1);
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception e)
        {
            Log.WatcherError(_logger, e.Message);
        }
        finally
        {
            Interlocked.Exchange(ref _reloading, 0);
        }
    }
}
