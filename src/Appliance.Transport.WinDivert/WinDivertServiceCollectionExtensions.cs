using Appliance.Transport;
using Appliance.Transport.WinDivert;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the WinDivert gateway as the host's data-plane backend (the Kestrel <c>UseSockets()</c> shape).</summary>
public static class WinDivertServiceCollectionExtensions
{
    /// <summary>
    /// Makes the WinDivert gateway the <see cref="IDataPlaneFactory"/> (unless one is registered already, e.g. by a
    /// test), applies <paramref name="configure"/> to its settings and validates them at start.
    /// </summary>
    public static IServiceCollection AddWinDivertGateway(this IServiceCollection services, Action<WinDivertGatewaySettings>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<WinDivertGatewaySettings>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WinDivertGatewaySettings>, WinDivertGatewaySettingsValidator>());
        services.TryAddSingleton<IDataPlaneFactory, WinDivertDataPlaneFactory>();
        return services;
    }
}
