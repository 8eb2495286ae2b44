using System.Runtime.CompilerServices;
using Distributed.Compute.Operators;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public class MinibatchTests
{
    private static readonly TrainingSpec Batch = new()
    {
        Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Lambda = 3, P = 1, Epochs = 3 }],
        Solver = InferenceSolver.CoordinateDescent,
        FilterSolver = FilterSolver.ProjectedGradient,
        FilterUpdate = new Distributed.Compute.Learning.FilterUpdateOptions { Steps = 10 },
        Seed = 6,
    };

    // Both warm-start each image from its kept maps; after the first epoch they differ only where minibatch carries
    // earlier statistics (ρ > 0), so ρ = 0 equals batch mode over every epoch.
    [Theory]
    [InlineData(1.0, 1)]   // no forgetting
    [InlineData(0.0, 1)]
    [InlineData(0.5, 1)]
    [InlineData(0.0, 3)]
    public async Task RunAsync_BatchOfEveryImage_EqualsBatchMode(double forget, int epochs)
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 5, size: 22, seed: 8, density: 0.02);
        TrainingSpec batch = Batch with { Layers = [Batch.Layers[0] with { Epochs = epochs }] };
        TrainingSpec minibatch = batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = images.Count, Forget = forget };

        TrainingResult expected = await new Trainer(batch, new LocalImageWorkers(batch, images, shards: 2)).RunAsync();
        TrainingResult actual = await new Trainer(minibatch, new LocalImageWorkers(minibatch, images, shards: 2)).RunAsync();

        Assert.Equal(expected.Layers[0].Filters.Data, actual.Layers[0].Filters.Data);
        Assert.Equal(expected.Metrics.Select(m => m.Objective), actual.Metrics.Select(m => m.Objective));
    }

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public async Task RunAsync_ImagesOnOneThreadOrThree_SameBits(Boundary boundary)
    {
        // Three workers claim a step's images in order and add their A and b in image order as they finish, with
        // images of different sizes (and so different solve times) finishing out of order: the sums are the 1-thread ones.
        var images = Enumerable.Range(0, 12)
            .Select(i => ($"{i}", TrainerTests.PlantedImages(boundary, count: 1, size: 18 + 3 * (i % 4), seed: 20 + i, density: 0.02).Images[0].Item2))
            .ToList();
        TrainingSpec spec = Batch with { Boundary = boundary, Update = FilterUpdateSchedule.Minibatch, BatchSize = 12, Forget = 0.8, Layers = [Batch.Layers[0] with { Epochs = 2 }] };

        TrainingResult one = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 1, maxParallelism: 1)).RunAsync();
        TrainingResult three = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 1, maxParallelism: 3)).RunAsync();

        Assert.Equal(one.Layers[0].Filters.Data, three.Layers[0].Filters.Data);
        Assert.Equal(one.Metrics.Select(m => m.Objective), three.Metrics.Select(m => m.Objective));
    }

    [Fact]
    public async Task RunAsync_ImageFailsWhileOthersWaitToBeAdded_ThrowsItsErrorWithoutHanging()
    {
        // Image 3 fails on its re-read in the first step (the budget holds a few decoded images, so a pass re-reads),
        // but only once the other workers have inferred every image the window lets them claim past it and wait for
        // image 3 to be added. They must give up and let its own error through.
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 40, size: 22, seed: 10, density: 0.02);
        var rereads = new StrongBox<int>();
        var sources = images.Select((x, i) => (IImageSource)new Counted(x.Item1, x.Item2, rereads, failing: i == 3)).ToArray();
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = 40 };
        var workers = new LocalImageWorkers(spec, sources, shards: 1, maxParallelism: 3, shardMemory: 8L * 4 * 22 * 22);

        Task run = Task.Run(() => new Trainer(spec, workers).RunAsync());

        Exception e = await Assert.ThrowsAnyAsync<Exception>(() => run.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.IsNotType<TimeoutException>(e);
        Exception inner = e is AggregateException a ? Assert.Single(a.Flatten().InnerExceptions) : e;
        Assert.Contains("image 3 is gone", inner.Message, StringComparison.Ordinal);
    }

    /// <summary>Counts re-reads (loads after the one when added and the one for the layer's input scale); the failing one throws on its own.</summary>
    private sealed class Counted(string name, Distributed.Compute.Tensors.Tensor3 image, StrongBox<int> rereads, bool failing) : IImageSource
    {
        private int _loads;

        public string Name => name;

        public Distributed.Compute.Tensors.Tensor3 Load()
        {
            if (Interlocked.Increment(ref _loads) <= 2) return image;
            if (!failing)
            {
                Interlocked.Increment(ref rereads.Value);
                return image;
            }
            // Images 4 to 14 fill the window of 4 results per worker behind this one; then the workers wait.
            SpinWait.SpinUntil(() => Volatile.Read(ref rereads.Value) >= 11, TimeSpan.FromSeconds(20));
            Thread.Sleep(300);
            throw new IOException("image 3 is gone");
        }
    }

    [Fact]
    public async Task RunAsync_SmallBatches_LowersTheObjective()
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 8, size: 22, seed: 9, density: 0.02);
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = 2, Forget = 0.8, Layers = [Batch.Layers[0] with { Epochs = 4 }] };

        TrainingResult result = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 3)).RunAsync();

        double[] objectives = result.Metrics.Select(m => m.Objective).ToArray();
        Assert.True(objectives[^1] < objectives[0], $"objective did not fall: {string.Join(", ", objectives)}.");
        Assert.True(result.Layers[0].Final.Objective < objectives[0]);
    }

    [Fact]
    public async Task RunAsync_MinibatchWithRoomForMaps_KeepsEveryImagesMapsForWarmStarts()
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 4, size: 22, seed: 2, density: 0.02);
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = 2 };
        var workers = new LocalImageWorkers(spec, images);

        await new Trainer(spec, workers).RunAsync();

        ImageShard shard = workers.Local[0];
        Assert.True(shard.HoldsMaps(0), "an image's maps were dropped under the default budget");
        Assert.True(shard.ResidentStateBytes > 0);
    }

    [Fact]
    public async Task RunAsync_MinibatchUnderTightBudget_KeepsOnlyTheMapsThatFit()
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 6, size: 22, seed: 3, density: 0.02);
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = 2 };
        var sources = images.Select(i => (IImageSource)new InMemoryImageSource(i.Item1, i.Item2)).ToArray();
        var ample = new LocalImageWorkers(spec, sources, shards: 1, maxParallelism: 1);
        await new Trainer(spec, ample).RunAsync();
        long all = ample.Local[0].ResidentStateBytes;
        long imageBytes = 4L * 22 * 22;
        // Room for the image in flight and about half the maps.
        long budget = imageBytes + all / 2;
        var tight = new LocalImageWorkers(spec, sources, shards: 1, maxParallelism: 1, shardMemory: budget);

        TrainingResult result = await new Trainer(spec, tight).RunAsync();

        ImageShard shard = tight.Local[0];
        Assert.InRange(shard.ResidentStateBytes, 1, budget - imageBytes);
        Assert.False(shard.HoldsMaps(0), "every image's maps were kept over the budget");
        Assert.True(shard.ResidentStateBytes + shard.Cache.Bytes <= budget, $"{shard.ResidentStateBytes} kept + {shard.Cache.Bytes} cached > {budget}");
        Assert.All(result.Metrics, m => Assert.True(double.IsFinite(m.Objective)));
    }

    [Theory]
    [InlineData(FilterUpdateSchedule.Minibatch)]
    [InlineData(FilterUpdateSchedule.Batch)]
    public async Task RunAsync_ResumedFromCheckpoint_ContinuesExactlyAsUninterrupted(FilterUpdateSchedule update)
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 6, size: 22, seed: 4, density: 0.02);
        TrainingSpec spec = Batch with { Update = update, BatchSize = 2, Forget = 0.8, Layers = [Batch.Layers[0] with { Epochs = 3 }] };
        TrainingResult whole = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 2)).RunAsync();

        // Interrupted after epoch 1, then resumed on the same workers (they still hold their maps).
        var workers = new LocalImageWorkers(spec, images, shards: 2);
        using var interrupt = new InterruptAfter(epochs: 1);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new Trainer(spec, workers, interrupt).RunAsync(null, interrupt.Token));
        TrainingCheckpoint checkpoint = interrupt.Checkpoint!;
        TrainingResult resumed = await new Trainer(spec, workers).RunAsync(checkpoint);

        Assert.Equal(1, checkpoint.NextEpoch);
        Assert.NotNull(checkpoint.Eigenvector);
        Assert.Equal(update == FilterUpdateSchedule.Minibatch, checkpoint.RunningStatistics is not null);
        Assert.Equal(whole.Layers[0].Filters.Data, resumed.Layers[0].Filters.Data);
        Assert.Equal(whole.Metrics.Select(m => m.Objective), resumed.Metrics.Select(m => m.Objective));
    }

    [Fact]
    public async Task RunAsync_ResumedWithoutRunningStatistics_DiffersFromUninterrupted()
    {
        // The control for the test above: the running A and b are what carries a minibatch run across the checkpoint.
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 6, size: 22, seed: 4, density: 0.02);
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = 2, Forget = 0.8, Layers = [Batch.Layers[0] with { Epochs = 3 }] };
        TrainingResult whole = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 2)).RunAsync();
        var workers = new LocalImageWorkers(spec, images, shards: 2);
        using var interrupt = new InterruptAfter(epochs: 1);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new Trainer(spec, workers, interrupt).RunAsync(null, interrupt.Token));

        TrainingResult resumed = await new Trainer(spec, workers).RunAsync(interrupt.Checkpoint! with { RunningStatistics = null });

        Assert.NotEqual(whole.Layers[0].Filters.Data, resumed.Layers[0].Filters.Data);
    }

    /// <summary>Keeps the checkpoint after <c>epochs</c> epochs and cancels the run there, as a lost coordinator would stop.</summary>
    private sealed class InterruptAfter(int epochs) : ITrainingObserver, IDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        public CancellationToken Token => _stop.Token;
        public TrainingCheckpoint? Checkpoint { get; private set; }

        public void Dispose() => _stop.Dispose();

        public void OnProgress(TrainingProgress progress)
        {
        }

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken)
        {
            if (checkpoint.NextEpoch == epochs)
            {
                Checkpoint = checkpoint;
                _stop.Cancel();
            }
            return ValueTask.CompletedTask;
        }
    }

    [Theory]
    [InlineData(0, 0.5, "batchSize")]
    [InlineData(4, 1.5, "forget")]
    [InlineData(4, -0.1, "forget")]
    [InlineData(4, double.NaN, "forget")]
    public void Validate_BadMinibatchSettings_NamesTheField(int batchSize, double forget, string field)
    {
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = batchSize, Forget = forget };

        var e = Assert.Throws<SpecException>(spec.Validate);

        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Validate_MinibatchMatrixFree_IsRefused()
    {
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, FilterSystem = FilterSystemKind.MatrixFree };

        Assert.Equal("filterSystem", Assert.Throws<SpecException>(spec.Validate).Field);
    }
}
