using Distributed.Client.Output;
using Distributed.Client.Tests.Output;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Training;
using SkiaSharp;

namespace Distributed.Client.Tests.Commands;

/// <summary>`train --model adaptive` and `visualize` end to end on two bundled photos with the serial engine.</summary>
public class VisualizeCommandTests
{
    private static string[] TwoPhotos()
    {
        string samples = Path.Combine(AppContext.BaseDirectory, "samples", "images");
        return ["--images", Path.Combine(samples, "skimage-coffee.png"), Path.Combine(samples, "skimage-chelsea.png")];
    }

    [Fact]
    public async Task Visualize_AdaptiveModel_WritesTheTopActivationGridAndTheProjectedFilters()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model"), shown = Path.Combine(temp.Path, "shown");
        var (trained, _, trainError) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--out", model, "--model", "adaptive",
            "--maps", "4,6", "--filter", "5", "--pool", "2x2x2", "--epochs", "1", "--fista-iterations", "20", "--reconstructions", "1", .. TwoPhotos()]);
        Assert.True(trained == 0, trainError);
        var (manifest, _) = ModelFolder.Load(model);
        Assert.Equal(NetworkModel.Adaptive, manifest.Spec.Model);
        Assert.Equal(new PoolSize(2, 2, 2), manifest.Spec.Layers[0].Pool);
        Assert.Equal(ConnectivityKind.RandomDoubles, manifest.Spec.Layers[1].Connectivity);   // the adaptive default above layer 1

        var (exit, output, error) = await ConsoleRun.RunAsync(["visualize", "--model", model, "--layer", "2", "--top", "3", "--maps", "2", "--out", shown, .. TwoPhotos()]);
        Assert.True(exit == 0, $"visualize exited {exit}: {error}");
        // One layer-2 unit over pooling 2 and filters 5, 5 reaches 5·2 + 5 − 1 = 14 pixels a side.
        Assert.Contains("a unit reaches 14×14 pixels", output);
        using (SKBitmap grid = SKBitmap.Decode(Path.Combine(shown, "top-L2.png")))
        using (SKBitmap filters = SKBitmap.Decode(Path.Combine(shown, "filters-L2-pixels.png")))
        {
            Assert.NotNull(grid);
            Assert.NotNull(filters);
            // Tiles of 14 pixels drawn 4× (≥ 48): 2 rows and 1 + 3 columns of 56-pixel tiles with 3-pixel gaps.
            Assert.True(grid.Height >= 2 * 56 + 3 && grid.Width >= 4 * 56 + 3 * 3, $"grid is {grid.Width}×{grid.Height}.");
            Assert.True(filters.Height >= 2 * 56 + 3, $"filter grid is {filters.Width}×{filters.Height}: 6 filters make rows of 3.");
        }
        string[] rows = File.ReadAllLines(Path.Combine(shown, "top-L2.csv"));
        Assert.Equal("map,rank,image,row,col,value", rows[0]);
        Assert.Equal(1 + 2 * 3, rows.Length);
    }

    [Fact]
    public async Task Visualize_DeconvModel_ProjectsThroughTheFiltersWithoutPooling()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model"), shown = Path.Combine(temp.Path, "shown");
        var (trained, _, trainError) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--out", model, "--maps", "3,6", "--filter", "5",
            "--epochs", "1", "--beta-steps", "2", "--reconstructions", "0", .. TwoPhotos()]);
        Assert.True(trained == 0, trainError);
        var (exit, output, error) = await ConsoleRun.RunAsync(["visualize", "--model", model, "--top", "2", "--out", shown, .. TwoPhotos()]);
        Assert.True(exit == 0, $"visualize exited {exit}: {error}");
        Assert.Contains("layer 2: 6 of 6 maps", output);
        Assert.Contains("a unit reaches 9×9 pixels", output);
        Assert.True(File.Exists(Path.Combine(shown, "top-L2.png")));
        Assert.True(File.Exists(Path.Combine(shown, StagedOutput.IndexFile)));

        // A second run that fails on a bad image leaves the first run's folder whole and no staging folder beside it.
        string broken = Path.Combine(Directory.CreateDirectory(Path.Combine(temp.Path, "bad")).FullName, "broken.png");
        await File.WriteAllTextAsync(broken, "not an image");
        var (failed, _, failure) = await ConsoleRun.RunAsync(["visualize", "--model", model, "--top", "2", "--out", shown, "--images", broken]);
        Assert.Equal(2, failed);
        Assert.Contains("broken.png", failure);
        Assert.True(File.Exists(Path.Combine(shown, "top-L2.png")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path, ".shown.partial-*"));
    }

    [Theory]
    [InlineData(new[] { "--layer", "3" }, "--layer: 3; the model has layers 1..1")]
    [InlineData(new[] { "--top", "0" }, "--top: 0")]
    public async Task Visualize_BadFlag_FailsWithOneLine(string[] flags, string expected)
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model");
        var (trained, _, trainError) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--out", model, "--maps", "2", "--filter", "5",
            "--epochs", "1", "--beta-steps", "2", "--reconstructions", "0", .. TwoPhotos()]);
        Assert.True(trained == 0, trainError);
        var (exit, _, error) = await ConsoleRun.RunAsync(["visualize", "--model", model, "--out", Path.Combine(temp.Path, "shown"), .. flags, .. TwoPhotos()]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
    }

    [Theory]
    [InlineData(new[] { "--pool", "3x3x2" }, "--pool: the deconv model has no pooling")]
    [InlineData(new[] { "--model", "adaptive", "--pool", "3x3x2,2x2x1" }, "--pool: 2 values for the 1 pairs of layers")]
    [InlineData(new[] { "--model", "adaptive", "--pool", "3x3" , "--solver", "zeiler" }, "--solver = zeiler")]
    [InlineData(new[] { "--model", "adaptive", "--pool", "3x0x2" }, "--pool = 3x0x2")]
    [InlineData(new[] { "--model", "hierarchical" }, "--model: 'hierarchical'")]
    public async Task Train_BadAdaptiveFlags_FailWithOneLine(string[] flags, string expected)
    {
        using var temp = new TempFolder();
        var (exit, _, error) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--out", temp.Path, "--maps", "4,6", "--connectivity", "full,random", .. flags]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
    }
}
