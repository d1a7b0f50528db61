using System.Text.Json;

namespace Appliance.Lab;

/// <summary>
/// The final JSON summary of a lab run (<c>summary.json</c>): the appliance's counters, per-reason totals and
/// recent drop events from its API, what every device experienced, and the lab's verdict on each expectation.
/// Scripts and the lab's own test read it.
/// </summary>
internal static class LabSummary
{
    public static void Write(string path, LabSite site, LabSnapshot s, int syslogLines, string exitReason, LabApplianceState appliance)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("at", s.At);
            w.WriteNumber("elapsedSeconds", Math.Round(s.Elapsed.TotalSeconds, 1));
            w.WriteString("exit", exitReason);
            w.WriteString("health", s.Health?.Status);
            if (s.Cameras?.PolicyVersion is { } version)
            {
                w.WriteNumber("policyVersion", version);
            }

            w.WriteString("apiError", s.ApiError);

            // Whether the numbers below are the appliance's last words: after a crash or kill -9 they are what it
            // reported up to then (countersAt), and the devices' view shows what happened after.
            w.WriteStartObject("appliance");
            w.WriteString("state", appliance.State);
            if (appliance.ExitCode is { } code)
            {
                w.WriteNumber("exitCode", code);
                w.WriteString("signal", code is > 128 and < 160 ? SignalName(code - 128) : null);
            }

            if (appliance.ExitedAfterSeconds is { } after)
            {
                w.WriteNumber("exitedAfterSeconds", Math.Round(after, 1));
            }

            if (appliance.CountersAt is { } countersAt)
            {
                w.WriteString("countersAt", countersAt);
            }

            w.WriteString("logTail", appliance.LogTail);
            w.WriteEndObject();
            w.WriteNumber("syslogLines", syslogLines);

            w.WriteStartArray("hosts");
            foreach (var h in site.Hosts)
            {
                w.WriteStartObject();
                w.WriteString("id", h.Id);
                w.WriteString("role", h.Role.ToString());
                w.WriteString("name", h.Name);
                w.WriteString("namespace", h.Namespace);
                w.WriteString("mac", h.Mac);
                w.WriteString("address", h.Address.ToString());
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartArray("cameras");
            foreach (var c in s.Cameras?.Cameras ?? [])
            {
                w.WriteStartObject();
                w.WriteString("name", c.Name);
                w.WriteString("mac", c.Mac);
                w.WriteString("mode", c.Mode);
                w.WriteNumber("framesPassed", c.FramesPassed);
                w.WriteNumber("framesDropped", c.FramesDropped);
                w.WriteNumber("bytesPassed", c.BytesPassed);
                w.WriteNumber("bytesDropped", c.BytesDropped);
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartObject("reasons");
            foreach (var (reason, count) in s.Reasons)
            {
                w.WriteNumber(reason, count);
            }

            w.WriteEndObject();

            w.WriteStartObject("traffic");
            foreach (var (host, status) in s.Traffic.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject(host);
                foreach (var (key, value) in status.Counters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.WriteNumber(key, value);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();

            w.WriteStartArray("checks");
            foreach (var check in s.Checks)
            {
                w.WriteStartObject();
                w.WriteString("name", check.Name);
                w.WriteBoolean("mustPass", check.MustPass);
                w.WriteNumber("attempts", check.Attempts);
                w.WriteNumber("successes", check.Successes);
                w.WriteString("unit", check.Unit);
                if (check.GettingThroughNow is { } now)
                {
                    w.WriteBoolean("gettingThroughNow", now);
                }
                if (check.Ok is { } ok)
                {
                    w.WriteBoolean("ok", ok);
                }
                else
                {
                    w.WriteNull("ok");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteNumber("eventsTotal", s.EventsTotal);
            w.WriteStartArray("events");
            foreach (var e in s.Events)
            {
                w.WriteStartObject();
                w.WriteString("at", e.At);
                w.WriteString("kind", e.Kind);
                w.WriteString("level", e.Level);
                w.WriteString("message", e.Message);
                w.WriteString("camera", e.Camera);
                w.WriteString("mac", e.Mac);
                w.WriteString("reason", e.Reason);
                w.WriteString("rule", e.Rule);
                w.WriteString("direction", e.Direction);
                w.WriteString("protocol", e.Protocol);
                w.WriteString("source", e.Source);
                w.WriteString("sourcePort", e.SourcePort);
                w.WriteString("destination", e.Destination);
                w.WriteString("destinationPort", e.DestinationPort);
                w.WriteString("dns", e.Dns);
                w.WriteString("action", e.Action);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        File.Move(temp, path, overwrite: true);
    }

    private static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal " + signal.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
