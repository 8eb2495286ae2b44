using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Tests.Support;

namespace Distributed.Grains.Tests.Jobs;

/// <summary>
/// A job whose coordinator goes away while nobody watches it: only the silos' job keeper can bring it back. The test
/// reads nothing but the registry, which only the coordinator updates, until the job is complete.
/// </summary>
[Collection(BadInputCollection.Name)]
public sealed class JobKeeperTests(BadInputCluster fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Keeper_CoordinatorDeactivatedWithNobodyWatching_ResumesJobToTheSerialResult()
    {
        const string job = "keeper-unwatched";
        TrainingSpec spec = BadInputCluster.BystanderSpec with { Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = 3 }] };
        TestShardGate.Hold hold = TestShardGate.Instance.HoldInference(job, layer: 0, epoch: 1);
        ITrainingJobGrain coordinator = fixture.Grains.GetGrain<ITrainingJobGrain>(job);
        IJobRegistryGrain registry = fixture.Grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key);

        await new DistributedEngine(fixture.Grains, BadInputCluster.Limits, 0, "bad-input cluster") { JobId = job }
            .SubmitAsync(spec, new ImageInput(fixture.BystanderImages, ImageLoadOptions.Default, 0), CancellationToken.None);
        await hold.Reached.WaitAsync(Patience);
        await fixture.Cluster.DeactivateAsync(coordinator).WaitAsync(Patience);
        hold.Release();

        JobSummary? summary = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (summary is not { State: JobState.Completed or JobState.Failed or JobState.Cancelled })
        {
            Assert.True(clock.Elapsed < Patience,
                $"phase: coordinator deactivated in epoch 2, nobody watching; after {Patience} the registry still says {summary?.State} at epoch {summary?.Epoch}: no keeper resumed it");
            // Polling the registry, never the coordinator: a status call would re-activate it in the keeper's stead.
            await Task.Delay(TimeSpan.FromMilliseconds(200));
            summary = (await registry.ListAsync()).SingleOrDefault(j => j.Job == job);
        }

        Assert.True(summary.State == JobState.Completed, $"phase: deactivated in epoch 2, nobody watching; expected Completed, got {summary.State}");
        var (result, _, _) = await JobWatcher.ResultAsync(fixture.Grains, job);
        TrainingResult serial = await Oracle.TrainAsync(spec, fixture.BystanderImages, shards: BadInputCluster.Silos);
        Assert.Equal(serial.Metrics.Count, result.Metrics.Count);
        for (int i = 0; i < serial.Metrics.Count; i++)
            Assert.True(Math.Abs(serial.Metrics[i].Objective - result.Metrics[i].Objective) <= 1e-5 * serial.Metrics[i].Objective,
                $"epoch {i + 1}: objective {result.Metrics[i].Objective} resumed vs {serial.Metrics[i].Objective} serial");
    }
}
