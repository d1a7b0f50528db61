using System.Globalization;
using System.Text;
using Appliance.Core;
using Appliance.Management.Policies;
using Appliance.Management.Traffic;

namespace Appliance.Management.Api;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text exposition format 0.0.4, written by hand (one page, no client
/// library): per-camera and per-reason counters, capture drops, flow-table use, policy version and reload outcomes,
/// lost events and syslog queue drops.
/// </summary>
public static class PrometheusWriter
{
    /// <summary>The content type Prometheus expects for this format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Writes every metric.</summary>
    public static string Write(PolicyService policies, ITrafficSource traffic)
    {
        var sb = new StringBuilder(4096);
        var state = policies.Current;
        var planes = traffic.DataPlanes();

        Header(sb, "camfw_up", "gauge", "1 while every data plane is healthy and a policy is loaded.");
        Sample(sb, "camfw_up", null, state is not null && planes.All(p => p.Healthy) ? 1 : 0);

        Header(sb, "camfw_policy_version", "gauge", "Version of the policy in force (0 before the first load).");
        Sample(sb, "camfw_policy_version", null, state?.Version ?? 0);
        Header(sb, "camfw_policy_cameras", "gauge", "Cameras in the policy in force.");
        Sample(sb, "camfw_policy_cameras", null, state?.Spec.Cameras.Count ?? 0);
        Header(sb, "camfw_policy_loaded_timestamp_seconds", "gauge", "When the policy in force was loaded (Unix time).");
        Sample(sb, "camfw_policy_loaded_timestamp_seconds", null, state?.LoadedAt.ToUnixTimeSeconds() ?? 0);
        Header(sb, "camfw_policy_reloads_total", "counter", "Policy changes applied since start.");
        Sample(sb, "camfw_policy_reloads_total", null, policies.Reloads);
        Header(sb, "camfw_policy_reload_failures_total", "counter", "Policy changes rejected since start.");
        Sample(sb, "camfw_policy_reload_failures_total", null, policies.ReloadFailures);
        Header(sb, "camfw_policy_last_reload_failed", "gauge", "1 while the most recent policy change stands rejected.");
        Sample(sb, "camfw_policy_last_reload_failed", null, policies.ActiveFailure is null ? 0 : 1);
        Header(sb, "camfw_policy_confirmation_pending", "gauge", "1 while a safe apply waits for confirmation.");
        Sample(sb, "camfw_policy_confirmation_pending", null, policies.Pending is null ? 0 : 1);

        PerPlane(sb, planes, "camfw_dataplane_healthy", "gauge", "1 while the data plane runs.", static p => p.Healthy ? 1 : 0);
        PerPlane(sb, planes, "camfw_capture_drops_total", "counter", "Frames lost by the capture layer before the engine saw them.", static p => p.CaptureDrops);
        PerPlane(sb, planes, "camfw_flow_table_entries", "gauge", "Flows tracked.", static p => p.FlowCount);
        PerPlane(sb, planes, "camfw_flow_table_capacity", "gauge", "Flow table capacity.", static p => p.FlowCapacity);
        PerPlane(sb, planes, "camfw_flow_quota_evictions_total", "counter", "Closed or half-open flows pushed out so a camera's new opener fits its flow quota (a flood against a camera shows here).", static p => p.QuotaEvictions);
        PerPlane(sb, planes, "camfw_drop_events_lost_total", "counter", "Drop events lost because an event ring was full.", static p => p.EventsLost);
        PerPort(sb, planes);
        FastPaths(sb, planes);

        Header(sb, "camfw_syslog_queue_dropped_total", "counter", "Syslog messages lost because the shipping queue was full.");
        Sample(sb, "camfw_syslog_queue_dropped_total", null, traffic.SyslogQueueDropped);
        if (traffic.Syslog is { } syslog)
        {
            Header(sb, "camfw_syslog_connected", "gauge", "1 while the syslog collector connection is up.");
            Sample(sb, "camfw_syslog_connected", null, syslog.Connected ? 1 : 0);
            Header(sb, "camfw_syslog_queue_depth", "gauge", "Syslog messages waiting for the collector (memory queue and spool).");
            Sample(sb, "camfw_syslog_queue_depth", null, syslog.Pending);
            Header(sb, "camfw_syslog_spool_messages", "gauge", "Syslog messages waiting in the on-disk spool.");
            Sample(sb, "camfw_syslog_spool_messages", null, syslog.SpoolRecords);
            Header(sb, "camfw_syslog_spool_bytes", "gauge", "Bytes of the syslog spool's files.");
            Sample(sb, "camfw_syslog_spool_bytes", null, syslog.SpoolBytes);
            Header(sb, "camfw_syslog_oldest_undelivered_age_seconds", "gauge", "Age of the oldest syslog message not yet delivered (0 when none waits).");
            Sample(sb, "camfw_syslog_oldest_undelivered_age_seconds", null, (long)syslog.OldestUndeliveredSeconds);
            Header(sb, "camfw_syslog_sent_total", "counter", "Syslog messages delivered to the collector.");
            Sample(sb, "camfw_syslog_sent_total", null, syslog.Sent);
            Header(sb, "camfw_syslog_discarded_total", "counter", "Syslog messages lost, by reason.");
            foreach (var (reason, count) in syslog.Discarded)
            {
                Sample(sb, "camfw_syslog_discarded_total", [("reason", reason)], count);
            }

            Header(sb, "camfw_syslog_spool_corrupt_regions_total", "counter", "Damaged syslog spool regions skipped (torn or corrupt records).");
            Sample(sb, "camfw_syslog_spool_corrupt_regions_total", null, syslog.SpoolCorruptRegions);
        }

        Header(sb, "camfw_frames_by_reason_total", "counter", "Frames decided, by reason (pass reasons and drop reasons).");
        foreach (var (reason, count) in traffic.Reasons().OrderBy(kv => kv.Key))
        {
            Sample(sb, "camfw_frames_by_reason_total", [("reason", ReasonNames.Name(reason)), ("verdict", ReasonNames.IsPassReason(reason) ? "pass" : "drop")], count);
        }

        if (state is not null)
        {
            var cameras = new List<(string Name, CameraTotals Counters)>(state.Spec.Cameras.Count);
            foreach (var camera in state.Spec.Cameras)
            {
                if (policies.Holder.Slots.TryGet(camera.Name, out var slot))
                {
                    cameras.Add((camera.Name, traffic.Camera(slot)));
                }
            }

            Header(sb, "camfw_camera_frames_total", "counter", "Frames from and to the camera, by verdict.");
            foreach (var (name, c) in cameras)
            {
                Sample(sb, "camfw_camera_frames_total", [("camera", name), ("verdict", "pass")], c.FramesPassed);
                Sample(sb, "camfw_camera_frames_total", [("camera", name), ("verdict", "drop")], c.FramesDropped);
            }

            Header(sb, "camfw_camera_bytes_total", "counter", "Bytes from and to the camera, by verdict.");
            foreach (var (name, c) in cameras)
            {
                Sample(sb, "camfw_camera_bytes_total", [("camera", name), ("verdict", "pass")], c.BytesPassed);
                Sample(sb, "camfw_camera_bytes_total", [("camera", name), ("verdict", "drop")], c.BytesDropped);
            }

            Header(sb, "camfw_camera_last_seen_timestamp_seconds", "gauge", "When the camera was last seen (Unix time; 0 never).");
            foreach (var (name, c) in cameras)
            {
                Sample(sb, "camfw_camera_last_seen_timestamp_seconds", [("camera", name)], c.LastSeen?.ToUnixTimeSeconds() ?? 0);
            }

            Header(sb, "camfw_camera_no_dns_for_peer_total", "counter", "Connection attempts from the camera to a public address it never resolved (no-dns-for-peer: hard-coded phone-home).");
            foreach (var (name, c) in cameras)
            {
                Sample(sb, "camfw_camera_no_dns_for_peer_total", [("camera", name)], c.NoDnsForPeer);
            }
        }

        return sb.ToString();
    }

    /// <summary>The XDP fast path's figures, for the planes that run one (none are written when no plane does).</summary>
    private static void FastPaths(StringBuilder sb, IReadOnlyList<DataPlaneStatus> planes)
    {
        var withFastPath = planes.Where(p => p.FastPath is not null).ToList();
        if (withFastPath.Count == 0)
        {
            return;
        }

        PerPlane(sb, withFastPath, "camfw_xdp_attached", "gauge", "1 while the data plane's XDP programs are attached to both ports.", static p => p.FastPath!.Attached ? 1 : 0);
        PerPlane(sb, withFastPath, "camfw_xdp_flows", "gauge", "Flows in the XDP fast path's map (forwarded in the kernel).", static p => p.FastPath!.Flows);
        PerPlane(sb, withFastPath, "camfw_xdp_flows_installed_total", "counter", "Flows installed in the XDP fast path (re-installs after a policy change included).", static p => p.FastPath!.Installed);
        PerPlane(sb, withFastPath, "camfw_xdp_install_failures_total", "counter", "Flows the XDP fast path could not take (map full or refused); they stay on the engine's path.", static p => p.FastPath!.InstallFailures);
        PerPlane(sb, withFastPath, "camfw_xdp_forwarded_frames_total", "counter", "Frames the kernel forwarded for installed flows (also in the per-camera counters).", static p => p.FastPath!.FramesForwarded);
        PerPlane(sb, withFastPath, "camfw_xdp_forwarded_bytes_total", "counter", "Bytes of those frames.", static p => p.FastPath!.BytesForwarded);
    }

    private static void PerPlane(StringBuilder sb, IReadOnlyList<DataPlaneStatus> planes, string name, string type, string help, Func<DataPlaneStatus, long> value)
    {
        Header(sb, name, type, help);
        foreach (var p in planes)
        {
            Sample(sb, name, [("plane", p.Name)], value(p));
        }
    }

    private static void Header(StringBuilder sb, string name, string type, string help)
        => sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder sb, string name, (string Name, string Value)[]? labels, long value)
    {
        sb.Append(name);
        if (labels is { Length: > 0 })
        {
            sb.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                sb.Append(labels[i].Name).Append("=\"");
                EscapeLabelValue(sb, labels[i].Value);
                sb.Append('"');
            }

            sb.Append('}');
        }

        sb.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Label values escape backslash, double quote and line feed (exposition format 0.0.4).</summary>
    internal static void EscapeLabelValue(StringBuilder sb, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    sb.Append(@"\\");
                    break;
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\n':
                    sb.Append(@"\n");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
    }

    private static void PerPort(StringBuilder sb, IReadOnlyList<DataPlaneStatus> planes)
    {
        var ports = planes.SelectMany(p => (p.Ports ?? []).Select(port => (Plane: p.Name, Port: port))).ToList();
        if (ports.Count == 0)
        {
            return;
        }

        static (string, string)[] Labels(string plane, PortStatus port) => [("plane", plane), ("port", port.Name), ("side", port.Side)];
        Header(sb, "camfw_port_up", "gauge", "1 while the port is up with carrier.");
        foreach (var (plane, port) in ports)
        {
            Sample(sb, "camfw_port_up", Labels(plane, port), port.Link == "up" ? 1 : 0);
        }

        Header(sb, "camfw_port_problem", "gauge", "1 while the port is down or its MTU or offloads changed since start.");
        foreach (var (plane, port) in ports)
        {
            Sample(sb, "camfw_port_problem", Labels(plane, port), port.Problem is null ? 0 : 1);
        }

        Header(sb, "camfw_port_mtu", "gauge", "The port's MTU now.");
        foreach (var (plane, port) in ports)
        {
            Sample(sb, "camfw_port_mtu", Labels(plane, port), port.Mtu);
        }

        Header(sb, "camfw_port_send_errors_total", "counter", "Frames the port could not send, by errno.");
        foreach (var (plane, port) in ports)
        {
            foreach (var (errno, count) in port.SendErrorsByErrno)
            {
                Sample(sb, "camfw_port_send_errors_total", [.. Labels(plane, port), ("errno", errno)], count);
            }
        }

        Header(sb, "camfw_port_send_retries_total", "counter", "Sends tried again after waiting for the port to become writable.");
        foreach (var (plane, port) in ports)
        {
            Sample(sb, "camfw_port_send_retries_total", Labels(plane, port), port.SendRetries);
        }

        Header(sb, "camfw_port_truncated_total", "counter", "Frames that arrived cut short (snap length or MTU), dropped.");
        foreach (var (plane, port) in ports)
        {
            Sample(sb, "camfw_port_truncated_total", Labels(plane, port), port.Truncated);
        }

        Header(sb, "camfw_port_capture_drops_total", "counter", "Frames the port's capture buffer lost.");
        foreach (var (plane, port) in ports)
        {
            Sample(sb, "camfw_port_capture_drops_total", Labels(plane, port), port.CaptureDrops);
        }

        Header(sb, "camfw_port_interface_drops_total", "counter", "Frames the port's interface dropped.");
        foreach (var (plane, port) in ports)
        {
            Sample(sb, "camfw_port_interface_drops_total", Labels(plane, port), port.InterfaceDrops);
        }
    }
}
