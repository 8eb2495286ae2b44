using System.Net;
using Distributed.Grains.Hosting.Security;
using Distributed.Grains.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Distributed.Grains.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>A complete silo: <see cref="UseDistributedClustering"/> plus <see cref="AddDistributedRuntime"/>.</summary>
    public static ISiloBuilder UseDistributedSilo(this ISiloBuilder silo, DistributedHostOptions options) =>
        silo.UseDistributedClustering(options).AddDistributedRuntime(options);

    /// <summary>
    /// Membership and endpoints: localhost clustering (primary silo on <see cref="DistributedHostOptions.PrimarySiloPort"/>)
    /// with in-memory reminders, or Redis membership with Redis reminders. The ports bind
    /// <see cref="DistributedHostOptions.EffectiveListenAddress"/> only, and with a secret every connection to them must
    /// prove it (<see cref="SecretHandshake"/>); a silo without a secret may listen on loopback only, unless
    /// <see cref="DistributedHostOptions.Insecure"/>.
    /// </summary>
    public static ISiloBuilder UseDistributedClustering(this ISiloBuilder silo, DistributedHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        IPAddress? listen = options.EffectiveListenAddress;
        if (options.Secret is null && !options.Insecure && (listen is null || !IPAddress.IsLoopback(listen)))
            throw new HostOptionsException(
                $"this silo would listen on {listen?.ToString() ?? "a non-loopback interface"} without a cluster secret, open to anyone who reaches its ports; give --secret-file (or Distributed__Secret), --listen 127.0.0.1, or --insecure.",
                "secret-file");
        if (options.Clustering == ClusteringMode.Localhost)
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort,
                new IPEndPoint(IPAddress.Loopback, options.PrimarySiloPort), options.ServiceId, options.ClusterId);
            silo.UseInMemoryReminderService();
        }
        else
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = RedisConnection.Options(options));
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            silo.Configure<EndpointOptions>(o =>
            {
                o.SiloPort = options.SiloPort;
                o.GatewayPort = options.GatewayPort;
                if (options.AdvertisedAddress is { } address) o.AdvertisedIPAddress = IPAddress.Parse(address);
            });
            silo.UseRedisReminderService(o => o.ConfigurationOptions = RedisConnection.Options(options));
        }
        // Orleans binds the advertised endpoint unless told otherwise; bind exactly the address chosen.
        if (listen is not null)
            silo.Configure<EndpointOptions>(o =>
            {
                o.SiloListeningEndpoint = new IPEndPoint(listen, options.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(listen, options.GatewayPort);
            });
        if (options.Secret is { } secret)
            silo.Configure<SiloConnectionOptions>(o =>
            {
                o.ConfigureSiloInboundConnection(c => c.UseSecretAcceptor(secret));
                o.ConfigureGatewayInboundConnection(c => c.UseSecretAcceptor(secret));
                o.ConfigureSiloOutboundConnection(c => c.UseSecretProver(secret));
            });
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
            // The store itself lives under an inner name; grains see it through the retrying wrapper.
            string inner = RetryingGrainStorage.InnerName(name);
            if (options.Storage == StorageMode.Memory) silo.AddMemoryGrainStorage(inner);
            else silo.AddRedisGrainStorage(inner, o => o.ConfigurationOptions = RedisConnection.Options(options));
            silo.Services.AddRetryingGrainStorage(name, TimeSpan.FromSeconds(options.StorageRetrySeconds));
        }
        silo.Configure<SiloMessagingOptions>(o => o.MaxMessageBodySize = options.MaxMessageBytes);
        silo.AddActivityPropagation();
        silo.Services.AddSingleton(options);
        silo.Services.AddDistributedGrains(options.MessageLimits, new DistributedGrainOptions
        {
            DataRoot = options.DataRoot,
            ImageLimits = Distributed.Compute.Imaging.ImageLoadOptions.Default with { MaxPixels = options.MaxPixels },
            ComputeSlots = options.EffectiveComputeSlots,
            MaxUploadBytesPerJob = options.MaxUploadBytes,
            MaxImagesPerJob = options.MaxImages,
            ShardMemoryBytes = options.ShardMemoryBytes,
        });
        return silo;
    }
}
