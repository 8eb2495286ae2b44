using System.CommandLine;
using Distributed.Client.Commands;
using Distributed.Client.Output;
using Distributed.Client.Tests.Output;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Tests.Commands;

/// <summary>
/// The console's default solver settings learn: on images synthesised from planted oriented edges, each planted filter
/// is found again. With the 2010 toolbox's settings (Zeiler, p = 0.8, λ = 1, 3 CG filter steps, 5 epochs) the filters
/// stay near their random start (cosine 0.9 and more) and this fails.
/// </summary>
public class DefaultsLearnTests
{
    [Fact]
    public async Task DefaultSpec_PlantedOrientedEdges_RecoversEveryEdgeAndLeavesTheStart()
    {
        TrainingSpec spec = DefaultSpec("--maps", "8");
        var (images, truth) = PlantedEdges(count: 12, size: 40, seed: 21);

        TrainingResult result = await new Trainer(spec, new LocalImageWorkers(spec, images)).RunAsync();

        FilterBank learned = result.Layers[0].Filters;
        for (int k = 0; k < truth.Maps; k++)
        {
            double best = Enumerable.Range(0, learned.Maps).Max(j => FilterStructure.MaxShiftedCorrelation(truth.ReadPlane(k, 0), learned.ReadPlane(j, 0), 7));
            Assert.True(best >= 0.9, $"planted edge {k} (after {result.Metrics.Count} epochs): best |normalised correlation| over learned filters and shifts is {best:F3} < 0.9.");
        }
        FilterStructureSummary structure = NetworkStructure.Measure(spec, result.Layers)[0];
        Assert.True(structure.MedianCosineToStart < 0.5, $"median cosine to the random start {structure.MedianCosineToStart:F2}: the filters barely moved.");
        Assert.True(result.Metrics.Count < spec.Layers[0].Epochs, $"--epochs auto ran all {result.Metrics.Count} epochs: the tolerance never stopped it.");
    }

    [Fact]
    public async Task Train_EpochsZero_WritesTheRandomStartThatInferReads()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model"), inferred = Path.Combine(temp.Path, "inferred");
        var (trained, output, trainError) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", model, "--maps", "3", "--epochs", "0", "--reconstructions", "0");
        Assert.True(trained == 0, trainError);
        Assert.Contains("0 epochs", output);
        var (manifest, layers) = ModelFolder.Load(model);
        Assert.Empty(manifest.Metrics);
        FilterBank start = Trainer.InitialFilters(manifest.Spec, 0, Connectivity.Full(3, 1));
        Assert.Equal(start.Data, layers[0].Filters.Data);
        Assert.Equal(1.0, manifest.Layers[0].Structure!.MedianCosineToStart, 6);

        var (exit, inferOutput, error) = await ConsoleRun.RunAsync("infer", "--model", model, "--out", inferred);
        Assert.True(exit == 0, $"infer exited {exit}: {error}");
        Assert.Contains("layer 1: E =", inferOutput);
    }

    [Fact]
    public async Task Infer_Features_WritesOneRowPerImageAndRejectsUnknownPooling()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model"), inferred = Path.Combine(temp.Path, "inferred");
        string samples = TrainCommand.SamplesFolder();
        string[] square = ["skimage-astronaut.png", "libjxl-wesaturate-keong_macan.png"];
        var (trained, _, trainError) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", model, "--maps", "3,6", "--epochs", "0", "--reconstructions", "0");
        Assert.True(trained == 0, trainError);

        var (exit, output, error) = await ConsoleRun.RunAsync(["infer", "--model", model, "--out", inferred, "--features", "--rectify", "split", "--pool", "max", "--pool-size", "34",
            "--images", .. square.Select(f => Path.Combine(samples, f))]);

        Assert.True(exit == 0, $"infer exited {exit}: {error}");
        // Layer 1: 3 maps of 134×134 → 4×4 blocks of 34; layer 2: 6 maps of 140×140 → 5×5; split doubles both.
        var matrix = Distributed.Compute.Imaging.NpyFile.Read(Path.Combine(inferred, "features.npy"));
        Assert.Equal([2, 2 * (3 * 16 + 6 * 25)], matrix.Shape);
        Assert.Equal(["row,image", "0,skimage-astronaut.png", "1,libjxl-wesaturate-keong_macan.png"], File.ReadAllLines(Path.Combine(inferred, "features.csv")));
        Assert.Contains("features: 2 images", output);

        var (bad, _, badError) = await ConsoleRun.RunAsync("infer", "--model", model, "--out", inferred, "--features", "--pool", "median");
        Assert.Equal(2, bad);
        Assert.Contains("--pool: 'median'; allowed avg, max.", badError);
    }

    /// <summary>The spec `train` builds from <paramref name="args"/> and otherwise its defaults.</summary>
    internal static TrainingSpec DefaultSpec(params string[] args)
    {
        var options = new SpecOptions();
        var command = new RootCommand();
        options.AddTo(command);
        return options.Build(command.Parse(args));
    }

    /// <summary>
    /// Four odd-symmetric oriented edges (0°, 45°, 90°, 135°), zero mean, unit norm, on the central 5×5 of a 7×7 window,
    /// synthesised with sparse random maps (1% nonzero, Gaussian amplitudes) on the valid boundary.
    /// </summary>
    internal static (List<(string, Tensor3)> Images, FilterBank Truth) PlantedEdges(int count, int size, int seed)
    {
        var truth = new FilterBank(4, 1, 7);
        for (int k = 0; k < 4; k++)
        {
            double theta = k * Math.PI / 4, c = Math.Cos(theta), s = Math.Sin(theta);
            for (int u = 1; u < 6; u++)
                for (int v = 1; v < 6; v++)
                {
                    double across = (u - 3) * c + (v - 3) * s, along = -(u - 3) * s + (v - 3) * c;
                    truth[k, 0, u, v] = (float)(across * Math.Exp(-(across * across) / 2 - along * along / 8));
                }
            Span<float> plane = truth.Plane(k, 0);
            float mean = 0;
            for (int u = 1; u < 6; u++) for (int v = 1; v < 6; v++) mean += plane[u * 7 + v] / 25;
            for (int u = 1; u < 6; u++) for (int v = 1; v < 6; v++) plane[u * 7 + v] -= mean;
            double norm = Math.Sqrt(plane.ToArray().Sum(x => (double)x * x));
            for (int i = 0; i < plane.Length; i++) plane[i] = (float)(plane[i] / norm);
        }
        var g = Connectivity.Full(4, 1);
        var geometry = new LayerGeometry(1, 4, 7, size, size, Boundary.Valid);
        var op = new LayerOperator(geometry, g);
        var random = new Random(seed);
        var images = new List<(string, Tensor3)>();
        for (int i = 0; i < count; i++)
        {
            Tensor3 z = geometry.NewMaps();
            for (int j = 0; j < z.Data.Length; j++)
                if (random.NextDouble() < 0.01) z.Data[j] = (float)(random.NextDouble() < 0.5 ? -1 - random.NextDouble() : 1 + random.NextDouble());
            Tensor3 y = geometry.NewImage();
            op.Synthesize(z, truth, y);
            images.Add(($"edges-{i}", y));
        }
        return (images, truth);
    }
}
