using System.CommandLine;
using Appliance.Lab;

// camfw-lab: `./camfw lab ARGS` runs this with ARGS. The lab stops its children and removes its namespaces on
// Ctrl-C or SIGTERM; give that longer than System.CommandLine's 2 s default before it gives up on the action.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) };
return await LabCommand.Create().Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
