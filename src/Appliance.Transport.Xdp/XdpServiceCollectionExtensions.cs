using Appliance.Transport;
using Appliance.Transport.LibPcap;
using Appliance.Transport.Xdp;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the libpcap bridge with the XDP fast path as the host's data-plane backend.</summary>
public static class XdpServiceCollectionExtensions
{
    /// <summary>
    /// Makes <see cref="XdpDataPlaneFactory"/> the <see cref="IDataPlaneFactory"/> (unless one is registered already)
    /// and binds both the libpcap bridge's and the offload's options with <paramref name="configure"/>.
    /// With <c>XdpOffload: off</c> (the default) it builds exactly the plain libpcap bridge.
    /// </summary>
    public static IServiceCollection AddXdpBridge(this IServiceCollection services, Action<LibPcapBridgeOptions>? configure = null, Action<XdpOffloadOptions>? configureXdp = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<XdpOffloadOptions>();
        if (configureXdp is not null)
        {
            options.Configure(configureXdp);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<XdpOffloadOptions>, XdpOffloadOptionsValidator>());
        services.TryAddSingleton<IDataPlaneFactory, XdpDataPlaneFactory>();
        return services.AddLibPcapBridge(configure);
    }
}
