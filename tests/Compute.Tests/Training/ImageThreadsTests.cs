using Distributed.Compute.Imaging;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public class ImageThreadsTests
{
    private static readonly TrainingSpec Tiled = new()
    {
        Layers = [new LayerSpec { Maps = 4, FilterSize = 3, Lambda = 4, P = 1, Epochs = 2 }],
        Solver = InferenceSolver.CoordinateDescent,
        CoordinateDescent = new() { Tolerance = 1e-4, Tile = 10 },
        FilterSolver = FilterSolver.ProjectedGradient,
        FilterSystem = FilterSystemKind.MatrixFree,
        Preprocessing = Preprocessing.None,
        Seed = 5,
    };

    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public async Task Train_OneTiledImage_SameBitsOnOneThreadOrThree(Boundary boundary)
    {
        // One image and three threads: the shard hands all three to the image (operator row bands, tiles in parallel).
        // The tiles fix the result, so filters and every epoch's objective are the 1-thread run's bits.
        TrainingSpec spec = Tiled with { Boundary = boundary };
        Tensor3 image = Synthetic.Random(1, 30, 26, 7);
        TrainingResult one = await new Trainer(spec, new LocalImageWorkers(spec, [("a", image)], shards: 1, maxParallelism: 1)).RunAsync();
        TrainingResult three = await new Trainer(spec, new LocalImageWorkers(spec, [("a", image)], shards: 1, maxParallelism: 3)).RunAsync();
        Assert.Equal(one.Layers[0].Filters.Data, three.Layers[0].Filters.Data);
        Assert.Equal(one.Metrics.Select(m => m.Objective), three.Metrics.Select(m => m.Objective));
    }

    [Theory]
    [InlineData(InferenceSolver.Zeiler)]
    [InlineData(InferenceSolver.Fista)]
    public async Task Train_OneImageDenseSolvers_SameBitsOnOneThreadOrThree(InferenceSolver solver)
    {
        // Zeiler's and FISTA's operators split output planes and row bands over the image's threads; every output value
        // is summed in the same order, so the training is bit for bit the 1-thread one.
        var spec = new TrainingSpec
        {
            Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Lambda = 2, P = solver == InferenceSolver.Zeiler ? 0.8 : 1, Epochs = 2 }],
            Solver = solver,
            Zeiler = new() { BetaSteps = 3 },
            Fista = new() { MaxIterations = 10 },
            Preprocessing = Preprocessing.None,
            Seed = 6,
        };
        Tensor3 image = Synthetic.Random(1, 40, 36, 9);
        TrainingResult one = await new Trainer(spec, new LocalImageWorkers(spec, [("a", image)], shards: 1, maxParallelism: 1)).RunAsync();
        TrainingResult three = await new Trainer(spec, new LocalImageWorkers(spec, [("a", image)], shards: 1, maxParallelism: 3)).RunAsync();
        Assert.Equal(one.Layers[0].Filters.Data, three.Layers[0].Filters.Data);
        Assert.Equal(one.Metrics.Select(m => m.Objective), three.Metrics.Select(m => m.Objective));
    }

    [Fact]
    public async Task Train_TiledAgainstWhole_SameObjectiveWithinTheSolverTolerance()
    {
        // The same training with the image whole (a tile larger than it) and in tiles: the first epoch infers with the
        // same filters, so its objective must agree to the solver's tolerance.
        Tensor3 image = Synthetic.Random(1, 30, 26, 8);
        TrainingSpec whole = Tiled with { CoordinateDescent = new() { Tile = 1000, Tolerance = 1e-6, MaxSweeps = 100_000 } };
        TrainingSpec tiled = Tiled with { CoordinateDescent = new() { Tile = 10, Tolerance = 1e-6, MaxSweeps = 100_000 } };
        double expected = (await new Trainer(whole, new LocalImageWorkers(whole, [("a", image)], 1, 2)).RunAsync()).Metrics[0].Objective;
        double actual = (await new Trainer(tiled, new LocalImageWorkers(tiled, [("a", image)], 1, 2)).RunAsync()).Metrics[0].Objective;
        Assert.True(Math.Abs(actual - expected) <= 1e-5 * expected, $"tiled {actual}, whole {expected}.");
    }
}
