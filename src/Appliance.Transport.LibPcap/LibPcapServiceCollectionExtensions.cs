using Appliance.Transport;
using Appliance.Transport.LibPcap;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the libpcap bridge as the host's data-plane backend (the Kestrel <c>UseSockets()</c> shape).</summary>
public static class LibPcapServiceCollectionExtensions
{
    /// <summary>
    /// Makes the libpcap bridge the <see cref="IDataPlaneFactory"/> (unless one is registered already, e.g. by a
    /// test) and applies <paramref name="configure"/> to its options.
    /// </summary>
    public static IServiceCollection AddLibPcapBridge(this IServiceCollection services, Action<LibPcapBridgeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<LibPcapBridgeOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LibPcapBridgeOptions>, LibPcapBridgeOptionsValidator>());
        services.TryAddSingleton<IDataPlaneFactory, LibPcapDataPlaneFactory>();
        return services;
    }
}
