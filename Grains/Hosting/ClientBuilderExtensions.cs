using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Distributed.Grains.Hosting;

public static class ClientBuilderExtensions
{
    /// <summary>
    /// An external client of the cluster <paramref name="options"/> names: its gateway (localhost) or Redis membership,
    /// a bounded connect (after <see cref="DistributedHostOptions.ConnectAttempts"/> failed attempts starting the
    /// client fails instead of retrying forever), plus <see cref="AddDistributedClientRuntime"/>.
    /// </summary>
    public static IClientBuilder UseDistributedClient(this IClientBuilder client, DistributedHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Clustering == ClusteringMode.Localhost)
        {
            client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId);
        }
        else
        {
            client.UseRedisClustering(options.Redis!);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
        }
        int failures = 0;
        TimeSpan delay = TimeSpan.FromSeconds(options.ConnectRetryDelaySeconds);
        client.UseConnectionRetryFilter(async (exception, cancellationToken) =>
        {
            if (Interlocked.Increment(ref failures) >= options.ConnectAttempts) return false;
            await Task.Delay(delay, cancellationToken);
            return true;
        });
        return client.AddDistributedClientRuntime(options);
    }

    /// <summary>
    /// Everything but membership (what a TestingHost client uses too): the silos' message limit, activity propagation
    /// so a trace crosses grain calls, and <see cref="Abstractions.Messaging.MessageLimits"/> for senders.
    /// </summary>
    public static IClientBuilder AddDistributedClientRuntime(this IClientBuilder client, DistributedHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        client.Configure<ClientMessagingOptions>(o => o.MaxMessageBodySize = options.MaxMessageBytes);
        client.AddActivityPropagation();
        client.Services.AddSingleton(options);
        client.Services.AddSingleton(options.MessageLimits);
        return client;
    }
}
