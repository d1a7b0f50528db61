using System.CommandLine;
using System.Globalization;
using Appliance.Host.Hosting;
using Appliance.Transport.WinDivert;
using Microsoft.Extensions.Configuration;

namespace Appliance.Host.Cli;

/// <summary>
/// <c>camfw gateway-failsafe</c>: IP forwarding off on the WinDivert gateway's camera and uplink interfaces. The
/// Windows service's recovery action runs it when <c>camfw run</c> dies, so nothing is routed past a dead gateway.
/// </summary>
internal static class GatewayFailsafeCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "JSON configuration file whose Bridge:Pairs:0 names the interfaces" };
        var cameraIf = new Option<string?>("--camera-if") { Description = "Camera interface index (Get-NetAdapter ifIndex)" };
        var uplinkIf = new Option<string?>("--uplink-if") { Description = "Uplink interface index (Get-NetAdapter ifIndex)" };
        var command = new Command("gateway-failsafe", "Windows: turn IP forwarding off on the gateway's interfaces (the service's recovery action).")
        {
            config,
            cameraIf,
            uplinkIf,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = Console.Error;
            string? camera = parse.GetValue(cameraIf), uplink = parse.GetValue(uplinkIf);
            if (parse.GetValue(config) is { } file)
            {
                if (!file.Exists)
                {
                    await error.WriteLineAsync($"camfw: configuration file {file.FullName} does not exist").ConfigureAwait(false);
                    return ExitCodes.ConfigInvalid;
                }

                var settings = new ConfigurationBuilder().AddJsonFile(file.FullName, optional: false).Build();
                camera ??= settings["Bridge:Pairs:0:CameraInterface"];
                uplink ??= settings["Bridge:Pairs:0:UplinkInterface"];
            }

            var indexes = new List<uint>();
            foreach (var (name, value) in new[] { ("--camera-if", camera), ("--uplink-if", uplink) })
            {
                if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index == 0)
                {
                    await error.WriteLineAsync($"camfw: {name} '{value}' is not a Windows interface index (give it, or --config naming Bridge:Pairs:0)").ConfigureAwait(false);
                    return ExitCodes.ConfigInvalid;
                }

                indexes.Add(index);
            }

            try
            {
                var failures = GatewayFailsafe.TurnForwardingOff(indexes);
                foreach (var failure in failures)
                {
                    await error.WriteLineAsync("camfw: " + failure).ConfigureAwait(false);
                }

                if (failures.Count > 0)
                {
                    return ExitCodes.StartFailed;
                }

                Console.WriteLine($"camfw: IP forwarding (IPv4 and IPv6) off on interfaces {string.Join(", ", indexes)}");
                return ExitCodes.Ok;
            }
            catch (PlatformNotSupportedException e)
            {
                await error.WriteLineAsync("camfw: " + e.Message).ConfigureAwait(false);
                return ExitCodes.StartFailed;
            }
        });
        return command;
    }
}
