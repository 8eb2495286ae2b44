using System.Text.Json;
using Distributed.Compute.Imaging;

namespace Distributed.Client.Tests.Commands;

/// <summary>`--out` of train, infer and fetch: refused before any work when it cannot hold a run; never mixes or overwrites outputs.</summary>
public class OutputCommandTests(SmallRun run) : IClassFixture<SmallRun>
{
    [Theory]
    [InlineData("file", "is a file")]
    [InlineData("", "--out is empty")]
    [InlineData("images", "is the input folder")]
    [InlineData("images/out", "is inside the input folder")]
    public async Task Train_BadOut_OneLineExit2BeforeTraining(string where, string expected)
    {
        string images = run.MakeImages($"train-bad-out-{Guid.NewGuid():N}");
        string file = Path.Combine(run.Root, $"file-{Guid.NewGuid():N}");
        File.WriteAllText(file, "mine");
        string outDir = where switch { "file" => file, "" => "", "images" => images, _ => Path.Combine(images, "out") };

        var (exit, output, error) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", images, "--out", outDir, .. SmallRun.Quick]);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotContain("layer 1", output);   // refused before training, not after
        Assert.Equal(["one.png", "two.png"], Directory.EnumerateFileSystemEntries(images).Select(Path.GetFileName).Order());
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Theory]
    [InlineData("")]
    [InlineData("file")]
    public async Task Fetch_BadOut_OneLineExit2BeforeAskingTheCluster(string where)
    {
        string file = Path.Combine(run.Root, $"file-{Guid.NewGuid():N}");
        File.WriteAllText(file, "mine");

        // No cluster listens on this port: had --out not been checked first, the error would be about the cluster.
        var (exit, _, error) = await ConsoleRun.RunAsync("fetch", "job-1", "--out", where == "" ? "" : file, "--cluster", "localhost");

        Assert.Equal(2, exit);
        Assert.StartsWith(where == "" ? "fetch: --out is empty" : $"fetch: --out {file}: is a file", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("model")]
    [InlineData("images")]
    public async Task Infer_OutIsTheModelOrTheImages_RefusedAndInputsKept(string which)
    {
        string model = run.CopyOfModel($"infer-out-{Guid.NewGuid():N}");
        string images = run.MakeImages($"infer-out-images-{Guid.NewGuid():N}");
        string[] modelFiles = [.. Directory.GetFiles(model).Order()];

        var (exit, _, error) = await ConsoleRun.RunAsync("infer", "--model", model, "--images", images, "--out", which == "model" ? model : images);

        Assert.Equal(2, exit);
        Assert.Contains("is the input folder", error);
        Assert.Equal(modelFiles, Directory.GetFiles(model).Order());
        Assert.Equal(2, Directory.GetFiles(images).Length);
    }

    [Fact]
    public async Task Infer_CollidingImageNames_EveryImageGetsItsOwnFilesRecordedInTheIndex()
    {
        string images = run.MakeImages($"collide-{Guid.NewGuid():N}", "a b.png", "a_b.png", "a_b.jpg");
        string outDir = Path.Combine(run.Root, $"collide-out-{Guid.NewGuid():N}");

        var (exit, _, error) = await ConsoleRun.RunAsync("infer", "--model", run.Model, "--images", images, "--out", outDir, "--save-maps");

        Assert.True(exit == 0, error);
        Assert.Equal(["maps-a_b-2-L1.npy", "maps-a_b-3-L1.npy", "maps-a_b-L1.npy"], Directory.GetFiles(outDir, "maps-*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(3, Directory.GetFiles(outDir, "reconstruction-*.png").Length);
        using JsonDocument index = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "index.json")));
        var stems = index.RootElement.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("name").GetString()!, i => i.GetProperty("stem").GetString()!);
        // The folder lists sorted by name (ordinal): "a b.png" < "a_b.jpg" < "a_b.png".
        Assert.Equal(new Dictionary<string, string> { ["a b.png"] = "a_b", ["a_b.jpg"] = "a_b-2", ["a_b.png"] = "a_b-3" }, stems);
        // Each file holds its own image's maps: the two copies of the same photo agree, the third differs.
        float[] Maps(string stem) => NpyFile.Read(Path.Combine(outDir, $"maps-{stem}-L1.npy")).Data;
        Assert.Equal(Maps("a_b"), Maps("a_b-2"));
        Assert.NotEqual(Maps("a_b"), Maps("a_b-3"));
    }

    [Fact]
    public async Task Train_OverAnEarlierRunWithMoreLayers_NoStaleFilesAndTheModelLoads()
    {
        string outDir = Path.Combine(run.Root, $"relayer-{Guid.NewGuid():N}");
        var (first, _, firstError) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--images", run.Images, "--out", outDir, "--maps", "2,3", "--epochs", "1", "--beta-steps", "2", "--reconstructions", "0");
        Assert.True(first == 0, firstError);
        Assert.True(File.Exists(Path.Combine(outDir, "filters-L2.npy")));

        var (second, _, secondError) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", run.Images, "--out", outDir, .. SmallRun.Quick]);

        Assert.True(second == 0, secondError);
        Assert.Empty(Directory.GetFiles(outDir, "filters-L2.*"));
        Assert.Single(Distributed.Client.Output.ModelFolder.Load(outDir).Layers);
    }
}
