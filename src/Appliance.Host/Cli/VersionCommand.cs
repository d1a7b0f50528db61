using System.CommandLine;
using System.Reflection;

namespace Appliance.Host.Cli;

/// <summary><c>camfw version</c>: the build's version, for support tickets.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the camfw version.");
        command.SetAction(_ =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            Console.WriteLine($"camfw {version}");
            return 0;
        });
        return command;
    }
}
