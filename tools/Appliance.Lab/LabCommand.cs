using System.CommandLine;
namespace Appliance.Lab;

/// <summary><c>camfw lab</c> (this program, <c>camfw-lab</c>): the whole appliance in network namespaces, with cameras, an NVR and live traffic.</summary>
internal static class LabCommand
{
    public static RootCommand Create()
    {
        var duration = new Option<int?>("--duration")
        {
            Description = "Stop by itself after this many seconds (default: run until Ctrl-C).",
            HelpName = "SECONDS",
        };
        duration.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--duration must be a positive number of seconds");
            }
        });
        var headless = new Option<bool>("--headless")
        {
            Description = "Print plain-text summaries every few seconds instead of the live view.",
        };
        var summary = new Option<string?>("--summary")
        {
            Description = "Also write the final JSON summary to this file (always written to summary.json in the work directory).",
            HelpName = "FILE",
        };
        var workDirectory = new Option<string?>("--work-dir")
        {
            Description = "Lab state: policy copy, logs, API token, syslog file (default: .lab/ in the repository).",
            HelpName = "DIR",
        };
        var policies = new Option<string?>("--policies")
        {
            Description = "The site to load; copied into the work directory first (default: policies/ in the repository).",
            HelpName = "DIR",
        };

        var flood = new Option<bool>("--flood")
        {
            Description = "Also flood: every 45 s, 5,000 TCP SYNs from the uplink side spoofing the NVR's address to south-gate:554 (its flow quota is 256), while the NVR keeps opening new connections to it.",
        };

        var command = new RootCommand("Run the appliance in a lab of network namespaces: cameras, an NVR, DNS/NTP, a vendor cloud, an internet host, a rogue device and live traffic (needs root).")
        {
            duration,
            headless,
            summary,
            workDirectory,
            policies,
            flood,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            var seconds = parseResult.GetValue(duration);
            using var runner = new LabRunner(new LabOptions
            {
                Duration = seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                Headless = parseResult.GetValue(headless),
                SummaryPath = parseResult.GetValue(summary),
                WorkDirectory = parseResult.GetValue(workDirectory),
                PolicyDirectory = parseResult.GetValue(policies),
                Flood = parseResult.GetValue(flood),
            });
            return await runner.RunAsync(ct).ConfigureAwait(false);
        });
        return command;
    }
}
