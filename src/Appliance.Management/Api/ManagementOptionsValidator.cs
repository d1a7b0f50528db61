using Appliance.Management.Security;
using Microsoft.Extensions.Options;

namespace Appliance.Management.Api;

/// <summary>Checks the <c>Management</c> section.</summary>
public sealed class ManagementOptionsValidator : IValidateOptions<ManagementOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ManagementOptions o)
    {
        if (!o.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (!ManagementServer.TryParseListenAddress(o, out _, out _, out var error))
        {
            errors.Add(error!);
        }

        if (o.Token is { } token && token.Trim().Length < ApiToken.MinimumLength)
        {
            errors.Add($"Management:Token must be at least {ApiToken.MinimumLength} characters (or leave it out and let Management:TokenFile be generated)");
        }

        if (o.Token is null && string.IsNullOrWhiteSpace(o.TokenFile))
        {
            errors.Add("Management:TokenFile is not set");
        }

        foreach (var (key, path) in new[] { ("CertificatePath", o.CertificatePath), ("CertificateKeyPath", o.CertificateKeyPath), ("ClientCertificateAuthorityPath", o.ClientCertificateAuthorityPath) })
        {
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
            {
                errors.Add($"Management:{key} '{path}' does not exist");
            }
        }

        if (o.MaxRequestBodyBytes is < 1024 or > 16 * 1024 * 1024)
        {
            errors.Add($"Management:MaxRequestBodyBytes {o.MaxRequestBodyBytes} must be between 1024 and 16777216");
        }

        if (o.AuthFailureLimit is < 1 or > 1000)
        {
            errors.Add($"Management:AuthFailureLimit {o.AuthFailureLimit} must be between 1 and 1000");
        }

        if (o.AuthFailureWindow <= TimeSpan.Zero || o.AuthLockout <= TimeSpan.Zero)
        {
            errors.Add("Management:AuthFailureWindow and Management:AuthLockout must be positive");
        }

        if (!string.IsNullOrEmpty(o.UnixSocket))
        {
            // sun_path holds 108 bytes with the terminating NUL.
            if (!Path.IsPathFullyQualified(o.UnixSocket) || System.Text.Encoding.UTF8.GetByteCount(o.UnixSocket) > 107)
            {
                errors.Add($"Management:UnixSocket '{o.UnixSocket}' must be an absolute path of at most 107 bytes (or \"\" to disable the local socket)");
            }
        }

        if (o.MaxConnections is < 1 or > 10_000)
        {
            errors.Add($"Management:MaxConnections {o.MaxConnections} must be between 1 and 10000");
        }

        if (o.MaxConnectionsPerAddress < 1 || o.MaxConnectionsPerAddress > o.MaxConnections)
        {
            errors.Add($"Management:MaxConnectionsPerAddress {o.MaxConnectionsPerAddress} must be between 1 and Management:MaxConnections");
        }

        if (o.UnauthenticatedConnectionTimeout < TimeSpan.FromSeconds(1) || o.UnauthenticatedConnectionTimeout > TimeSpan.FromMinutes(1))
        {
            errors.Add($"Management:UnauthenticatedConnectionTimeout {o.UnauthenticatedConnectionTimeout} must be between 1 second and 1 minute");
        }

        if (o.ConsoleSessionIdleTimeout < TimeSpan.FromMinutes(1) || o.ConsoleSessionIdleTimeout > o.ConsoleSessionLifetime)
        {
            errors.Add($"Management:ConsoleSessionIdleTimeout {o.ConsoleSessionIdleTimeout} must be at least 1 minute and at most Management:ConsoleSessionLifetime");
        }

        if (o.ConsoleSessionLifetime > TimeSpan.FromDays(7))
        {
            errors.Add($"Management:ConsoleSessionLifetime {o.ConsoleSessionLifetime} must be at most 7 days");
        }

        if (o.ConsoleMaxSessions is < 1 or > 1000)
        {
            errors.Add($"Management:ConsoleMaxSessions {o.ConsoleMaxSessions} must be between 1 and 1000");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
