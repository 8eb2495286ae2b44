using Distributed.Compute.Adaptive;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Inference;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Adaptive;

public class AdaptiveInferenceTests
{
    private static readonly TrainingSpec Spec = new()
    {
        Model = NetworkModel.Adaptive,
        Solver = InferenceSolver.Fista,
        Layers =
        [
            new LayerSpec { Maps = 4, FilterSize = 5, P = 1, Pool = new PoolSize(2, 2, 2) },
            new LayerSpec { Maps = 3, FilterSize = 3, P = 1 },
        ],
    };

    private static (PixelOperator Op, FilterBank[] F, int[]?[] Truth, Tensor3 Y) Planted(int seed)
    {
        PixelOperator op = ModelGeometry.PixelOperator(Spec, 1, 24, 24, 2);
        var f = new FilterBank[2];
        for (int j = 0; j < 2; j++)
        {
            f[j] = op.Layers[j].Geometry.NewFilters();
            FilterInitializer.FillGaussian(f[j].Data, seed + j);
            FilterUpdate.NormalizePlanes(f[j], op.Layers[j].Connectivity, seed);
        }
        int[]?[] truth = AdaptiveCases.Switches(op, seed + 5);
        Tensor3 z = Synthetic.SparseMaps(op.Top, 0.08, seed + 6);
        Tensor3 y = op.NewImage();
        op.Synthesize(z, f, truth, y);
        return (op, f, truth, y);
    }

    [Fact]
    public void Run_PlantedSwitchesStartedWrong_RefreshCutsTheDataTermSeveralFold()
    {
        // y is synthesised through random switches; inference starts with every switch at its block's first position.
        var (op, f, truth, y) = Planted(10);
        (InferenceStats Fixed, _) = Infer(op, f, y, interval: 0);
        (InferenceStats Refreshed, AdaptiveStats counts) = Infer(op, f, y, interval: 5);
        Assert.True(counts.RefreshesAccepted > 0, "no refresh was kept.");
        Assert.True(Refreshed.DataTerm < 0.5 * Fixed.DataTerm,
            $"data term with refreshed switches {Refreshed.DataTerm:G5} vs fixed wrong switches {Fixed.DataTerm:G5}.");
        Assert.True(Refreshed.Objective < Fixed.Objective);
    }

    [Fact]
    public void Run_StartedAtTheTrueSwitches_RefreshEndsNoWorseThanKeepingThem()
    {
        var (op, f, truth, y) = Planted(20);
        var ws = new AdaptiveWorkspace(op);
        int[]?[] s = [(int[])truth[0]!.Clone()];
        var z = op.NewMaps();
        AdaptiveStats result = AdaptiveInference.Run(ws, f, y, z, s, op.NewMaps(), 20, new FistaOptions { MaxIterations = 200, Tolerance = 1e-6 }, new AdaptiveOptions { SwitchRefreshInterval = 5 });
        op.Pools[0]!.CheckSwitches(s[0]!, "s");
        (InferenceStats fixedTruth, _) = Infer(op, f, y, interval: 0, start: truth[0]);
        Assert.True(result.Stats.Objective <= fixedTruth.Objective * 1.05,
            $"refreshing from the true switches reached {result.Stats.Objective:G5}; keeping them gives {fixedTruth.Objective:G5}.");
    }

    private static (InferenceStats, AdaptiveStats) Infer(PixelOperator op, FilterBank[] f, Tensor3 y, int interval, int[]? start = null)
    {
        var ws = new AdaptiveWorkspace(op);
        MaxPool3D pool = op.Pools[0]!;
        int[] s = start is null ? Enumerable.Range(0, pool.PooledLength).Select(pool.FirstOf).ToArray() : (int[])start.Clone();
        var z = op.NewMaps();
        AdaptiveStats result = AdaptiveInference.Run(ws, f, y, z, [s], op.NewMaps(), 20, new FistaOptions { MaxIterations = 200, Tolerance = 1e-6 }, new AdaptiveOptions { SwitchRefreshInterval = interval });
        return (result.Stats, result);
    }
}
