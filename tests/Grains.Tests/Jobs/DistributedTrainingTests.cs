using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Operators;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Tests.Cluster;
using Distributed.Grains.Tests.Support;
using Distributed.Compute.Learning;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Tests.Jobs;

[Collection(ClusterCollection.Name)]
public sealed class DistributedTrainingTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>Layer 1's A (36 map pairs of 7⁴ floats, 346 kB) is over the fixture's 256 KiB limit: it travels as chunks.</summary>
    private static TrainingSpec TwoLayers(int seed) => new()
    {
        Layers =
        [
            new LayerSpec { Maps = 8, FilterSize = 7, Epochs = 2 },
            new LayerSpec { Maps = 4, FilterSize = 3, Epochs = 2, Connectivity = ConnectivityKind.Full },
        ],
        Seed = seed,
    };

    private static TrainingSpec OneLayer(int seed, int epochs) => new()
    {
        Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = epochs }],
        Seed = seed,
    };

    private DistributedEngine Engine(string job, int shards = 3) => new(fixture.Grains, ClusterFixture.Limits, shards, "test cluster") { JobId = job };

    [Fact]
    public async Task TrainAsync_TwoLayersSevenImagesOnThreeShards_MatchesSerial()
    {
        string[] files = TestImages.Write("equal", count: 7, size: 16, seed: 11);
        TrainingSpec spec = TwoLayers(seed: 3);

        TrainingResult serial = await Oracle.TrainAsync(spec, files, shards: 3);
        // Held in its first epoch to see where the shards are: once the job ends they let their images go.
        TestShardGate.Hold hold = TestShardGate.Instance.HoldInference("equal-serial", layer: 0, epoch: 0);
        Task<EngineRun> running = Engine("equal-serial").TrainAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 2), new Oracle.NullObserver(), CancellationToken.None);
        await hold.Reached.WaitAsync(Patience);
        ShardDescription[] shards = await Task.WhenAll(Enumerable.Range(0, 3).Select(s =>
            fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format("equal-serial", s)).DescribeAsync(MessageHeader.ForJob("equal-serial"))));
        hold.Release();
        EngineRun run = await running.WaitAsync(Patience);

        AssertSameTraining(serial, run.Result, "equal-serial");
        Assert.Equal(files.Select(Path.GetFileName), run.ImageNames);
        Assert.Equal([0, 1], run.Reports.Select(r => r.Image));
        Assert.All(run.Reports, r => Assert.Equal(2, r.Reconstructions.Count));
        Assert.Equal([3, 2, 2], shards.Select(s => s.Images.Length));
        Assert.True(shards.Select(s => s.Silo).Distinct().Count() > 1, $"all shards ran on one silo: {string.Join(", ", shards.Select(s => s.Silo))}");
        await AssertShardsReleasedAsync("equal-serial", shards: 3);

        var (fetched, names, reports) = await JobWatcher.ResultAsync(fixture.Grains, "equal-serial");
        AssertSameTraining(run.Result, fetched, "fetch of equal-serial");
        Assert.Equal(run.ImageNames, names);
        Assert.Equal(2, reports.Count);
    }

    [Theory]
    [InlineData(FilterUpdateSchedule.Online, FilterSystemKind.Auto)]
    [InlineData(FilterUpdateSchedule.Batch, FilterSystemKind.MatrixFree)]
    public async Task TrainAsync_OnlineUpdatesOrMatrixFreeSolve_MatchesSerial(FilterUpdateSchedule update, FilterSystemKind system)
    {
        string job = $"equal-{update}-{system}".ToLowerInvariant();
        string[] files = TestImages.Write("modes", count: 5, size: 16, seed: 91);
        TrainingSpec spec = OneLayer(seed: 15, epochs: 2) with { Update = update, FilterSystem = system };

        EngineRun run = await Engine(job).TrainAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None)
            .WaitAsync(Patience);

        AssertSameTraining(await Oracle.TrainAsync(spec, files, shards: 3), run.Result, job);
    }

    [Fact]
    public async Task TrainAsync_MinibatchUpdates_MatchesSerial()
    {
        // Each step asks only the shards holding its images (a subset per shard) for explicit A and b; the coordinator
        // folds them, in shard order, into the running statistics with forgetting.
        const string job = "equal-minibatch";
        string[] files = TestImages.Write("minibatch", count: 7, size: 16, seed: 95);
        TrainingSpec spec = OneLayer(seed: 19, epochs: 2) with { Update = FilterUpdateSchedule.Minibatch, BatchSize = 3, Forget = 0.7 };

        EngineRun run = await Engine(job).TrainAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None)
            .WaitAsync(Patience);

        AssertSameTraining(await Oracle.TrainAsync(spec, files, shards: 3), run.Result, job);
    }

    [Fact]
    public async Task TrainAsync_CoordinateDescentWithSparseMatrixFreeUpdates_MatchesSerial()
    {
        // The cd solver, circular boundary, and the projected filter solve from A·d products on each shard's gathered maps.
        const string job = "equal-cd";
        string[] files = TestImages.Write("cd", count: 5, size: 16, seed: 93);
        TrainingSpec spec = OneLayer(seed: 17, epochs: 3) with
        {
            Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = 3, P = 1, Lambda = 1 }],
            Solver = InferenceSolver.CoordinateDescent,
            Boundary = Boundary.Circular,
            FilterSolver = FilterSolver.ProjectedGradient,
            FilterSystem = FilterSystemKind.MatrixFree,
            FilterUpdate = new FilterUpdateOptions { Steps = 10, ZeroMean = true },
        };

        EngineRun run = await Engine(job).TrainAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None)
            .WaitAsync(Patience);

        AssertSameTraining(await Oracle.TrainAsync(spec, files, shards: 3), run.Result, job);
        Assert.All(run.Result.Metrics, m => Assert.InRange(m.NonzeroFraction, 1e-6, 0.2));
    }

    [Fact]
    public async Task TrainAsync_TwoJobsAtOnce_EachMatchesItsSerialRun()
    {
        string[] files = TestImages.Write("concurrent", count: 5, size: 16, seed: 21);
        TrainingSpec a = OneLayer(seed: 5, epochs: 2), b = OneLayer(seed: 6, epochs: 2) with { Layers = [new LayerSpec { Maps = 3, FilterSize = 5, Epochs = 2 }] };

        Task<EngineRun> runA = Engine("concurrent-a").TrainAsync(a, new ImageInput(files, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None);
        Task<EngineRun> runB = Engine("concurrent-b", shards: 2).TrainAsync(b, new ImageInput(files, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None);
        EngineRun[] runs = await Task.WhenAll(runA, runB).WaitAsync(Patience);

        AssertSameTraining(await Oracle.TrainAsync(a, files, shards: 3), runs[0].Result, "concurrent-a");
        AssertSameTraining(await Oracle.TrainAsync(b, files, shards: 2), runs[1].Result, "concurrent-b");
        Assert.Equal(4, runs[0].Result.Layers[0].Filters.Maps);
        Assert.Equal(3, runs[1].Result.Layers[0].Filters.Maps);
    }

    [Fact]
    public async Task GetStatusAsync_WhileEpochHeldAtBarrier_AnswersWithProgressSoFar()
    {
        const string job = "status-mid-epoch";
        string[] files = TestImages.Write("status", count: 4, size: 16, seed: 31);
        TestShardGate.Hold hold = TestShardGate.Instance.HoldInference(job, layer: 0, epoch: 1);
        ITrainingJobGrain grain = fixture.Grains.GetGrain<ITrainingJobGrain>(job);

        await Engine(job).SubmitAsync(OneLayer(seed: 7, epochs: 3), new ImageInput(files, ImageLoadOptions.Default, 0), CancellationToken.None);
        await hold.Reached.WaitAsync(Patience);
        JobStatus during = await grain.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(10));
        hold.Release();
        JobStatus final = await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None).WaitAsync(Patience);

        Assert.True(during.State == JobState.Running, $"phase: epoch 2 held; expected Running, got {during.State} ({during.Error})");
        Assert.Single(during.History);
        Assert.Equal((1, 1), (during.Layer, during.Epoch));
        Assert.Equal(4, during.Images);
        Assert.Equal(JobState.Completed, final.State);
        Assert.Equal(3, final.History.Length);
        Assert.True(final.Revision > during.Revision, $"revision did not advance: {during.Revision} → {final.Revision}");
    }

    [Fact]
    public async Task CancelAsync_DuringSecondEpoch_StopsWithinThatEpochAndMarksCancelled()
    {
        const string job = "cancel-mid-epoch";
        string[] files = TestImages.Write("cancel", count: 4, size: 16, seed: 41);
        TestShardGate.Hold hold = TestShardGate.Instance.HoldInference(job, layer: 0, epoch: 1);
        ITrainingJobGrain grain = fixture.Grains.GetGrain<ITrainingJobGrain>(job);

        await Engine(job).SubmitAsync(OneLayer(seed: 8, epochs: 5), new ImageInput(files, ImageLoadOptions.Default, 0), CancellationToken.None);
        await hold.Reached.WaitAsync(Patience);
        JobStatus cancelling = await grain.CancelAsync();
        hold.Release();
        JobStatus final = await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(JobState.Running, cancelling.State);
        Assert.True(final.State == JobState.Cancelled, $"phase: cancelled in epoch 2; expected Cancelled, got {final.State} ({final.Error})");
        Assert.True(final.History.Length <= 2, $"cancelled in epoch 2 of 5, yet {final.History.Length} epochs completed");
        Assert.Null(await grain.GetResultAsync());
        await AssertShardsReleasedAsync(job, shards: 3);
    }

    /// <summary>A job that ended has its shards delete their stored images: each, reactivated, holds nothing.</summary>
    private async Task AssertShardsReleasedAsync(string job, int shards)
    {
        var header = MessageHeader.ForJob(job);
        for (int s = 0; s < shards; s++)
        {
            IImageShardGrain shard = fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, s));
            // The job's state is readable before its release ends: give the release a moment.
            ShardDescription held = await shard.DescribeAsync(header);
            for (long started = Environment.TickCount64; held.Images.Length > 0 && Environment.TickCount64 - started < 30_000; held = await shard.DescribeAsync(header))
                await Task.Delay(100);
            await fixture.Cluster.DeactivateAsync(shard).WaitAsync(Patience);
            ShardDescription reloaded = await shard.DescribeAsync(header);
            Assert.True(!reloaded.Sealed && reloaded.Images.Length == 0, $"shard {s} of job {job} still holds {reloaded.Images.Length} stored images after the job ended.");
        }
    }

    [Theory]
    [InlineData(FilterUpdateSchedule.Batch)]
    [InlineData(FilterUpdateSchedule.Minibatch)]   // the running A and b travel in the checkpoint record
    public async Task Coordinator_DeactivatedMidJob_ResumesFromCheckpointAndMatchesSerial(FilterUpdateSchedule update)
    {
        string job = $"resume-mid-epoch-{update.ToString().ToLowerInvariant()}";
        string[] files = TestImages.Write(job, count: 5, size: 16, seed: 61);
        TrainingSpec spec = OneLayer(seed: 12, epochs: 3) with { Update = update, BatchSize = 2, Forget = 0.7 };
        TestShardGate.Hold hold = TestShardGate.Instance.HoldInference(job, layer: 0, epoch: 1);
        ITrainingJobGrain grain = fixture.Grains.GetGrain<ITrainingJobGrain>(job);

        await Engine(job).SubmitAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), CancellationToken.None);
        await hold.Reached.WaitAsync(Patience);
        JobStatus before = await grain.GetStatusAsync();
        await fixture.Cluster.DeactivateAsync(grain).WaitAsync(Patience);
        JobStatus reactivated = await grain.GetStatusAsync();
        hold.Release();
        JobStatus final = await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None).WaitAsync(Patience);
        var (result, _, _) = await JobWatcher.ResultAsync(fixture.Grains, job);

        Assert.True(reactivated.State == JobState.Running, $"phase: reactivated after epoch 1; expected Running, got {reactivated.State} ({reactivated.Error})");
        Assert.Single(reactivated.History);
        // Revisions count this activation's changes: a smaller one proves the status came from a new activation.
        Assert.True(reactivated.Revision < before.Revision, $"revision {before.Revision} → {reactivated.Revision}: the coordinator was not reactivated");
        Assert.True(final.State == JobState.Completed, $"resumed job ended {final.State} ({final.Error})");
        AssertSameTraining(await Oracle.TrainAsync(spec, files, shards: 3), result, job);
        string[] lines = [.. LogRecorder.Instance.ForJob(job).Select(e => e.Message)];
        Assert.Contains($"job {job}: resuming at layer 0, epoch 1 from its checkpoint", lines);
        Assert.Contains(lines, l => l.StartsWith($"job {job}: completed in ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Shard_DeactivatedMidEpoch_RestartedFromStoredImagesAndJobCompletes()
    {
        const string job = "shard-lost";
        string[] files = TestImages.Write("shard-lost", count: 6, size: 16, seed: 81);
        TrainingSpec spec = OneLayer(seed: 14, epochs: 3);
        TestShardGate.Hold hold = TestShardGate.Instance.HoldInference(job, layer: 0, epoch: 1);
        IImageShardGrain shard = fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, 1));

        await Engine(job).SubmitAsync(spec, new ImageInput(files, ImageLoadOptions.Default, 0), CancellationToken.None);
        await hold.Reached.WaitAsync(Patience);
        await fixture.Cluster.DeactivateAsync(shard).WaitAsync(Patience);
        hold.Release();
        JobStatus final = await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None).WaitAsync(Patience);
        TrainingResult serial = await Oracle.TrainAsync(spec, files, shards: 3);

        Assert.True(final.State == JobState.Completed, $"phase: shard 1 lost in epoch 2; expected Completed, got {final.State} ({final.Error})");
        Assert.Contains(LogRecorder.Instance.ForJob(job), e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.StartsWith($"job {job}: shard 1 ", StringComparison.Ordinal));
        Assert.Equal(3, final.History.Length);
        // Epoch 1 matches exactly; shard 1's images then restart from z = 0 instead of their warm start.
        Assert.Equal(serial.Metrics[0].Objective, final.History[0].Objective, 6);
        double rel = Math.Abs(final.History[^1].Objective - serial.Metrics[^1].Objective) / serial.Metrics[^1].Objective;
        Assert.True(rel <= 0.01, $"after the fault the final objective is {rel:P2} off the no-fault run");
        await AssertShardsReleasedAsync(job, shards: 3);
    }

    [Theory]
    [InlineData("layers.maps")]
    [InlineData("layers.p")]
    [InlineData("layers.epochs")]
    [InlineData("spec")]
    public async Task SubmitAsync_BadSpec_RejectedNamingTheField(string field)
    {
        string specJson = field switch
        {
            "layers.maps" => SpecWire.Serialize(new TrainingSpec { Layers = [new LayerSpec { Maps = 0 }] }),
            "layers.p" => SpecWire.Serialize(new TrainingSpec { Solver = InferenceSolver.Fista, Layers = [new LayerSpec { P = 0.8 }] }),
            "layers.epochs" => SpecWire.Serialize(new TrainingSpec { Layers = [new LayerSpec { Epochs = -1 }] }),
            _ => "{ not json",
        };
        string job = $"bad-spec-{field.Replace('.', '-')}";

        JobPlan plan = await fixture.Grains.GetGrain<ITrainingJobGrain>(job).SubmitAsync(new JobSubmission
        {
            Header = MessageHeader.ForJob(job),
            SpecJson = specJson,
            ImageNames = ["a.png"],
        });

        Assert.False(plan.Accepted, $"a spec with a bad {field} was accepted");
        Assert.Equal(field, plan.Field);
        Assert.False(string.IsNullOrWhiteSpace(plan.Error));
        Assert.Equal(JobState.Unknown, (await fixture.Grains.GetGrain<ITrainingJobGrain>(job).GetStatusAsync()).State);
    }

    [Fact]
    public async Task StartAsync_ImagesReadFromDataRoot_MatchesSerial()
    {
        const string job = "data-root";
        string[] files = TestImages.Write("data-root", count: 4, size: 16, seed: 71);
        TrainingSpec spec = OneLayer(seed: 13, epochs: 2);
        ITrainingJobGrain grain = fixture.Grains.GetGrain<ITrainingJobGrain>(job);

        JobPlan plan = await grain.SubmitAsync(new JobSubmission
        {
            Header = MessageHeader.ForJob(job),
            SpecJson = SpecWire.Serialize(spec),
            DataPath = TestImages.FolderOf("data-root"),
            Shards = 2,
        });
        await grain.StartAsync(MessageHeader.ForJob(job));
        JobStatus final = await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None).WaitAsync(Patience);
        var (result, names, _) = await JobWatcher.ResultAsync(fixture.Grains, job);

        Assert.True(plan.Accepted, plan.Error);
        Assert.True(final.State == JobState.Completed, $"{final.State}: {final.Error}");
        Assert.Equal(files.Select(Path.GetFileName), names);
        AssertSameTraining(await Oracle.TrainAsync(spec, files, shards: 2), result, job);
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("/etc")]
    public async Task SubmitAsync_DataPathOutsideDataRoot_RejectedNamingDataPath(string path)
    {
        string job = $"escape-{(path.StartsWith('/') ? "absolute" : "parent")}";
        JobPlan plan = await fixture.Grains.GetGrain<ITrainingJobGrain>(job).SubmitAsync(new JobSubmission
        {
            Header = MessageHeader.ForJob(job),
            SpecJson = SpecWire.Serialize(OneLayer(1, 1)),
            DataPath = path,
        });
        Assert.False(plan.Accepted, $"'{path}' outside the data root was accepted");
        Assert.Equal("data-path", plan.Field);
        Assert.Contains("outside the data root", plan.Error);
    }

    [Fact]
    public async Task SubmitAsync_NoImages_RejectedNamingImages()
    {
        JobPlan plan = await fixture.Grains.GetGrain<ITrainingJobGrain>("no-images").SubmitAsync(new JobSubmission
        {
            Header = MessageHeader.ForJob("no-images"),
            SpecJson = SpecWire.Serialize(OneLayer(1, 1)),
        });
        Assert.False(plan.Accepted);
        Assert.Equal("images", plan.Field);
    }

    [Fact]
    public async Task StatusAsync_UnknownJob_ThrowsUserErrorNamingIt()
    {
        var e = await Assert.ThrowsAsync<Client.Commands.UserException>(() => JobWatcher.StatusAsync(fixture.Grains, "never-submitted"));
        Assert.Contains("never-submitted", e.Message);
    }

    private static void AssertSameTraining(TrainingResult expected, TrainingResult actual, string what) => Oracle.AssertSameTraining(expected, actual, what);
}
