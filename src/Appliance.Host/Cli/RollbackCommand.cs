using System.CommandLine;

namespace Appliance.Host.Cli;

/// <summary><c>camfw rollback VERSION</c>: bring back a policy from history (it gets a new version number).</summary>
internal static class RollbackCommand
{
    public static Command Create()
    {
        var options = new AdminCommandOptions();
        var version = new Argument<uint>("VERSION") { Description = "A version from 'camfw history'" };
        var command = new Command("rollback", "Bring back an earlier policy version from history.") { version };
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => options.RunAsync(parse, async (client, console) =>
        {
            var response = await client.RollbackAsync(parse.GetValue(version), cancellationToken).ConfigureAwait(false);
            return AdminCommandOptions.WriteApplyResult(console, response);
        }));
        return command;
    }
}
