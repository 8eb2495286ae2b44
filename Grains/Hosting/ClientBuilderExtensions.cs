using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Distributed.Grains.Hosting.Security;
using Orleans.Configuration;

namespace Distributed.Grains.Hosting;

public static class ClientBuilderExtensions
{
    /// <summary>
    /// An external client of the cluster <paramref name="options"/> names: its gateway (localhost) or Redis membership
    /// (the cluster secret is the Redis password, and proves this client to each gateway it connects to),
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
            client.UseRedisClustering(o => o.ConfigurationOptions = RedisConnection.Options(options));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
        }
        var refusals = new SecretRefusals();
        client.Services.AddSingleton(refusals);
        if (options.Secret is { } secret)
            client.Configure<ClientConnectionOptions>(o => o.ConfigureConnection(c => c.UseSecretProver(secret)));
        int failures = 0;
        TimeSpan delay = TimeSpan.FromSeconds(options.ConnectRetryDelaySeconds);
        client.UseConnectionRetryFilter(async (exception, cancellationToken) =>
        {
            // A refused secret stays refused: no point in trying again.
            if (refusals.Last is not null) return false;
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
