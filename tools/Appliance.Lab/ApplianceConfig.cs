using System.Net;
using System.Text.Json;

namespace Appliance.Lab;

/// <summary>
/// Writes the configuration <c>camfw run --config</c> reads for the lab's appliance (the same JSON an operator
/// writes to <c>/etc/camfw/camfw.json</c>): one bridge pair on the appliance namespace's two ports, the lab's
/// policy copy with its state beside it, the API on that namespace's loopback with its token in the work
/// directory, and syslog over TCP to the lab's rsyslog.
/// </summary>
internal static class ApplianceConfig
{
    public static void Write(LabPaths paths, IPEndPoint api, int syslogPort)
    {
        using var stream = File.Create(paths.Config);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();

        w.WriteStartObject("Bridge");
        w.WriteStartArray("Pairs");
        w.WriteStartObject();
        w.WriteString("Name", "lab");
        w.WriteString("CameraInterface", LabNetwork.CameraPort);
        w.WriteString("UplinkInterface", LabNetwork.UplinkPort);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("Policy");
        w.WriteString("Directory", paths.Policies);
        w.WriteString("StateDirectory", paths.State);
        w.WriteBoolean("Watch", true);
        w.WriteEndObject();

        w.WriteStartObject("Management");
        w.WriteString("Url", $"http://{api}");
        w.WriteString("TokenFile", paths.TokenFile);

        // The appliance's local socket goes in the work directory, never at the machine's /run/camfw/api.sock.
        w.WriteString("UnixSocket", paths.ApiSocket);
        w.WriteEndObject();

        w.WriteStartObject("Syslog");
        w.WriteString("Host", "127.0.0.1");
        w.WriteNumber("Port", syslogPort);
        w.WriteString("Transport", "Tcp");
        w.WriteString("Hostname", "camfw-lab");
        w.WriteEndObject();

        w.WriteEndObject();
    }
}
