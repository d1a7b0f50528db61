using System.CommandLine;
using Appliance.Host.Hosting;

namespace Appliance.Host.Cli;

/// <summary><c>camfw run</c>: the appliance itself (what the systemd unit starts).</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = $"JSON configuration file (default {ApplianceHost.DefaultConfigFile} when it exists)" };
        var cameraIf = new Option<string?>("--camera-if") { Description = "Camera-side interface of the (first) bridge pair" };
        var uplinkIf = new Option<string?>("--uplink-if") { Description = "Uplink-side interface of the (first) bridge pair" };
        var policy = new Option<DirectoryInfo?>("--policy") { Description = "Policy directory (every *.yaml in it)" };
        var management = new Option<string?>("--management") { Description = "Management API address, e.g. http://127.0.0.1:8080" };
        var backend = new Option<string?>("--backend") { Description = "Data-plane backend: libpcap (Linux bridge, default) or windivert (Windows gateway; interfaces are ifIndex numbers)" };
        var command = new Command("run", "Run the appliance: bridge, policy hot reload, management API (systemd starts this).")
        {
            config,
            cameraIf,
            uplinkIf,
            policy,
            management,
            backend,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var file = parse.GetValue(config)?.FullName;
            if (file is null && File.Exists(ApplianceHost.DefaultConfigFile))
            {
                file = ApplianceHost.DefaultConfigFile;
            }

            if (file is not null && !File.Exists(file))
            {
                await Console.Error.WriteLineAsync($"camfw: configuration file {file} does not exist").ConfigureAwait(false);
                return ExitCodes.ConfigInvalid;
            }

            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (parse.GetValue(cameraIf) is { } cam)
            {
                overrides["Bridge:Pairs:0:CameraInterface"] = cam;
            }

            if (parse.GetValue(uplinkIf) is { } up)
            {
                overrides["Bridge:Pairs:0:UplinkInterface"] = up;
            }

            if (parse.GetValue(policy) is { } dir)
            {
                overrides["Policy:Directory"] = dir.FullName;
            }

            if (parse.GetValue(backend) is { } dataPlane)
            {
                overrides["Bridge:Backend"] = dataPlane;
            }

            if (parse.GetValue(management) is { } url)
            {
                overrides["Management:Url"] = url;
            }

            try
            {
                using var host = ApplianceHost.Build(file, overrides);
                return await ApplianceHost.RunAsync(host, Console.Error, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
            {
                // A config file that is not valid JSON fails while the host is built.
                await Console.Error.WriteLineAsync($"camfw: cannot read configuration {file}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.ConfigInvalid;
            }
        });
        return command;
    }
}
