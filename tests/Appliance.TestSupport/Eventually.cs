using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Appliance.TestSupport;

/// <summary>
/// The one way a test waits for something that happens in real time (a data-plane thread, a kernel, a child
/// process, a collector): poll for the positive outcome with a generous bound, never sleep a fixed time and hope.
/// The bound only limits how long a failing test takes; a passing one returns as soon as the condition holds, so
/// bounds are generous (a loaded CI machine is slow, and a tight bound is a flaky test). Code that takes a
/// <see cref="TimeProvider"/> is driven with FakeTimeProvider instead, without waiting at all.
/// </summary>
public static class Eventually
{
    /// <summary>The bound when the caller names none: long enough for a busy two-core machine.</summary>
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// True as soon as <paramref name="condition"/> holds; false when <paramref name="within"/> passed first (the
    /// condition is checked once more at the bound, so a slow last step still counts). Blocks the calling thread:
    /// for tests whose code under test runs on threads of its own.
    /// </summary>
    public static bool Holds(Func<bool> condition, TimeSpan? within = null, TimeSpan? every = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var bound = within ?? DefaultBound;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(every ?? DefaultInterval);
        }

        return condition();
    }

    /// <summary>The asynchronous form of <see cref="Holds"/>: waits without holding a thread.</summary>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? within = null, TimeSpan? every = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return HoldsAsync(() => Task.FromResult(condition()), within, every);
    }

    /// <summary><see cref="HoldsAsync(Func{bool}, TimeSpan?, TimeSpan?)"/> for a condition that must await (an HTTP call).</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan? within = null, TimeSpan? every = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var bound = within ?? DefaultBound;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound)
        {
            if (await condition().ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(every ?? DefaultInterval).ConfigureAwait(false);
        }

        return await condition().ConfigureAwait(false);
    }

    /// <summary>
    /// Fails the test unless <paramref name="condition"/> holds within the bound. The message names what was
    /// awaited (<paramref name="what"/>, else the condition's source text), the bound, and whatever
    /// <paramref name="detail"/> says at that moment (a process's output, the counters), so a timeout in CI explains
    /// itself.
    /// </summary>
    public static void True(
        Func<bool> condition,
        string? what = null,
        TimeSpan? within = null,
        Func<string>? detail = null,
        TimeSpan? every = null,
        [CallerArgumentExpression(nameof(condition))] string source = "")
    {
        if (!Holds(condition, within, every))
        {
            Assert.Fail(Failure(what ?? source, within, detail));
        }
    }

    /// <summary>The asynchronous form of <see cref="True"/>.</summary>
    public static async Task TrueAsync(
        Func<bool> condition,
        string? what = null,
        TimeSpan? within = null,
        Func<string>? detail = null,
        TimeSpan? every = null,
        [CallerArgumentExpression(nameof(condition))] string source = "")
    {
        if (!await HoldsAsync(condition, within, every).ConfigureAwait(false))
        {
            Assert.Fail(Failure(what ?? source, within, detail));
        }
    }

    /// <summary><see cref="TrueAsync(Func{bool}, string?, TimeSpan?, Func{string}?, TimeSpan?, string)"/> for a condition that must await.</summary>
    public static async Task TrueAsync(
        Func<Task<bool>> condition,
        string? what = null,
        TimeSpan? within = null,
        Func<string>? detail = null,
        TimeSpan? every = null,
        [CallerArgumentExpression(nameof(condition))] string source = "")
    {
        if (!await HoldsAsync(condition, within, every).ConfigureAwait(false))
        {
            Assert.Fail(Failure(what ?? source, within, detail));
        }
    }

    private static string Failure(string what, TimeSpan? within, Func<string>? detail)
    {
        var message = string.Create(CultureInfo.InvariantCulture, $"not within {(within ?? DefaultBound).TotalSeconds:0.###} s: {what}");
        return detail is null ? message : message + "\n" + detail();
    }
}
