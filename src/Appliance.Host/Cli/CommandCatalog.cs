using System.CommandLine;

namespace Appliance.Host.Cli;

/// <summary>Every top-level verb, in the order <c>camfw --help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        // Each feature adds its own line here.
        yield return VersionCommand.Create();
    }
}
