using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public class ConvergenceRuleTests
{
    [Fact]
    public void Converged_FlatObjective_Stops()
    {
        double[] flat = [100, 99.99, 99.985, 99.98];
        Assert.True(ConvergenceRule.Converged(flat, window: 2, tolerance: 1e-3));
    }

    [Fact]
    public void Converged_FallingObjective_Continues()
    {
        double[] falling = [100, 90, 81, 72.9];
        Assert.False(ConvergenceRule.Converged(falling, window: 2, tolerance: 1e-3));
        Assert.Equal((90 - 72.9) / (2 * 72.9), ConvergenceRule.RelativeChange(falling, 2), 12);
    }

    [Fact]
    public void Converged_FewerEpochsThanWindow_ContinuesAndChangeIsNaN()
    {
        Assert.True(double.IsNaN(ConvergenceRule.RelativeChange([5, 1], 2)));
        Assert.False(ConvergenceRule.Converged([5, 5], window: 2, tolerance: 0.5));
        Assert.False(ConvergenceRule.Converged([5, 5, 5], window: 2, tolerance: 0), "tolerance 0 means: run every epoch");
    }

    [Theory]
    [InlineData(0.9, 3)]    // huge tolerance: stops as soon as the window is filled (window + 1 epochs)
    [InlineData(1e-12, 8)]  // a still-falling objective never gets below it: every epoch runs
    public async Task RunAsync_Tolerance_StopsTheLayerOnlyWhenTheObjectiveLevelsOff(double tolerance, int expectedEpochs)
    {
        var (images, _) = TrainerTests.PlantedImages(Distributed.Compute.Operators.Boundary.Valid, count: 3, size: 20, seed: 4);
        var spec = new TrainingSpec
        {
            Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = 8, P = 1, Lambda = 3 }],
            Solver = InferenceSolver.CoordinateDescent,
            FilterSolver = FilterSolver.ProjectedGradient,
            FilterUpdate = new Distributed.Compute.Learning.FilterUpdateOptions { Steps = 20 },
            Tolerance = tolerance,
            ToleranceWindow = 2,
            Seed = 2,
        };
        TrainingResult result = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync();
        Assert.Equal(expectedEpochs, result.Metrics.Count);
        Assert.True(double.IsNaN(result.Metrics[1].RelativeChange));
        Assert.Equal(ConvergenceRule.RelativeChange(result.Metrics.Select(m => m.Objective).ToArray(), 2), result.Metrics[^1].RelativeChange, 12);
    }

    [Fact]
    public async Task RunAsync_ZeroEpochs_KeepsTheSeededRandomStart()
    {
        var (images, _) = TrainerTests.PlantedImages(Distributed.Compute.Operators.Boundary.Valid, count: 2, size: 16, seed: 5);
        var spec = new TrainingSpec { Layers = [new LayerSpec { Maps = 3, FilterSize = 5, Epochs = 0 }], Seed = 7 };
        TrainingResult result = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync();
        Assert.Empty(result.Metrics);
        Assert.Equal(Trainer.InitialFilters(spec, 0, Distributed.Compute.Operators.Connectivity.Full(3, 1)).Data, result.Layers[0].Filters.Data);
        Assert.True(result.Layers[0].Final.Objective > 0);
    }
}
