using System.CommandLine;
using Appliance.Host.Cli;

// camfw: the appliance's one entry point. Each verb lives in Cli/ and builds its own Command.
var root = new RootCommand("camfw: inline firewall for IP-camera networks");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
