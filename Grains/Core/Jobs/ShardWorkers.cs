using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Microsoft.Extensions.Logging;

namespace Distributed.Grains.Jobs;

/// <summary>
/// <see cref="IImageWorkers"/> over shard grains for a run the client orchestrates itself: `infer`, one pass with no
/// filters to learn and nothing to checkpoint, whose results stream to the client's disk (a coordinator grain would only
/// relay them). The fan-out, chunking, retries and failover are those of a training job (<see cref="GrainImageWorkers"/>).
/// </summary>
public static class ShardWorkers
{
    /// <param name="shards">Global image indices per shard; the shard grains are <c>ShardKey.Format(job, s)</c>, set up and sealed.</param>
    public static IImageWorkers Create(IGrainFactory grains, string job, TrainingSpec spec, IReadOnlyList<IReadOnlyList<int>> shards, int inputPlanes,
        MessageLimits limits, ILogger logger, DistributedGrainOptions? options = null) =>
        new GrainImageWorkers(grains, job, spec, shards, inputPlanes, limits, Tracing(job), logger, options);

    // A client-driven run has no job span: each round's shard calls begin traces of their own.
    private static JobTracing Tracing(string job) => new(job, null);
}
