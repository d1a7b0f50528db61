using System.CommandLine;
using Appliance.Host.Cli;

// camfw: the appliance's one entry point. Each verb lives in Cli/ and builds its own Command.
var root = new RootCommand("camfw: inline firewall for IP-camera networks");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

// `camfw run` drains its data planes and stops the API on SIGTERM; give it longer than the 2 s default before
// System.CommandLine gives up on the action (the systemd unit allows 30 s).
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) };
return await root.Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
