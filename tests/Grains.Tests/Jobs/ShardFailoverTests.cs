using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Tests.Cluster;
using Distributed.Grains.Tests.Support;

namespace Distributed.Grains.Tests.Jobs;

/// <summary>
/// A shard lost in the phases the inference-time fault tests do not reach: between the A·d round trips of a
/// matrix-free filter update, after it answered but before its reply was pulled, and with a newer command superseding
/// the work someone waits on. Each loss is placed in epoch 1 of layer 1, where a shard rebuilding from its stored
/// images starts from z = 0 exactly as the first pass did, so the run must still equal the serial one.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ShardFailoverTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private DistributedEngine Engine(string job) => new(fixture.Grains, ClusterFixture.Limits, 3, "test cluster") { JobId = job };

    [Fact]
    public async Task MatrixFreeUpdate_ShardDeactivatedBetweenRoundTrips_RebuildsMapsAndMatchesSerial()
    {
        const string job = "gram-shard-lost";
        string[] files = TestImages.Write("gram-lost", count: 6, size: 16, seed: 71);
        TrainingSpec spec = new()
        {
            Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = 2 }],
            FilterSystem = FilterSystemKind.MatrixFree,
            Seed = 19,
        };
        // The first A·d round (one product per shard) passes; the second waits while shard 1 loses its activation.
        TestShardGate.Hold hold = TestShardGate.Instance.HoldAt(job, TelemetryNames.Spans.ApplyGram, layer: 0, epoch: 0, pass: 3);
        IImageShardGrain shard = fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, 1));

        await Engine(job).SubmitAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), CancellationToken.None);
        await hold.Reached.WaitAsync(Patience);
        await fixture.Cluster.DeactivateAsync(shard).WaitAsync(Patience);
        hold.Release();
        JobStatus final = await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None).WaitAsync(Patience);

        Assert.True(final.State == JobState.Completed, $"phase: shard 1 lost between A·d round trips; expected Completed, got {final.State} ({final.Error})");
        var (result, _, _) = await JobWatcher.ResultAsync(fixture.Grains, job);
        Oracle.AssertSameTraining(await Oracle.TrainAsync(spec, files, shards: 3), result, job);
    }

    [Fact]
    public async Task Gather_ShardLostBeforeItsChunkedReplyIsPulled_CommandRerunAndMatchesSerial()
    {
        // Layer 1's explicit A (346 kB) is over the fixture's 256 KiB limit: each shard's reply is pulled in chunks.
        const string job = "pull-shard-lost";
        string[] files = TestImages.Write("pull-lost", count: 6, size: 16, seed: 73);
        TrainingSpec spec = new()
        {
            Layers = [new LayerSpec { Maps = 8, FilterSize = 7, Epochs = 2 }],
            FilterSystem = FilterSystemKind.Explicit,
            Seed = 23,
        };
        TestFaults.LoseNextReplyPull(job);

        EngineRun run = await Engine(job).TrainAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None)
            .WaitAsync(Patience);

        Assert.Equal(1, TestFaults.LostPulls(job));
        Oracle.AssertSameTraining(await Oracle.TrainAsync(spec, files, shards: 3), run.Result, job);
    }

    [Fact]
    public async Task Wait_WorkCancelledWhileWaitedOn_IsLostNotAnErrorAndStaleCancelSparesNewerWork()
    {
        const string job = "superseded";
        string[] files = TestImages.Write("superseded", count: 3, size: 16, seed: 77);
        TrainingSpec spec = new() { Layers = [new LayerSpec { Maps = 2, FilterSize = 5, Epochs = 1 }], Seed = 29 };
        // Shards set up and sealed as infer does, with no coordinator: only this test's commands reach the gate, and
        // each is held there until released.
        await Engine(job).OpenImagesAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), CancellationToken.None).WaitAsync(Patience);
        IImageShardGrain shard = fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, 0));
        var header = new MessageHeader(job, 0);
        TestShardGate.Hold hold = TestShardGate.Instance.HoldAt(job, TelemetryNames.Spans.PrepareLayer, layer: 0, epoch: -1, pass: 0);

        // A waiter is inside its wait when another sender cancels the work (as a coordinator being deactivated does).
        Guid first = await shard.StartAsync(new PrepareLayerCommand { Header = header, Frozen = [] });
        await hold.Reached.WaitAsync(Patience);
        Task<ShardWaitResult> waiting = shard.WaitAsync(header, first);
        await shard.CancelAsync(header, first);
        ShardWaitResult cancelled = await waiting.WaitAsync(Patience);

        // A newer command, then a cancel naming the old ticket: the newer work must finish.
        Guid newer = await shard.StartAsync(new PrepareLayerCommand { Header = header, Frozen = [] });
        await shard.CancelAsync(header, first);
        hold.Release();
        ShardWaitResult done = await WaitUntilSettledAsync(shard, header, newer).WaitAsync(Patience);

        Assert.True(cancelled.Lost, "work cancelled under a waiter was not reported lost");
        Assert.True(done.Done, "a cancel naming an older ticket stopped the newer work");
        Assert.IsType<LayerInputReply>(done.Reply);
    }

    private static async Task<ShardWaitResult> WaitUntilSettledAsync(IImageShardGrain shard, MessageHeader header, Guid ticket)
    {
        while (true)
        {
            ShardWaitResult wait = await shard.WaitAsync(header, ticket);
            if (wait.Done || wait.Lost) return wait;
        }
    }
}
