using Appliance.Core.Policy;
using Appliance.Policy;
using Microsoft.Extensions.Logging;

namespace Appliance.Management.Policies;

/// <summary>The policy in force and how it got there.</summary>
public sealed record PolicyState(CompiledPolicy Policy, PolicySpec Spec, string ContentHash, DateTimeOffset LoadedAt, ChangeOrigin Origin, IReadOnlyList<PolicySource> Files)
{
    /// <summary>
    /// The version of the compiled policy: increasing across restarts (history keeps the highest), so engines can
    /// tell flows admitted under an older policy and revalidate them.
    /// </summary>
    public uint Version => Policy.Version;

    /// <summary>The loader's sha256 over the sources (what logs, syslog and the API show).</summary>
    public string Sha256 => string.IsNullOrEmpty(Spec.Sha256) ? ContentHash : Spec.Sha256;
}

/// <summary>A policy that was rejected, with every diagnostic.</summary>
public sealed record PolicyFailure(DateTimeOffset At, ChangeOrigin Origin, IReadOnlyList<Diagnostic> Diagnostics);

/// <summary>A safe apply waiting for its confirmation: unless confirmed by <see cref="Deadline"/>, <see cref="RevertTo"/> comes back.</summary>
public sealed record PendingConfirmation(DateTimeOffset Deadline, PolicyState RevertTo, uint AppliedVersion);

/// <summary>What an apply, reload, rollback or confirm did.</summary>
public enum ApplyOutcome
{
    /// <summary>A new version is in force.</summary>
    Applied,

    /// <summary>The sources equal the policy in force; nothing was swapped.</summary>
    Unchanged,

    /// <summary>Invalid input (or it could not be persisted); the old policy keeps running.</summary>
    Rejected,

    /// <summary>Rollback to a version history does not hold.</summary>
    NotFound,

    /// <summary>Confirm with no safe apply pending.</summary>
    NothingPending,
}

/// <summary>The result of one policy operation.</summary>
public sealed record ApplyResult(ApplyOutcome Outcome, IReadOnlyList<Diagnostic> Diagnostics, PolicyState? State, PolicyDiff Diff, DateTimeOffset? ConfirmDeadline = null, string? Message = null);

/// <summary>
/// The one path every policy change takes, whatever its source (startup, the directory watcher, the API,
/// rollback, auto-revert): parse, validate, compile, persist, swap atomically (bumping the version so flows
/// admitted by older policies are checked again), record history, notify (log lines, the audit log, and the
/// <see cref="IPolicyEventSink"/> that turns each change into a security event for the SIEM).
/// Operations are serialised; a rejected change leaves the running policy untouched.
/// </summary>
public sealed class PolicyService : IDisposable
{
    private readonly PolicyHolder _holder;
    private readonly IPolicyCompiler _compiler;
    private readonly PolicyHistory _history;
    private readonly AuditLog _audit;
    private readonly IPolicyEventSink _events;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly uint _versionFloor;
    private PolicyState? _state;
    private PolicyFailure? _lastFailure;
    private PolicyFailure? _activeFailure;
    private PendingConfirmation? _pending;
    private ITimer? _confirmTimer;
    private long _reloads;
    private long _reloadFailures;

    /// <summary>Creates the service; nothing is loaded until <see cref="LoadInitialAsync"/>.</summary>
    /// <param name="holder">Where compiled policies are swapped in for the engines.</param>
    /// <param name="compiler">Parses, validates and compiles.</param>
    /// <param name="options">Directories, history and watch settings.</param>
    /// <param name="logger">Its log lines (event ids 7001-7012).</param>
    /// <param name="time">Clock for confirmation deadlines (tests pass their own).</param>
    /// <param name="events">Receives every apply, rejection and rollback as a security event; none when null.</param>
    public PolicyService(PolicyHolder holder, IPolicyCompiler compiler, PolicyServiceOptions options, ILogger<PolicyService> logger, TimeProvider? time = null, IPolicyEventSink? events = null)
    {
        _holder = holder;
        _compiler = compiler;
        Options = options;
        _logger = logger;
        _events = events ?? NullPolicyEventSink.Instance;
        _time = time ?? TimeProvider.System;
        _history = new PolicyHistory(options.HistoryDirectory, options.HistoryLimit);
        _audit = new AuditLog(options.AuditLogPath);

        // Versions keep growing across restarts, so a history entry is never overwritten by a different policy
        // and the SIEM sees one increasing sequence.
        _versionFloor = _history.HighestVersion();
    }

    /// <summary>The settings it was created with (the API reads the directory and the longest confirm-within).</summary>
    public PolicyServiceOptions Options { get; }

    /// <summary>Where the compiled policy is swapped in; its camera slots map names to the engines' counters.</summary>
    public PolicyHolder Holder => _holder;

    /// <summary>The applied versions kept for rollback, the API's history and the console's diffs.</summary>
    public PolicyHistory History => _history;

    /// <summary>The audit file every change, rejection, confirmation and revert is written to.</summary>
    public AuditLog Audit => _audit;

    /// <summary>The policy in force, or null before the first successful load.</summary>
    public PolicyState? Current => Volatile.Read(ref _state);

    /// <summary>The most recent rejection, even if a later change succeeded.</summary>
    public PolicyFailure? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>The most recent rejection while it still stands (the directory or the last request is invalid).</summary>
    public PolicyFailure? ActiveFailure => Volatile.Read(ref _activeFailure);

    /// <summary>The safe apply awaiting confirmation, or null when none is: the API and console show its deadline.</summary>
    public PendingConfirmation? Pending => Volatile.Read(ref _pending);

    /// <summary>Successful applies since start.</summary>
    public long Reloads => Interlocked.Read(ref _reloads);

    /// <summary>Rejected changes since start.</summary>
    public long ReloadFailures => Interlocked.Read(ref _reloadFailures);

    /// <summary>Loads the policy directory at start. The caller stops the process when this is not Applied.</summary>
    public Task<ApplyResult> LoadInitialAsync(CancellationToken cancellationToken = default)
        => ReloadFromDiskAsync(ChangeOrigin.Startup, cancellationToken);

    /// <summary>Reloads the policy directory (watcher, <c>POST /policy/reload</c>). Identical content is a no-op.</summary>
    public async Task<ApplyResult> ReloadFromDiskAsync(ChangeOrigin origin, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The one directory reader: every file it cannot read is an error here, as in `camfw policy check`.
            var contents = PolicyDirectoryReader.Read(Options.Directory);

            // Startup has nothing to protect yet; a reload (watcher or API) never removes cameras wholesale: a
            // directory emptied by a failed copy must not be enforced as "no cameras".
            return ApplyLocked(contents.Sources, contents, origin, "reload", writeToDisk: false, allowCameraRemoval: false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies policy files sent through the API, writing them to the policy directory. With
    /// <paramref name="confirmWithin"/>, the previous policy comes back by itself unless <see cref="ConfirmAsync"/>
    /// is called in time.
    /// </summary>
    /// <param name="sources">The complete new set of policy files.</param>
    /// <param name="origin">Who asked.</param>
    /// <param name="confirmWithin">Safe apply: revert unless confirmed within this time.</param>
    /// <param name="allowCameraRemoval">
    /// The caller means to remove many cameras (<see cref="CameraRemovalGuard"/>); only with
    /// <paramref name="confirmWithin"/>.
    /// </param>
    /// <param name="cancellationToken">Gives up waiting for another change to finish.</param>
    public async Task<ApplyResult> ApplyAsync(IReadOnlyList<PolicySource> sources, ChangeOrigin origin, TimeSpan? confirmWithin = null, bool allowCameraRemoval = false, CancellationToken cancellationToken = default)
    {
        if (NameErrors(sources) is { Count: > 0 } nameErrors)
        {
            return Reject(origin, "apply", nameErrors);
        }

        if (allowCameraRemoval && confirmWithin is null)
        {
            // A change that may cut cameras off is only ever tried with a way back that needs nobody to reach the box.
            return Reject(origin, "apply", [new Diagnostic("<request>", 0, 0, Severity.Error, "allow-camera-removal is only accepted with confirm-within (a safe apply that reverts unless confirmed)")]);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var before = _state;
            var result = ApplyLocked(sources, null, origin, "apply", writeToDisk: true, allowCameraRemoval);
            if (result.Outcome != ApplyOutcome.Applied)
            {
                return result;
            }

            if (confirmWithin is not { } window)
            {
                // An explicit apply without a safety net means the admin is satisfied with where things are.
                ClearPendingLocked();
                return result;
            }

            var deadline = _time.GetUtcNow() + window;
            var revertTo = _pending?.RevertTo ?? before!;
            Volatile.Write(ref _pending, new PendingConfirmation(deadline, revertTo, result.State!.Version));
            _confirmTimer?.Dispose();
            var applied = result.State.Version;
            _confirmTimer = _time.CreateTimer(_ => _ = RevertUnconfirmedAsync(applied), null, window, Timeout.InfiniteTimeSpan);
            Log.ConfirmationPending(_logger, applied, window.TotalSeconds, revertTo.Version);
            return result with { ConfirmDeadline = deadline };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Parses, validates and compiles without swapping anything (the API's dry run). A change the
    /// <see cref="CameraRemovalGuard"/> would refuse is an error here too, unless <paramref name="allowCameraRemoval"/>.
    /// </summary>
    public PolicyLoadResult Validate(IReadOnlyList<PolicySource> sources, bool allowCameraRemoval = false)
    {
        if (NameErrors(sources) is { Count: > 0 } nameErrors)
        {
            return new PolicyLoadResult(nameErrors, null);
        }

        var load = _compiler.Load(sources);
        if (load.HasErrors)
        {
            return load;
        }

        try
        {
            // A throwaway slot registry, so a dry run never assigns counter slots.
            _compiler.Compile(load.Spec!, 0, new CameraSlotRegistry(_holder.Slots.Capacity));
            if (!allowCameraRemoval && CameraRemovalGuard.Check(Current?.Spec, load.Spec!, Options.MaxCameraRemovalShare) is { } refusal)
            {
                return new PolicyLoadResult([.. load.Diagnostics, new Diagnostic("<policy>", 0, 0, Severity.Error, refusal)], null);
            }

            return load;
        }
        catch (Exception e)
        {
            return new PolicyLoadResult([.. load.Diagnostics, CompileDiagnostic(e)], null);
        }
    }

    /// <summary>Brings back a version from history, as a new version (the policy directory is rewritten too).</summary>
    public async Task<ApplyResult> RollbackAsync(uint version, ChangeOrigin origin, CancellationToken cancellationToken = default)
    {
        if (!_history.TryLoad(version, out _, out var sources))
        {
            return new ApplyResult(ApplyOutcome.NotFound, [], Current, PolicyDiff.Empty, Message: $"version {version} is not in history");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A version from history ran before and is chosen by number; the camera-removal guard is for new content.
            var result = ApplyLocked(sources, null, origin with { Kind = ChangeOrigin.RollbackKind, Detail = $"to version {version}" }, "rollback", writeToDisk: true, allowCameraRemoval: true);
            if (result.Outcome is ApplyOutcome.Applied or ApplyOutcome.Unchanged)
            {
                ClearPendingLocked();
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Keeps a safe apply for good.</summary>
    public async Task<ApplyResult> ConfirmAsync(ChangeOrigin origin, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pending is not { } pending)
            {
                return new ApplyResult(ApplyOutcome.NothingPending, [], Current, PolicyDiff.Empty, Message: "no policy change is waiting for confirmation");
            }

            ClearPendingLocked();
            var state = _state!;
            Log.PolicyConfirmed(_logger, state.Version, origin.ToString());
            WriteAudit("confirm", "confirmed", origin, pending.RevertTo, state, PolicyDiff.Empty, $"kept version {state.Version} instead of {pending.RevertTo.Version}");
            return new ApplyResult(ApplyOutcome.Applied, [], state, PolicyDiff.Empty, Message: $"version {state.Version} confirmed");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Cancels the auto-revert timer of a pending safe apply and releases the operation gate; the policy in force
    /// is left as it is.
    /// </summary>
    public void Dispose()
    {
        _confirmTimer?.Dispose();
        _gate.Dispose();
    }

    private async Task RevertUnconfirmedAsync(uint appliedVersion)
    {
        try
        {
            await _gate.WaitAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        try
        {
            // Confirmed (or superseded by an explicit change) while this timer was firing: nothing to do.
            if (_pending is not { } pending || pending.AppliedVersion != appliedVersion)
            {
                return;
            }

            ClearPendingLocked();
            var origin = new ChangeOrigin(ChangeOrigin.AutoRevertKind, Detail: $"version {appliedVersion} was not confirmed in time; back to the files of version {pending.RevertTo.Version}");
            var result = ApplyLocked(pending.RevertTo.Files, null, origin, "auto-revert", writeToDisk: true, allowCameraRemoval: true);
            if (result.Outcome == ApplyOutcome.Rejected)
            {
                Log.AutoRevertFailed(_logger, appliedVersion, string.Join("; ", result.Diagnostics));
            }
        }
        catch (Exception e)
        {
            Log.AutoRevertFailed(_logger, appliedVersion, e.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void ClearPendingLocked()
    {
        _confirmTimer?.Dispose();
        _confirmTimer = null;
        Volatile.Write(ref _pending, null);
    }

    // Runs under _gate. `fromDisk` is what the directory reader found when the sources come from the policy
    // directory: its diagnostics (files it could not read) count like any other error.
    private ApplyResult ApplyLocked(IReadOnlyList<PolicySource> sources, PolicyDirectoryContents? fromDisk, ChangeOrigin origin, string action, bool writeToDisk, bool allowCameraRemoval)
    {
        var current = _state;
        var hash = PolicyLoader.ComputeSha256(sources);

        // The watcher sees the service's own writes; identical content (by sha256) must not make a new version.
        // Not when a file could not be read: the files that were read may equal the policy in force while a new,
        // unreadable one sits next to them, and that must be reported, not called "unchanged".
        if (current is not null && current.ContentHash == hash && fromDisk is not { HasErrors: true })
        {
            if (!writeToDisk)
            {
                // The directory holds the policy in force again, so an earlier bad edit no longer stands.
                Volatile.Write(ref _activeFailure, null);
            }

            Log.PolicyUnchanged(_logger, current.Version, origin.ToString());
            return new ApplyResult(ApplyOutcome.Unchanged, [], current, PolicyDiff.Empty, Message: $"identical to version {current.Version}; nothing changed");
        }

        // 1. Parse and validate, collecting every diagnostic.
        PolicyLoadResult load;
        try
        {
            load = fromDisk is null ? _compiler.Load(sources) : _compiler.Load(fromDisk);
        }
        catch (Exception e)
        {
            return Reject(origin, action, [new Diagnostic("<policy>", 0, 0, Severity.Error, $"policy loader failed: {e.Message}")]);
        }

        if (load.HasErrors)
        {
            return Reject(origin, action, load.Diagnostics);
        }

        // 1b. Refuse to cut off most of the site by accident (an emptied file or directory), before anything changes.
        if (!allowCameraRemoval && CameraRemovalGuard.Check(current?.Spec, load.Spec!, Options.MaxCameraRemovalShare) is { } refusal)
        {
            return Reject(origin, action, [.. load.Diagnostics, new Diagnostic("<policy>", 0, 0, Severity.Error, refusal)]);
        }

        // 2. Compile into complete, immutable tables under a new, higher version.
        var spec = load.Spec!;
        CompiledPolicy compiled;
        try
        {
            compiled = _compiler.Compile(spec, NextVersion(), _holder.Slots);
        }
        catch (Exception e)
        {
            return Reject(origin, action, [.. load.Diagnostics, CompileDiagnostic(e)]);
        }

        // 3. Persist before publishing: if the directory cannot be written, nothing changes anywhere, and a
        //    restart loads exactly what was running.
        if (writeToDisk && !TryWritePolicyDirectory(sources, current?.Files, out var writeError))
        {
            Log.PolicyPersistFailed(_logger, Options.Directory, writeError!);
            return Reject(origin, action, [new Diagnostic(Options.Directory, 0, 0, Severity.Error, $"cannot write the policy directory: {writeError}")]);
        }

        // 4. Publish with one atomic exchange; the next frame on every data plane sees the new tables.
        _holder.Swap(compiled);
        var state = new PolicyState(compiled, spec, hash, _time.GetUtcNow(), origin, sources);
        Volatile.Write(ref _state, state);
        Volatile.Write(ref _activeFailure, null);
        Interlocked.Increment(ref _reloads);

        // 5. Record and notify.
        var diff = PolicyDiff.Between(current?.Spec, spec);
        try
        {
            _history.Save(new PolicyHistoryEntry(state.Version, state.Sha256, hash, state.LoadedAt, origin, [.. sources.Select(s => s.Name)]), sources);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.HistoryWriteFailed(_logger, state.Version, e.Message);
        }

        if (origin.Kind is ChangeOrigin.RollbackKind or ChangeOrigin.AutoRevertKind)
        {
            var from = current?.Version ?? 0;
            Log.PolicyRolledBack(_logger, from, state.Version, state.Sha256, origin.ToString(), diff.Summary());
            Notify(static (sink, a) => sink.RolledBack(a.From, a.State), (From: from, State: state));
        }
        else
        {
            Log.PolicyApplied(_logger, state.Version, state.Sha256, origin.ToString(), spec.Cameras.Count, diff.Summary());
            Notify(static (sink, a) => sink.Applied(a), state);
        }

        WriteAudit(action, "applied", origin, current, state, diff, null);
        return new ApplyResult(ApplyOutcome.Applied, load.Diagnostics, state, diff);
    }

    private ApplyResult Reject(ChangeOrigin origin, string action, IReadOnlyList<Diagnostic> diagnostics)
    {
        var failure = new PolicyFailure(_time.GetUtcNow(), origin, diagnostics);
        Volatile.Write(ref _lastFailure, failure);
        Volatile.Write(ref _activeFailure, failure);
        Interlocked.Increment(ref _reloadFailures);
        var errors = diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        Log.PolicyRejected(_logger, origin.ToString(), errors.Count, string.Join("; ", errors.Take(5)), Current?.Version ?? 0);
        Notify(static (sink, a) => sink.Rejected(a.Errors, a.Origin), (Errors: (IReadOnlyList<Diagnostic>)errors, Origin: origin));
        WriteAudit(action, "rejected", origin, Current, null, PolicyDiff.Empty, string.Join("; ", errors.Take(20)));
        return new ApplyResult(ApplyOutcome.Rejected, diagnostics, Current, PolicyDiff.Empty, Message: $"rejected with {errors.Count} error(s); version {Current?.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} stays in force");
    }

    // The change has already happened (or been refused) when this runs: a failing sink must not turn an applied
    // policy into an error for the caller, nor skip the audit record after it.
    private void Notify<TArg>(Action<IPolicyEventSink, TArg> report, TArg arg)
    {
        try
        {
            report(_events, arg);
        }
        catch (Exception e)
        {
            Log.EventSinkFailed(_logger, e.Message);
        }
    }

    private void WriteAudit(string action, string outcome, ChangeOrigin origin, PolicyState? before, PolicyState? after, PolicyDiff diff, string? detail)
    {
        try
        {
            _audit.Write(new AuditRecord(_time.GetUtcNow(), action, outcome, origin.Kind, origin.Remote, before?.Version, after?.Version, before?.Sha256, after?.Sha256, diff.Added, diff.Removed, diff.Changed, detail ?? origin.Detail));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.AuditWriteFailed(_logger, e.Message);
        }
    }

    private uint NextVersion()
    {
        uint version;
        do
        {
            version = _holder.NextVersion();
        }
        while (version <= _versionFloor);
        return version;
    }

    private static Diagnostic CompileDiagnostic(Exception e) => new("<policy>", 0, 0, Severity.Error, $"compile failed: {e.Message}");

    private static List<Diagnostic> NameErrors(IReadOnlyList<PolicySource> sources)
    {
        var errors = new List<Diagnostic>();
        if (sources.Count == 0)
        {
            errors.Add(new Diagnostic("<request>", 0, 0, Severity.Error, "no policy files given"));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            if (PolicyFileNames.Check(source.Name) is { } problem)
            {
                errors.Add(new Diagnostic(PolicyFileNames.Printable(source.Name), 0, 0, Severity.Error, problem));
            }
            else if (!seen.Add(source.Name))
            {
                errors.Add(new Diagnostic(source.Name, 0, 0, Severity.Error, "file given twice"));
            }
        }

        return errors;
    }

    // Replaces the directory's *.yaml set with `sources`: each file through write-temp/fsync/rename/fsync-dir,
    // unchanged files untouched (fewer watcher events), files that are not in the new set removed.
    private bool TryWritePolicyDirectory(IReadOnlyList<PolicySource> sources, IReadOnlyList<PolicySource>? previous, out string? error)
    {
        var root = Path.GetFullPath(Options.Directory);
        try
        {
            Directory.CreateDirectory(root);
            // Every policy file the reader finds is replaced, including those it could not read (too large, not
            // UTF-8, a symbolic link): afterwards the directory holds exactly the applied set.
            var onDisk = PolicyDirectoryReader.Read(root);
            var existing = onDisk.Sources.ToDictionary(s => s.Name, s => s.Text, StringComparer.Ordinal);
            foreach (var source in sources)
            {
                if (!existing.TryGetValue(source.Name, out var text) || text != source.Text)
                {
                    DurableFile.WriteAllText(Path.Combine(root, source.Name), source.Text);
                }
            }

            var keep = sources.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var name in onDisk.PolicyFiles.Where(n => !keep.Contains(n)))
            {
                DurableFile.Delete(Path.Combine(root, name));
            }

            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;

            // Best effort: put back what was running so the directory and the running policy agree again.
            if (previous is not null)
            {
                try
                {
                    foreach (var source in previous)
                    {
                        DurableFile.WriteAllText(Path.Combine(root, source.Name), source.Text);
                    }
                }
                catch (Exception restore) when (restore is IOException or UnauthorizedAccessException)
                {
                    error += $" (restoring the previous files failed too: {restore.Message})";
                }
            }

            return false;
        }
    }
}
