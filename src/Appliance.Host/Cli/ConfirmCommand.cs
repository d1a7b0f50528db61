using System.CommandLine;

namespace Appliance.Host.Cli;

/// <summary><c>camfw confirm</c>: keep a policy applied with <c>--confirm-within</c>.</summary>
internal static class ConfirmCommand
{
    public static Command Create()
    {
        var options = new AdminCommandOptions();
        var command = new Command("confirm", "Keep the policy applied with --confirm-within (otherwise it reverts by itself).");
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => options.RunAsync(parse, async (client, console) =>
        {
            var response = await client.ConfirmAsync(cancellationToken).ConfigureAwait(false);
            return AdminCommandOptions.WriteApplyResult(console, response);
        }));
        return command;
    }
}
