using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Training;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Tests.Training;

public class TrainerTests
{
    private static readonly TrainingSpec Planted = new()
    {
        Layers = [new LayerSpec { Maps = 8, FilterSize = 7, Lambda = 3, P = 1, Epochs = 40 }],
        Solver = InferenceSolver.Fista,
        Fista = new FistaOptions { MaxIterations = 40 },
        FilterSolver = FilterSolver.ProjectedGradient,
        FilterUpdate = new FilterUpdateOptions { Steps = 20 },
        Boundary = Boundary.Circular,
        Seed = 3,
    };

    [Theory]
    [InlineData(InferenceSolver.Fista)]
    [InlineData(InferenceSolver.CoordinateDescent)]
    public async Task RunAsync_PlantedDictionary_RecoversEveryFilter(InferenceSolver solver)
    {
        var (images, truth) = PlantedImages(Planted.Boundary, count: 6, size: 28, seed: 100);
        TrainingSpec spec = Planted with { Solver = solver };
        TrainingResult result = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync();
        FilterBank learned = result.Layers[0].Filters;
        for (int k = 0; k < truth.Maps; k++)
        {
            double best = Enumerable.Range(0, learned.Maps).Max(j => FilterStructure.MaxShiftedCorrelation(truth.ReadPlane(k, 0), learned.ReadPlane(j, 0), 7));
            Assert.True(best >= 0.9, $"planted filter {k}: best |normalised cross-correlation| over learned filters and shifts is {best:F3} < 0.9.");
        }
        var objectives = result.Metrics.Select(m => m.Objective).ToArray();
        Assert.True(objectives[^1] < 0.5 * objectives[0], $"objective should fall a lot: {objectives[0]} → {objectives[^1]}.");
    }

    [Theory]
    [InlineData(InferenceSolver.Fista)]
    [InlineData(InferenceSolver.CoordinateDescent)]
    public async Task RunAsync_PlantedDictionary_RecoversThePlantedMaps(InferenceSolver solver)
    {
        // Filters are learned up to order, sign and shift; so are the maps. For each planted filter, the learned filter
        // that matches it best must code the images with a map that matches the planted one (up to that shift and
        // sign), and must not match another planted map. No preprocessing: the images are exactly F_true z_true, scaled.
        var (images, truth, planted) = PlantedSet(Planted.Boundary, count: 6, size: 28, seed: 100);
        TrainingSpec spec = Planted with { Solver = solver, Preprocessing = Compute.Imaging.Preprocessing.None };
        TrainingResult result = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync();
        LayerResult layer = result.Layers[0];
        var geometry = new LayerGeometry(1, layer.Filters.Maps, 7, 28, 28, Planted.Boundary);
        var ws = new InferenceWorkspace(new LayerOperator(geometry, Connectivity.Full(layer.Filters.Maps, 1)));
        var recovered = images.Select(image =>
        {
            var y = image.Item2.Clone();
            for (int i = 0; i < y.Length; i++) y.Data[i] *= layer.InputScale;
            Tensor3 z = geometry.NewMaps();
            FistaInference.Run(ws, layer.Filters, 1, y, z, spec.Layers[0].Lambda, new FistaOptions { MaxIterations = 500, Tolerance = 1e-6 });
            return z;
        }).ToList();

        for (int k = 0; k < truth.Maps; k++)
        {
            int j = Enumerable.Range(0, layer.Filters.Maps).MaxBy(j => FilterStructure.MaxShiftedCorrelation(truth.ReadPlane(k, 0), layer.Filters.ReadPlane(j, 0), 7));
            double own = MapCorrelation(planted, k, recovered, j, geometry);
            double other = Enumerable.Range(0, truth.Maps).Where(o => o != k).Max(o => MapCorrelation(planted, o, recovered, j, geometry));
            Assert.True(own >= 0.85, $"{solver}: planted map {k} vs learned map {j}: best |correlation| over shifts {own:F3} < 0.85.");
            Assert.True(other <= 0.5 * own, $"{solver}: learned map {j} matches another planted map ({other:F3}) about as well as its own ({own:F3}).");
        }
    }

    /// <summary>
    /// max over circular shifts (within a filter's width) of |⟨planted map k, shifted learned map j⟩| / norms, pooled
    /// over every image.
    /// </summary>
    private static double MapCorrelation(List<Tensor3> planted, int k, List<Tensor3> learned, int j, LayerGeometry g)
    {
        int rows = g.MapRows, cols = g.MapCols, reach = g.FilterSize - 1;
        double best = 0;
        for (int du = -reach; du <= reach; du++)
            for (int dv = -reach; dv <= reach; dv++)
            {
                double dot = 0, na = 0, nb = 0;
                for (int i = 0; i < planted.Count; i++)
                {
                    ReadOnlySpan<float> a = planted[i].Data.AsSpan(k * rows * cols, rows * cols), b = learned[i].Data.AsSpan(j * rows * cols, rows * cols);
                    for (int r = 0; r < rows; r++)
                        for (int c = 0; c < cols; c++)
                        {
                            double x = a[r * cols + c], y = b[(r + du + rows) % rows * cols + (c + dv + cols) % cols];
                            dot += x * y;
                            na += x * x;
                            nb += y * y;
                        }
                }
                if (na > 0 && nb > 0) best = Math.Max(best, Math.Abs(dot) / Math.Sqrt(na * nb));
            }
        return best;
    }

    [Theory]
    [InlineData(FilterUpdateSchedule.Batch, InferenceSolver.Zeiler)]
    [InlineData(FilterUpdateSchedule.Online, InferenceSolver.Zeiler)]
    [InlineData(FilterUpdateSchedule.Batch, InferenceSolver.Fista)]
    public async Task RunAsync_EitherSchedule_LowersObjectiveAndKeepsUnitFilters(FilterUpdateSchedule update, InferenceSolver solver)
    {
        var (images, _) = PlantedImages(Boundary.Valid, count: 4, size: 20, seed: 7);
        var spec = new TrainingSpec
        {
            Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = 5, P = solver == InferenceSolver.Fista ? 1 : 0.8, Lambda = solver == InferenceSolver.Fista ? 3 : 1 }],
            Update = update,
            Solver = solver,
            Seed = 9,
        };
        TrainingResult result = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync();
        var objectives = result.Metrics.Select(m => m.Objective).ToArray();
        Assert.True(objectives[^1] < objectives[0], $"{update}/{solver}: objective did not fall: {string.Join(", ", objectives)}.");
        FilterBank f = result.Layers[0].Filters;
        for (int k = 0; k < f.Maps; k++)
            Assert.Equal(1.0, Synthetic.Norm(f.ReadPlane(k, 0)), 5);
    }

    [Fact]
    public async Task RunAsync_SameSeedTwice_IsBitIdentical()
    {
        var (images, _) = PlantedImages(Boundary.Valid, count: 5, size: 18, seed: 8);
        var spec = TwoLayers();
        TrainingResult a = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 2)).RunAsync();
        TrainingResult b = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 2)).RunAsync();
        for (int l = 0; l < 2; l++) Assert.Equal(a.Layers[l].Filters.Data, b.Layers[l].Filters.Data);
        Assert.Equal(a.Metrics.Select(m => m.Objective), b.Metrics.Select(m => m.Objective));
    }

    [Fact]
    public async Task RunAsync_DifferentShardPlans_AgreeWithinReductionRounding()
    {
        var (images, _) = PlantedImages(Boundary.Valid, count: 7, size: 18, seed: 10);
        var spec = TwoLayers();
        TrainingResult one = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 1)).RunAsync();
        TrainingResult three = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 3)).RunAsync();
        for (int i = 0; i < one.Metrics.Count; i++)
            Assert.True(Math.Abs(one.Metrics[i].Objective - three.Metrics[i].Objective) <= 1e-5 * Math.Abs(one.Metrics[i].Objective),
                $"row {i}: {one.Metrics[i].Objective} vs {three.Metrics[i].Objective}.");
        for (int l = 0; l < 2; l++)
            Assert.True(MaxAbsDifference(one.Layers[l].Filters.Data, three.Layers[l].Filters.Data) <= 1e-4, $"layer {l + 1} filters differ.");
    }

    [Theory]
    [InlineData(FilterSolver.ConjugateGradientNormalize)]
    [InlineData(FilterSolver.ProjectedGradient)]
    public async Task RunAsync_MatrixFreeFilterSystem_MatchesExplicitNormalEquations(FilterSolver solver)
    {
        var (images, _) = PlantedImages(Boundary.Valid, count: 5, size: 18, seed: 14);
        var spec = TwoLayers() with { FilterSolver = solver, FilterSystem = FilterSystemKind.Explicit };
        TrainingResult a = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 2)).RunAsync();
        var free = spec with { FilterSystem = FilterSystemKind.MatrixFree };
        TrainingResult b = await new Trainer(free, new LocalImageWorkers(free, images, shards: 2)).RunAsync();
        for (int l = 0; l < 2; l++)
        {
            double diff = MaxAbsDifference(a.Layers[l].Filters.Data, b.Layers[l].Filters.Data);
            Assert.True(diff <= 1e-3, $"{solver}: layer {l + 1} filters differ by {diff} between explicit A and A·d products.");
        }
    }

    [Fact]
    public async Task RunAsync_BatchUpdates_AnnouncesEveryPhaseInOrder()
    {
        var (images, _) = PlantedImages(Boundary.Valid, count: 3, size: 18, seed: 12);
        var spec = TwoLayers();
        var recorder = new PhaseRecorder();
        await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 2), recorder).RunAsync();
        var expected = new List<string>();
        for (int l = 0; l < 2; l++)
        {
            expected.Add($"layer {l}");
            for (int e = 0; e < 2; e++)
            {
                expected.Add($"epoch {l}.{e} L{l}.E{e}.S0");
                expected.Add($"update {l}.{e} L{l}.E{e}.S0");
                expected.Add($"update {l}.{e} end");
                expected.Add($"checkpoint {l}.{e + 1} L{l}.E{e + 1}.S0");
                expected.Add($"epoch {l}.{e} end row {l + 1}.{e + 1}");
            }
            expected.Add($"final {l}.2 L{l}.E2.S0");
            expected.Add($"final {l}.2 end");
            expected.Add($"layer {l} end");
        }
        Assert.Equal(expected, recorder.Lines);
    }

    [Fact]
    public async Task RunAsync_OnlineUpdates_AnnouncesOneUpdatePerImageWithItsStep()
    {
        var (images, _) = PlantedImages(Boundary.Valid, count: 3, size: 18, seed: 13);
        var spec = TwoLayers() with { Update = FilterUpdateSchedule.Online, Layers = [new LayerSpec { Maps = 3, FilterSize = 3, Epochs = 1 }] };
        var recorder = new PhaseRecorder();
        await new Trainer(spec, new LocalImageWorkers(spec, images), recorder).RunAsync();
        string[] updates = [.. recorder.Lines.Where(l => l.StartsWith("update 0.0 L", StringComparison.Ordinal))];
        Assert.Equal(3, updates.Length);
        for (int i = 0; i < 3; i++) Assert.StartsWith($"update 0.0 L0.E0.S{i} image ", updates[i]);
        Assert.Equal([0, 1, 2], updates.Select(u => int.Parse(u[(u.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Order());
        Assert.Contains("checkpoint 0.1 L0.E1.S0", recorder.Lines);
    }

    [Fact]
    public async Task RunAsync_ResumedAtALayerBoundary_IsBitIdenticalToTheUndisturbedRun()
    {
        // The layer's final pass starts cold, so the next layer's input depends on the filters alone: fresh workers
        // that rebuild every map from the checkpoint reproduce the clean run exactly.
        var (images, _) = PlantedImages(Boundary.Valid, count: 4, size: 18, seed: 11);
        var spec = TwoLayers();
        var recorder = new CheckpointRecorder();
        TrainingResult clean = await new Trainer(spec, new LocalImageWorkers(spec, images), recorder).RunAsync();
        TrainingCheckpoint boundary = recorder.Checkpoints.Last(c => c.Layer == 0);
        Assert.Equal(spec.Layers[0].Epochs, boundary.NextEpoch);
        TrainingResult resumed = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync(boundary);
        for (int l = 0; l < 2; l++) Assert.Equal(clean.Layers[l].Filters.Data, resumed.Layers[l].Filters.Data);
        Assert.Equal(clean.Metrics.Select(m => m.Objective), resumed.Metrics.Select(m => m.Objective));
    }

    [Fact]
    public async Task RunAsync_ResumedMidLayerWithConvergedFista_MatchesWithinTolerance()
    {
        // Mid-layer the warm start is lost; with FISTA run to a tight tolerance the maps barely depend on it.
        var (images, _) = PlantedImages(Boundary.Circular, count: 3, size: 16, seed: 13);
        var spec = Planted with { Layers = [Planted.Layers[0] with { Epochs = 4 }], Fista = new FistaOptions { MaxIterations = 400, Tolerance = 1e-7 } };
        var recorder = new CheckpointRecorder();
        TrainingResult clean = await new Trainer(spec, new LocalImageWorkers(spec, images), recorder).RunAsync();
        TrainingResult resumed = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync(recorder.Checkpoints[1]);
        double diff = MaxAbsDifference(clean.Layers[0].Filters.Data, resumed.Layers[0].Filters.Data);
        Assert.True(diff <= 1e-3, $"mid-layer resume moved the filters by {diff} > 1e-3.");
        for (int i = 0; i < clean.Metrics.Count; i++)
            Assert.True(Math.Abs(clean.Metrics[i].Objective - resumed.Metrics[i].Objective) <= 1e-4 * clean.Metrics[i].Objective,
                $"epoch row {i}: {clean.Metrics[i].Objective} vs {resumed.Metrics[i].Objective}.");
    }

    [Fact]
    public async Task RunAsync_TwoLayers_ReportsReconstructionsDownToPixels()
    {
        var (images, _) = PlantedImages(Boundary.Valid, count: 3, size: 16, seed: 12);
        var spec = TwoLayers();
        var workers = new LocalImageWorkers(spec, images);
        TrainingResult result = await new Trainer(spec, workers).RunAsync();
        var reports = await workers.ReportAsync(new ReportRequest(result.Layers.Select(l => l.Frozen).ToArray(), [0, 2], true), default);
        Assert.Equal([0, 2], reports.Select(r => r.Image));
        foreach (ImageReport report in reports)
        {
            Assert.Equal(2, report.Reconstructions.Count);
            Assert.All(report.Reconstructions, r => Assert.True(r.SameShape(report.Input), $"reconstruction {r} vs input {report.Input}."));
            Assert.Equal(result.Layers[1].Filters.Maps, report.Maps![1].Planes);
        }
    }

    [Fact]
    public async Task RunAsync_MatrixFreeFromGatheredSparseMaps_MatchesExplicitNormalEquations()
    {
        // Sparse maps (planted at 1 %): the matrix-free products run from each image's gathered nonzeros. One epoch: the
        // inference is then identical and the filters differ only by the rounding of the two ways to form A·f (later
        // epochs amplify that through the greedy coordinate choices, as any perturbation of the filters would).
        var (images, _) = PlantedImages(Boundary.Circular, count: 4, size: 24, seed: 15);
        var spec = Planted with { Layers = [Planted.Layers[0] with { Epochs = 1 }], Solver = InferenceSolver.CoordinateDescent, FilterSystem = FilterSystemKind.Explicit };
        TrainingResult a = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 2)).RunAsync();
        var free = spec with { FilterSystem = FilterSystemKind.MatrixFree };
        TrainingResult b = await new Trainer(free, new LocalImageWorkers(free, images, shards: 2)).RunAsync();
        Assert.All(b.Metrics, m => Assert.True(m.NonzeroFraction < LayerOperator.SparseDensityThreshold, $"maps {m.NonzeroFraction:P1} nonzero: the dense path ran."));
        double diff = MaxAbsDifference(a.Layers[0].Filters.Data, b.Layers[0].Filters.Data);
        Assert.True(diff <= 1e-5, $"filters differ by {diff} between explicit A and A·d products from gathered maps.");
        Assert.True(Math.Abs(a.Layers[0].Final.Objective - b.Layers[0].Final.Objective) <= 1e-5 * a.Layers[0].Final.Objective,
            $"final pass: {a.Layers[0].Final.Objective} vs {b.Layers[0].Final.Objective}.");
    }

    private static TrainingSpec TwoLayers() => new()
    {
        Layers =
        [
            new LayerSpec { Maps = 3, FilterSize = 3, Epochs = 2 },
            new LayerSpec { Maps = 6, FilterSize = 3, Epochs = 2, Connectivity = ConnectivityKind.SinglesAndAllDoubles },
        ],
        Zeiler = new ZeilerOptions { BetaSteps = 3 },
        Seed = 5,
    };

    /// <summary>
    /// Images synthesised from 4 planted zero-mean unit-norm 7×7 filters whose support is the central 5×5 (so a
    /// learned filter that is a shifted copy still fits in its window), with sparse random maps.
    /// </summary>
    internal static (List<(string, Tensor3)> Images, FilterBank Truth) PlantedImages(Boundary boundary, int count, int size, int seed, double density = 0.01)
    {
        var (images, truth, _) = PlantedSet(boundary, count, size, seed, density);
        return (images, truth);
    }

    /// <summary><see cref="PlantedImages"/> with the planted maps each image was synthesised from.</summary>
    internal static (List<(string, Tensor3)> Images, FilterBank Truth, List<Tensor3> Maps) PlantedSet(Boundary boundary, int count, int size, int seed, double density = 0.01)
    {
        var g = Connectivity.Full(4, 1);
        FilterBank core = FilterInitializer.Gaussian(g, 5, seed);
        FilterUpdate.Project(core, g, zeroMean: true);
        FilterUpdate.NormalizePlanes(core, g, seed);
        var truth = new FilterBank(4, 1, 7);
        for (int k = 0; k < 4; k++)
            for (int u = 0; u < 5; u++)
                for (int v = 0; v < 5; v++) truth[k, 0, u + 1, v + 1] = core[k, 0, u, v];
        var geometry = new LayerGeometry(1, 4, 7, size, size, boundary);
        var op = new LayerOperator(geometry, g);
        var images = new List<(string, Tensor3)>();
        var maps = new List<Tensor3>();
        for (int i = 0; i < count; i++)
        {
            var y = geometry.NewImage();
            Tensor3 z = Synthetic.SparseMaps(geometry, density, seed * 100 + i);
            op.Synthesize(z, truth, y);
            images.Add(($"planted-{i}", y));
            maps.Add(z);
        }
        return (images, truth, maps);
    }


    private static double MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
}
