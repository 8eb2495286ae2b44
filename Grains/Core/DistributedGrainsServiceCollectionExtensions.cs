using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Execution;
using Distributed.Grains.Jobs;
using Distributed.Grains.Placement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Distributed.Grains;

public static class DistributedGrainsServiceCollectionExtensions
{
    /// <summary>
    /// What the grains need on every silo: the message limit senders chunk under, the compute schedulers (shard work, tile steps), the shard
    /// work gate (open unless a test registered its own first), the shard-spreading placement, and the job keeper that
    /// re-activates coordinators lost with their silo.
    /// </summary>
    public static IServiceCollection AddDistributedGrains(this IServiceCollection services, MessageLimits limits, DistributedGrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(limits);
        services.AddSingleton(options);
        services.AddSingleton(_ => new ComputeScheduler(options.ComputeSlots));
        services.AddKeyedSingleton(ComputeScheduler.TileSteps, (_, _) => new ComputeScheduler(options.ComputeSlots));
        services.TryAddSingleton<IShardWorkGate, OpenShardWorkGate>();
        services.AddPlacementDirector<ShardSpreadPlacement, ShardSpreadPlacementDirector>();
        services.AddHostedService<JobKeeper>();
        return services;
    }
}
