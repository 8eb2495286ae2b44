using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Distributed.Grains.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>A complete silo: <see cref="UseDistributedClustering"/> plus <see cref="AddDistributedRuntime"/>.</summary>
    public static ISiloBuilder UseDistributedSilo(this ISiloBuilder silo, DistributedHostOptions options) =>
        silo.UseDistributedClustering(options).AddDistributedRuntime(options);

    /// <summary>
    /// Membership and endpoints: localhost clustering (primary silo on <see cref="DistributedHostOptions.PrimarySiloPort"/>)
    /// with in-memory reminders, or Redis membership with Redis reminders.
    /// </summary>
    public static ISiloBuilder UseDistributedClustering(this ISiloBuilder silo, DistributedHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Clustering == ClusteringMode.Localhost)
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort,
                new IPEndPoint(IPAddress.Loopback, options.PrimarySiloPort), options.ServiceId, options.ClusterId);
            silo.UseInMemoryReminderService();
            return silo;
        }

        silo.UseRedisClustering(options.Redis!);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        if (options.AdvertisedAddress is { } address)
            silo.ConfigureEndpoints(IPAddress.Parse(address), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        else
            silo.Configure<EndpointOptions>(o =>
            {
                o.SiloPort = options.SiloPort;
                o.GatewayPort = options.GatewayPort;
            });
        silo.UseRedisReminderService(o => o.ConfigurationOptions = ConfigurationOptions.Parse(options.Redis!));
        return silo;
    }

    /// <summary>
    /// Everything but membership (what a TestingHost silo uses too): grain storage "checkpoints" and "images", the
    /// message-size limit, activity propagation across grain calls, the grains' services and placement.
    /// </summary>
    public static ISiloBuilder AddDistributedRuntime(this ISiloBuilder silo, DistributedHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        foreach (string name in (string[])[StorageNames.Checkpoints, StorageNames.Images])
        {
            if (options.Storage == StorageMode.Memory) silo.AddMemoryGrainStorage(name);
            else silo.AddRedisGrainStorage(name, o => o.ConfigurationOptions = ConfigurationOptions.Parse(options.Redis!));
        }
        silo.Configure<SiloMessagingOptions>(o => o.MaxMessageBodySize = options.MaxMessageBytes);
        silo.AddActivityPropagation();
        silo.Services.AddSingleton(options);
        silo.Services.AddDistributedGrains(options.MessageLimits, new DistributedGrainOptions
        {
            DataRoot = options.DataRoot,
            ImageLimits = Distributed.Compute.Imaging.ImageLoadOptions.Default with { MaxPixels = options.MaxPixels },
            ComputeSlots = options.EffectiveComputeSlots,
        });
        return silo;
    }
}
