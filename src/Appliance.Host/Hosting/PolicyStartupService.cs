using Appliance.Management.Policies;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Host.Hosting;

/// <summary>
/// Loads the policy before anything forwards (a failed first load stops the process with every diagnostic),
/// then watches the policy directory.
/// </summary>
internal sealed class PolicyStartupService(PolicyService policies, PolicyDirectoryWatcher watcher, ILogger<PolicyStartupService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var result = await policies.LoadInitialAsync(cancellationToken).ConfigureAwait(false);
        if (result.Outcome != ApplyOutcome.Applied)
        {
            var lines = result.Diagnostics.Select(d => d.ToString()).ToList();
            HostLog.PolicyStartupFailed(logger, policies.Options.Directory, string.Join("; ", lines.Take(10)));
            throw new StartupException(ExitCodes.PolicyInvalid, $"the policy in {policies.Options.Directory} is invalid; camfw does not start without a valid policy", lines);
        }

        if (policies.Options.Watch)
        {
            watcher.Start();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        watcher.Dispose();
        return Task.CompletedTask;
    }
}
