using System.Globalization;
using Distributed.Client.Output;
using Distributed.Client.Tests.Output;
using Distributed.Compute.Imaging;

namespace Distributed.Client.Tests.Commands;

/// <summary>`train` and `infer` end to end on the bundled photos with the serial engine.</summary>
public class TrainCommandTests
{
    [Fact]
    public async Task Train_TwoLayersOnBundledPhotos_WritesEveryOutputFile()
    {
        using var temp = new TempFolder();
        string outDir = Path.Combine(temp.Path, "run");
        var (exit, output, error) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", outDir, "--maps", "4,10", "--epochs", "2", "--beta-steps", "4", "--reconstructions", "2");
        Assert.True(exit == 0, $"train exited {exit}: {error}");
        Assert.Contains("layer 2: 10 maps of 7×7", output);

        foreach (string file in new[] { "model.json", "metrics.csv", "objective.png", "filters-L1.npy", "filters-L2.npy", "filters-L1.png", "filters-L2.png" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), $"{file} is missing from {outDir}.");
        Assert.Equal(2, Directory.GetFiles(outDir, "reconstruction-*.png").Length);

        // .npy: numpy's magic, version 1.0, '<f4', C order, shape [K, C, s, s].
        byte[] npy = File.ReadAllBytes(Path.Combine(outDir, "filters-L2.npy"));
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, npy[..8]);
        string header = System.Text.Encoding.ASCII.GetString(npy, 10, BitConverter.ToUInt16(npy, 8));
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        Assert.Contains("'shape': (10, 4, 7, 7)", header);
        var filters = NpyFile.Read(Path.Combine(outDir, "filters-L1.npy")).ToFilterBank();
        for (int k = 0; k < filters.Maps; k++)
        {
            double norm = Math.Sqrt(filters.ReadPlane(k, 0).ToArray().Sum(v => (double)v * v));
            Assert.True(Math.Abs(norm - 1) < 1e-4, $"layer-1 filter {k} has norm {norm}.");
        }

        string[] rows = File.ReadAllLines(Path.Combine(outDir, "metrics.csv"));
        Assert.Equal(1 + 2 + 2, rows.Length);
        var (manifest, layers) = ModelFolder.Load(outDir);
        Assert.Equal(2, layers.Count);
        Assert.Equal(5, manifest.Images.Count);
        Assert.Equal(4, manifest.Metrics.Count);
        Assert.Equal("serial", manifest.Engine);
    }

    [Fact]
    public async Task Infer_WithTrainedModel_WritesReconstructionsAndMaps()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model"), inferred = Path.Combine(temp.Path, "inferred");
        var (trained, _, trainError) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", model, "--maps", "3", "--epochs", "1", "--beta-steps", "3");
        Assert.True(trained == 0, trainError);
        var (exit, output, error) = await ConsoleRun.RunAsync("infer", "--model", model, "--out", inferred, "--save-maps");
        Assert.True(exit == 0, $"infer exited {exit}: {error}");
        Assert.Contains("layer 1: E =", output);
        Assert.Equal(5, Directory.GetFiles(inferred, "reconstruction-*.png").Length);
        string[] maps = Directory.GetFiles(inferred, "maps-*-L1.npy");
        Assert.Equal(5, maps.Length);
        var astronaut = NpyFile.Read(Path.Combine(inferred, "maps-skimage-astronaut-L1.npy"));
        Assert.Equal([3, 128 + 6, 128 + 6], astronaut.Shape);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(inferred, "inference.csv")).Length);
    }

    [Theory]
    [InlineData("batch")]
    [InlineData("online")]
    public async Task Train_OnRealPhotos_ObjectiveFallsEveryEpoch(string update)
    {
        using var temp = new TempFolder();
        var (exit, _, error) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", temp.Path, "--maps", "6", "--epochs", "4", "--update", update, "--reconstructions", "0");
        Assert.True(exit == 0, error);
        double[] objectives = File.ReadAllLines(Path.Combine(temp.Path, "metrics.csv")).Skip(1)
            .Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        for (int e = 1; e < objectives.Length; e++)
            Assert.True(objectives[e] < objectives[e - 1], $"{update}: objective rose at epoch {e + 1}: {string.Join(", ", objectives)}.");
    }

    [Theory]
    [InlineData(new[] { "--lambda", "0" }, "--lambda = 0; allowed a finite number > 0")]
    [InlineData(new[] { "--lambda", "NaN" }, "lambda")]
    [InlineData(new[] { "--p", "1.5" }, "--p = 1.5")]
    [InlineData(new[] { "--maps", "0" }, "--maps = 0")]
    [InlineData(new[] { "--epochs", "-1" }, "--epochs = -1")]
    [InlineData(new[] { "--filter", "300" }, "--filter = 300; allowed 1..64")]
    [InlineData(new[] { "--solver", "admm" }, "--solver: 'admm'")]
    [InlineData(new[] { "--fista-iterations", "0" }, "train: --fista-iterations = 0; allowed 1..100000.")]
    [InlineData(new[] { "--cd-sweeps", "0" }, "train: --cd-sweeps = 0; allowed 1..100000.")]
    [InlineData(new[] { "--beta-increase", "0.5" }, "train: --beta-increase = 0.5; allowed a finite number ≥ 1.")]
    [InlineData(new[] { "--maps", "9,45", "--epochs", "1,2,3" }, "--epochs: 3 values for 2 layers")]
    [InlineData(new[] { "--images", "/nonexistent/folder" }, "/nonexistent/folder")]
    [InlineData(new[] { "--detach" }, "--detach needs --cluster")]
    [InlineData(new[] { "--solver", "cd", "--p", "1", "--filter", "7", "--tile", "20" }, "tile = 20; allowed 26..65536")]
    [InlineData(new[] { "--solver", "cd", "--p", "1", "--tile", "5000" }, "--tile 5000: a 5000×5000 tile is larger than the largest image accepted (--max-pixels 16000000); allowed up to 4000")]
    [InlineData(new[] { "--solver", "fista", "--p", "1", "--tile", "64" }, "--tile = 64: spatial tiles split coordinate descent; use the cd solver")]
    public async Task Train_BadInput_FailsWithOneLineNamingTheProblem(string[] flags, string expected)
    {
        using var temp = new TempFolder();
        var (exit, _, error) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--out", temp.Path, .. flags]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(File.Exists(Path.Combine(temp.Path, "model.json")), "a failed run must not leave a model.json claiming success.");
    }

    [Fact]
    public async Task Train_CorruptImageInFolder_NamesTheFileOrSkipsItWhenAsked()
    {
        using var temp = new TempFolder();
        string images = Path.Combine(temp.Path, "images");
        Directory.CreateDirectory(images);
        foreach (string sample in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "samples", "images"), "*.png").Take(2))
            File.Copy(sample, Path.Combine(images, Path.GetFileName(sample)));
        File.WriteAllBytes(Path.Combine(images, "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        string outDir = Path.Combine(temp.Path, "out");
        var (exit, _, error) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--images", images, "--out", outDir, "--maps", "3", "--epochs", "1");
        Assert.Equal(2, exit);
        Assert.Contains("broken.png", error);
        var (skipped, _, warning) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--images", images, "--out", outDir, "--maps", "3", "--epochs", "1", "--beta-steps", "2", "--skip-bad");
        Assert.True(skipped == 0, warning);
        Assert.Contains("broken.png", warning);
        Assert.Equal(2, ModelFolder.Load(outDir).Manifest.Images.Count);
    }
}
