using Appliance.Syslog.Transport;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog;

/// <summary>
/// Checks <see cref="SyslogOptions"/> when the host starts (registered with <c>ValidateOnStart</c>), collecting
/// every problem so an admin fixes them in one pass. TLS files are loaded here so a bad path or key fails the
/// start, not the first connection attempt hours later.
/// </summary>
public sealed class SyslogOptionsValidator : IValidateOptions<SyslogOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SyslogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"Syslog:Port {options.Port} is not a port number (1-65535, or 0 for the transport's default).");
        }

        if (!Enum.IsDefined(options.Transport))
        {
            errors.Add($"Syslog:Transport '{options.Transport}' is not one of Udp, Tcp, Tls.");
        }

        if (!Enum.IsDefined(options.Facility))
        {
            errors.Add($"Syslog:Facility '{options.Facility}' is not an RFC 5424 facility (Kernel..Local7).");
        }

        if (options.MaxMessageBytes is < 480 or > 1_048_576)
        {
            // RFC 5426 section 3.2: every receiver accepts 480 bytes; below that even a header with SD does not fit.
            errors.Add($"Syslog:MaxMessageBytes {options.MaxMessageBytes} must be between 480 and 1048576.");
        }

        if (options.Transport == SyslogTransport.Udp && options.MaxMessageBytes > 65_507)
        {
            errors.Add($"Syslog:MaxMessageBytes {options.MaxMessageBytes} does not fit one UDP datagram (65507).");
        }

        if (options.QueueCapacity is < 1 or > 10_000_000)
        {
            errors.Add($"Syslog:QueueCapacity {options.QueueCapacity} must be between 1 and 10000000.");
        }

        if (options.SpoolMaxBytes is < 64 * 1024 or > 1L << 40)
        {
            errors.Add($"Syslog:SpoolMaxBytes {options.SpoolMaxBytes} must be between 65536 and 1099511627776.");
        }

        if (options.SpoolReservedPercent is < 0 or > 90)
        {
            errors.Add($"Syslog:SpoolReservedPercent {options.SpoolReservedPercent} must be between 0 and 90.");
        }

        if (options.SpoolSyncInterval <= TimeSpan.Zero || options.DegradedAfter <= TimeSpan.Zero)
        {
            errors.Add("Syslog:SpoolSyncInterval and Syslog:DegradedAfter must be positive.");
        }

        if (options.SpoolDirectory is { Length: > 0 } spool && !Path.IsPathFullyQualified(spool))
        {
            errors.Add($"Syslog:SpoolDirectory '{spool}' must be an absolute path.");
        }

        if (options.InitialReconnectDelay <= TimeSpan.Zero || options.MaxReconnectDelay < options.InitialReconnectDelay)
        {
            errors.Add("Syslog:InitialReconnectDelay must be positive and no larger than Syslog:MaxReconnectDelay.");
        }

        if (options.ConnectTimeout <= TimeSpan.Zero || options.WriteTimeout <= TimeSpan.Zero || options.ShutdownDrainTimeout < TimeSpan.Zero)
        {
            errors.Add("Syslog:ConnectTimeout and Syslog:WriteTimeout must be positive, Syslog:ShutdownDrainTimeout not negative.");
        }

        if (!Rfc5424Formatter.IsValidHeaderField(options.AppName, 48))
        {
            errors.Add($"Syslog:AppName '{options.AppName}' must be 1-48 printable US-ASCII characters.");
        }

        if (options.Hostname is not null && !Rfc5424Formatter.IsValidHeaderField(options.Hostname, 255))
        {
            errors.Add($"Syslog:Hostname '{options.Hostname}' must be 1-255 printable US-ASCII characters.");
        }

        if (!Rfc5424Formatter.IsValidSdName(options.StructuredDataName) || options.StructuredDataName.Contains('@', StringComparison.Ordinal))
        {
            errors.Add($"Syslog:StructuredDataName '{options.StructuredDataName}' must be 1-32 printable US-ASCII characters without '=', ' ', ']', '\"' or '@'.");
        }

        if (options.EnterpriseNumber <= 0)
        {
            errors.Add($"Syslog:EnterpriseNumber {options.EnterpriseNumber} must be a positive IANA private enterprise number.");
        }
        else if (options.StructuredDataName.Length + 1 + options.EnterpriseNumber.ToString(System.Globalization.CultureInfo.InvariantCulture).Length > 32)
        {
            errors.Add("Syslog:StructuredDataName and Syslog:EnterpriseNumber together exceed the 32 characters of an SD-ID.");
        }

        if (options.Enabled && options.Transport == SyslogTransport.Tls)
        {
            using var material = TlsMaterial.Load(options.Tls, out var tlsError);
            if (tlsError is not null)
            {
                errors.Add(tlsError);
            }
        }
        else if (options.Enabled && (options.Tls.CaFile is not null || options.Tls.ClientCertificateFile is not null))
        {
            errors.Add("Syslog:Tls settings are given but Syslog:Transport is not Tls; set Transport to Tls or remove them.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
