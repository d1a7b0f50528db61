using Appliance.Host.Hosting;
using Appliance.Management.Api;
using Appliance.Management.Client;
using Microsoft.Extensions.Configuration;

namespace Appliance.Host.Cli;

/// <summary>What the admin verbs were told about reaching the appliance (flags; null when not given).</summary>
internal sealed record ClientArguments
{
    public string? Url { get; init; }

    public string? Token { get; init; }

    public string? TokenFile { get; init; }

    public string? ConfigFile { get; init; }

    public string? TrustedCertificate { get; init; }

    public string? ClientCertificate { get; init; }

    public string? ClientKey { get; init; }

    /// <summary>The appliance's configuration when <see cref="ConfigFile"/> is not given (when it exists).</summary>
    public string DefaultConfigFile { get; init; } = ApplianceHost.DefaultConfigFile;

    /// <summary>The local socket when the configuration names none (<c>Management:UnixSocket</c>).</summary>
    public string DefaultUnixSocket { get; init; } = ManagementClientOptions.DefaultUnixSocket;
}

/// <summary>How the admin verbs reach the appliance.</summary>
internal static class ClientSettings
{
    /// <summary>
    /// An explicit URL (<c>--url</c>, else <c>CAMFW_URL</c>) wins. Otherwise the appliance's local Unix socket when it
    /// exists (the admin's own path: no token, not subject to the network's connection limits). Otherwise the
    /// configuration's <c>Management:Url</c> or the default, with the token from <c>--token</c>, <c>CAMFW_TOKEN</c>,
    /// <c>Management:Token</c> or the token file.
    /// </summary>
    public static bool TryResolve(ClientArguments args, out ManagementClientOptions? options, out string? error)
    {
        options = null;
        IConfiguration? config = null;
        var file = args.ConfigFile ?? (File.Exists(args.DefaultConfigFile) ? args.DefaultConfigFile : null);
        if (file is not null)
        {
            try
            {
                config = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(file), optional: false).Build();
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
            {
                error = $"cannot read configuration {file}: {e.Message}";
                return false;
            }
        }

        var section = config?.GetSection("Management");
        var explicitUrl = args.Url ?? Environment.GetEnvironmentVariable("CAMFW_URL");
        var token = args.Token ?? Environment.GetEnvironmentVariable("CAMFW_TOKEN");
        var tokenSource = args.Token is not null ? "--token" : token is not null ? "CAMFW_TOKEN" : null;
        if (explicitUrl is null && (section?["UnixSocket"] ?? args.DefaultUnixSocket) is { Length: > 0 } socket && File.Exists(socket))
        {
            options = new ManagementClientOptions { UnixSocket = socket, Token = token, TokenSource = tokenSource };
            error = null;
            return true;
        }

        var urlText = explicitUrl ?? section?["Url"] ?? ManagementOptions.DefaultUrl;
        if (!Uri.TryCreate(urlText, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"'{urlText}' is not an http(s) URL";
            return false;
        }

        if (token is null && args.TokenFile is null && section?["Token"] is { Length: > 0 } configured)
        {
            token = configured;
            tokenSource = $"Management:Token in {file}";
        }
        else if (token is null)
        {
            var path = args.TokenFile ?? section?["TokenFile"] ?? new ManagementOptions().TokenFile;
            if (File.Exists(path))
            {
                try
                {
                    token = File.ReadAllText(path).Trim();
                    tokenSource = path;
                }
                catch (UnauthorizedAccessException)
                {
                    error = $"cannot read the token file {path} (it is 0600: run as root, or pass --token)";
                    return false;
                }
            }
        }

        options = new ManagementClientOptions
        {
            BaseAddress = uri,
            Token = token,
            TokenSource = tokenSource,
            TrustedCertificatePath = args.TrustedCertificate ?? section?["CertificatePath"],
            ClientCertificatePath = args.ClientCertificate,
            ClientKeyPath = args.ClientKey,
        };
        error = null;
        return true;
    }
}
