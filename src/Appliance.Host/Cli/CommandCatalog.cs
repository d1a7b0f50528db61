using System.CommandLine;

namespace Appliance.Host.Cli;

/// <summary>Every top-level verb, in the order <c>camfw --help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        // Each feature adds its own line here.
        yield return VersionCommand.Create();
        yield return RunCommand.Create();
        yield return GatewayFailsafeCommand.Create();
        yield return StatusCommand.Create();
        yield return ApplyCommand.Create();
        yield return ConfirmCommand.Create();
        yield return RollbackCommand.Create();
        yield return HistoryCommand.Create();
        yield return PolicyCommand.Create();
        yield return ReplayCommand.Create();
        yield return LearnCommand.Create();
    }
}
