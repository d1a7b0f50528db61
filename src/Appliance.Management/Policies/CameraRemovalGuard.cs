using System.Globalization;
using Appliance.Core.Policy;

namespace Appliance.Management.Policies;

/// <summary>
/// Refuses a policy change that would cut off a large part of the site by accident: one that removes every camera,
/// more than <see cref="PolicyServiceOptions.MaxCameraRemovalShare"/> of them, or takes the last camera out of
/// enforce mode. An upload of one empty file, a directory half-emptied by a failed <c>rsync --delete</c> or a
/// truncated copy all look like that, and enforcing them stops every stream. A change that means it says so
/// (<c>allow-camera-removal</c>) and goes in only as a safe apply that reverts unless confirmed.
/// </summary>
public static class CameraRemovalGuard
{
    /// <summary>What an admin runs when the change is meant; part of every refusal.</summary>
    public const string Override = "if this is meant, apply it with 'camfw apply DIR --allow-camera-removal --confirm-within SECONDS' (PUT /api/v1/policy?allow-camera-removal=true&confirm-within=SECONDS) and confirm it";

    /// <summary>
    /// Null when going from <paramref name="current"/> to <paramref name="next"/> is within the limits; otherwise
    /// why not, naming the cameras. Cameras are matched by name, so renaming a camera counts as removing it.
    /// </summary>
    /// <param name="current">The policy in force; null before the first load (nothing to remove).</param>
    /// <param name="next">The policy that would replace it.</param>
    /// <param name="maxShare">Largest share of the current cameras (0 to 1) a change may remove without saying so.</param>
    public static string? Check(PolicySpec? current, PolicySpec next, double maxShare)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (current is null || current.Cameras.Count == 0)
        {
            return null;
        }

        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var camera in next.Cameras)
        {
            kept.Add(camera.Name);
        }

        var removed = current.Cameras.Where(c => !kept.Contains(c.Name)).Select(c => c.Name).Order(StringComparer.Ordinal).ToList();
        var total = current.Cameras.Count;
        if (removed.Count == total)
        {
            return $"this change removes every camera ({total}: {Names(removed)}); refused so an empty or truncated policy cannot cut the site off; {Override}";
        }

        if (removed.Count > 0 && removed.Count > maxShare * total)
        {
            var limit = (maxShare * 100).ToString("0.#", CultureInfo.InvariantCulture);
            return $"this change removes {removed.Count} of {total} cameras ({Names(removed)}), more than the {limit}% Policy:MaxCameraRemovalShare allows; {Override}";
        }

        var enforcing = current.Cameras.Count(c => c.Mode == CameraMode.Enforce);
        if (enforcing > 0 && !next.Cameras.Any(c => c.Mode == CameraMode.Enforce))
        {
            return $"this change leaves no camera in enforce mode ({enforcing} enforce now); refused so the site is not left unprotected by accident; {Override}";
        }

        return null;
    }

    private static string Names(List<string> names)
        => names.Count <= 10 ? string.Join(", ", names) : string.Join(", ", names.Take(10)) + $", and {names.Count - 10} more";
}
