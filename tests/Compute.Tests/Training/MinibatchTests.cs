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

    // One epoch: afterwards the two differ by design (batch mode warm-starts each image from its kept maps, minibatch
    // infers from zero and, unless ρ = 0, carries earlier statistics).
    [Theory]
    [InlineData(1.0, 1)]   // no forgetting
    [InlineData(0.0, 1)]
    [InlineData(0.5, 1)]
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
    public async Task RunAsync_Minibatch_KeepsNoMapsBetweenSteps()
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 4, size: 22, seed: 2, density: 0.02);
        TrainingSpec spec = Batch with { Update = FilterUpdateSchedule.Minibatch, BatchSize = 2 };
        var workers = new LocalImageWorkers(spec, images);

        await new Trainer(spec, workers).RunAsync();

        Assert.Equal(0, workers.Local[0].ResidentStateBytes);
    }

    [Theory]
    [InlineData(0, 0.5, "batch-size")]
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

        Assert.Equal("filter-system", Assert.Throws<SpecException>(spec.Validate).Field);
    }
}
