using Distributed.Compute.Adaptive;
using Distributed.Compute.Imaging;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Tests.Imaging;
using Distributed.Compute.Tests.Training;
using Distributed.Compute.Training;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Tests.Adaptive;

/// <summary>The adaptive model through the shared <see cref="Trainer"/> on the serial engine's workers.</summary>
public class AdaptiveTrainingTests
{
    /// <summary>6 maps 5×5 pooled 2x2x2, then 12 maps 5×5 on random pairs of the 3 pooled planes.</summary>
    private static readonly TrainingSpec PhotoSpec = new()
    {
        Model = NetworkModel.Adaptive,
        Solver = InferenceSolver.Fista,
        Layers =
        [
            new LayerSpec { Maps = 6, FilterSize = 5, P = 1, Lambda = 1, Epochs = 2, Pool = new PoolSize(2, 2, 2) },
            new LayerSpec { Maps = 12, FilterSize = 5, P = 1, Lambda = 1, Epochs = 2, Connectivity = ConnectivityKind.RandomDoubles },
        ],
        Seed = 3,
    };

    [Fact]
    public async Task RunAsync_TwoPhotos_Layer2ReconstructsThePixelsNoWorseThanLayer1()
    {
        List<(string, Tensor3)> images = Photos(2, 64);
        var workers = new LocalImageWorkers(PhotoSpec, images);
        TrainingResult result = await new Trainer(PhotoSpec, workers).RunAsync();

        // Each layer's objective falls over its epochs, and its filters stay unit-norm per plane.
        for (int l = 0; l < 2; l++)
        {
            double[] objectives = result.Metrics.Where(m => m.Layer == l + 1).Select(m => m.Objective).ToArray();
            Assert.True(objectives[^1] < objectives[0], $"layer {l + 1}: objective did not fall: {string.Join(", ", objectives)}.");
            FilterBank f = result.Layers[l].Filters;
            Connectivity g = PhotoSpec.ConnectivityFor(l, f.Inputs);
            for (int k = 0; k < f.Maps; k++)
                for (int c = 0; c < f.Inputs; c++)
                    Assert.Equal(g[k, c] ? 1.0 : 0.0, Synthetic.Norm(f.ReadPlane(k, c)), 4);
        }
        // The final passes are in pixel space for both layers: layer 2's error is no worse than layer 1's.
        InferenceTotals first = result.Layers[0].Final, second = result.Layers[1].Final;
        Assert.Equal(first.Pixels, second.Pixels);
        Assert.True(second.SquaredError <= first.SquaredError,
            $"pixel error after layer-2 inference {second.SquaredError:G5} > after layer 1 {first.SquaredError:G5}.");

        // Reports carry R_l z_l down to pixels: their error is the inference's own, in preprocessed-image units.
        IReadOnlyList<ImageReport> reports = await workers.ReportAsync(new ReportRequest(result.Layers.Select(l => l.Frozen).ToArray(), [0, 1], true), default);
        float scale = result.Layers[0].InputScale;
        Assert.Equal(scale, result.Layers[1].InputScale);   // every adaptive layer is measured against the image
        for (int l = 0; l < 2; l++)
        {
            double sq = reports.Sum(r => SquaredDistance(r.Input, r.Reconstructions[l])) * scale * scale;
            double expected = result.Layers[l].Final.SquaredError;
            Assert.True(Math.Abs(sq - expected) <= 1e-3 * expected, $"layer {l + 1}: reports' error {sq:G6} vs inference {expected:G6}.");
        }
        foreach (ImageReport report in reports)
        {
            Assert.Empty(report.Switches![0]);
            PoolSwitches s = Assert.Single(report.Switches[1])!;
            MaxPool3D.For(s);   // inside their blocks
            Assert.Equal(report.Maps![0].Planes, s.Maps);
        }
    }

    [Fact]
    public async Task RunAsync_AdaptiveLayer1_IsBitIdenticalToTheDeconvModelsLayer1()
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 3, size: 16, seed: 21);
        TrainingSpec adaptive = Small();
        TrainingSpec deconv = adaptive with { Model = NetworkModel.Deconv, Layers = [adaptive.Layers[0] with { Pool = null }] };
        TrainingResult a = await new Trainer(adaptive, new LocalImageWorkers(adaptive, images)).RunAsync();
        TrainingResult d = await new Trainer(deconv, new LocalImageWorkers(deconv, images)).RunAsync();
        Assert.Equal(d.Layers[0].Filters.Data, a.Layers[0].Filters.Data);
        Assert.Equal(d.Metrics.Where(m => m.Layer == 1).Select(m => m.Objective), a.Metrics.Where(m => m.Layer == 1).Select(m => m.Objective));
        Assert.Equal(d.Layers[0].Final.Objective, a.Layers[0].Final.Objective);
    }

    [Fact]
    public async Task RunAsync_AdaptiveOnDifferentShardPlans_AgreesWithinReductionRounding()
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 4, size: 16, seed: 22);
        TrainingSpec spec = Small();
        TrainingResult one = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 1)).RunAsync();
        TrainingResult three = await new Trainer(spec, new LocalImageWorkers(spec, images, shards: 3)).RunAsync();
        for (int i = 0; i < one.Metrics.Count; i++)
            Assert.True(Math.Abs(one.Metrics[i].Objective - three.Metrics[i].Objective) <= 1e-5 * Math.Abs(one.Metrics[i].Objective),
                $"row {i}: {one.Metrics[i].Objective} vs {three.Metrics[i].Objective}.");
        for (int l = 0; l < 2; l++)
        {
            double diff = one.Layers[l].Filters.Data.Zip(three.Layers[l].Filters.Data, (x, y) => Math.Abs((double)x - y)).Max();
            Assert.True(diff <= 1e-4, $"layer {l + 1} filters differ by {diff}.");
        }
    }

    [Fact]
    public async Task ModelInference_FreshWorkers_RebuildTheTrainedFinalPassExactly()
    {
        // Maps and switches are soft state: fresh workers rebuild them from the frozen layers, cold, bit for bit.
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 3, size: 16, seed: 23);
        TrainingSpec spec = Small();
        TrainingResult trained = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync();
        ModelInferenceResult again = await ModelInference.RunAsync(new LocalImageWorkers(spec, images, shards: 2),
            trained.Layers.Select(l => l.Frozen).ToArray(), [0, 1, 2], includeMaps: true);
        for (int l = 0; l < 2; l++)
        {
            Assert.Equal(trained.Layers[l].Final.Objective, again.Layers[l].Objective);
            Assert.Equal(trained.Layers[l].Final.Nonzeros, again.Layers[l].Nonzeros);
        }
        Assert.Equal(2, again.Reports[2].Maps!.Count);
    }

    [Fact]
    public async Task RunAsync_ResumedAtTheLayerBoundary_IsBitIdenticalToTheUndisturbedRun()
    {
        var (images, _) = TrainerTests.PlantedImages(Boundary.Valid, count: 3, size: 16, seed: 24);
        TrainingSpec spec = Small();
        var recorder = new CheckpointRecorder();
        TrainingResult clean = await new Trainer(spec, new LocalImageWorkers(spec, images), recorder).RunAsync();
        TrainingCheckpoint boundary = recorder.Checkpoints.Last(c => c.Layer == 0);
        TrainingResult resumed = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync(boundary);
        Assert.Equal(clean.Layers[1].Filters.Data, resumed.Layers[1].Filters.Data);
        Assert.Equal(clean.Metrics.Select(m => m.Objective), resumed.Metrics.Select(m => m.Objective));
    }

    /// <summary>4 maps 5×5 pooled 2x2x2, then 3 maps 3×3 on the 2 pooled planes; FISTA, 2 epochs.</summary>
    private static TrainingSpec Small() => new()
    {
        Model = NetworkModel.Adaptive,
        Solver = InferenceSolver.Fista,
        Fista = new FistaOptions { MaxIterations = 30 },
        Layers =
        [
            new LayerSpec { Maps = 4, FilterSize = 5, P = 1, Lambda = 3, Epochs = 2, Pool = new PoolSize(2, 2, 2) },
            new LayerSpec { Maps = 3, FilterSize = 3, P = 1, Lambda = 3, Epochs = 2, Connectivity = ConnectivityKind.SinglesAndAllDoubles },
        ],
        Seed = 4,
    };

    private static List<(string, Tensor3)> Photos(int count, int size)
    {
        ImageSet set = ImageSet.LoadFiles(TestFiles.SampleNames.Take(count).Select(n => Path.Combine(TestFiles.Samples, n)), ImageLoadOptions.Default with { Grey = true });
        return set.Images.Select(i => (i.Name, Preprocessor.ApplyToImage(CentreCrop(i.Pixels, size), Preprocessing.Lcn))).ToList();
    }

    private static Tensor3 CentreCrop(Tensor3 x, int size)
    {
        var c = new Tensor3(x.Planes, size, size);
        int r0 = (x.Rows - size) / 2, c0 = (x.Cols - size) / 2;
        for (int p = 0; p < x.Planes; p++)
            for (int i = 0; i < size; i++)
                for (int j = 0; j < size; j++) c[p, i, j] = x[p, r0 + i, c0 + j];
        return c;
    }

    private static double SquaredDistance(Tensor3 a, Tensor3 b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += ((double)a.Data[i] - b.Data[i]) * ((double)a.Data[i] - b.Data[i]);
        return sum;
    }
}
