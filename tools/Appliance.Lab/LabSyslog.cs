using System.Globalization;

namespace Appliance.Lab;

/// <summary>
/// A real rsyslog collector for the lab, in the appliance's namespace (so "loopback" means the same thing to both),
/// writing every message it gets, unchanged, to <c>syslog.log</c> in the lab's work directory. Runs in the
/// foreground with its own config, pid file and work directory; it never touches the machine's own rsyslog.
/// </summary>
internal static class LabSyslog
{
    /// <summary>UDP and TCP (octet-counted) on this loopback port in the appliance's namespace.</summary>
    public const int Port = 5514;

    public static LabProcess Start(string workDirectory, string logFile)
    {
        var rsyslogd = Shell.Find("rsyslogd") ?? throw new LabException("'rsyslogd' not found: run scripts/install-deps.sh (Debian package rsyslog)");
        var state = Path.Combine(workDirectory, "rsyslog");
        Directory.CreateDirectory(state);
        var config = Path.Combine(state, "rsyslog.conf");
        var pidFile = Path.Combine(state, "rsyslogd.pid");
        File.Delete(pidFile);
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            # Written by camfw lab; rewritten on every start.
            global(workDirectory="{state}")
            module(load="imudp")
            module(load="imtcp")
            input(type="imudp" address="127.0.0.1" port="{Port}")
            input(type="imtcp" address="127.0.0.1" port="{Port}")
            template(name="camfw-raw" type="string" string="%rawmsg%\n")
            action(type="omfile" file="{logFile}" template="camfw-raw")

            """));
        return LabProcess.Start("rsyslogd", LabNetwork.ApplianceNamespace, rsyslogd, ["-n", "-f", config, "-i", pidFile],
            Path.Combine(workDirectory, "logs", "rsyslogd.log"));
    }
}
