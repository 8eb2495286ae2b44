using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Execution;
using Distributed.Grains.Placement;
using Microsoft.Extensions.DependencyInjection;

namespace Distributed.Grains;

public static class DistributedGrainsServiceCollectionExtensions
{
    /// <summary>
    /// What the grains need on every silo: the message limit senders chunk under, the compute scheduler sized to
    /// <paramref name="computeSlots"/>, and the shard-spreading placement.
    /// </summary>
    public static IServiceCollection AddDistributedGrains(this IServiceCollection services, MessageLimits limits, int computeSlots)
    {
        ArgumentNullException.ThrowIfNull(limits);
        services.AddSingleton(limits);
        services.AddSingleton(_ => new ComputeScheduler(computeSlots));
        services.AddPlacementDirector<ShardSpreadPlacement, ShardSpreadPlacementDirector>();
        return services;
    }
}
