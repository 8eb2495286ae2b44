using Distributed.Compute.Imaging;

namespace Distributed.Client.Tests.Commands;

/// <summary>Nonsense is refused or warned about in one line: bad flags, damaged models, all-zero maps, skipped files.</summary>
public class SanityCommandTests(SmallRun run) : IClassFixture<SmallRun>
{
    [Theory]
    [InlineData(new[] { "train", "--no-such-flag" }, "train: Unrecognized command or argument '--no-such-flag'")]
    [InlineData(new[] { "trian" }, "distributed: Unrecognized command or argument 'trian'")]
    [InlineData(new[] { "train", "--reconstructions", "many" }, "train: Cannot parse argument 'many' for option '--reconstructions'")]
    [InlineData(new[] { "infer" }, "infer: Option '--model' is required")]
    public async Task Parse_BadCommandLine_OneLineExit2(string[] args, string expected)
    {
        var (exit, output, error) = await ConsoleRun.RunAsync(args);

        Assert.Equal(2, exit);
        Assert.StartsWith(expected, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Empty(output);
    }

    [Fact]
    public async Task Invoke_UserErrorNoCommandCatches_OneLineExit2()
    {
        // `bench engines` reports no errors itself; the catalog's net turns its SpecException into one line.
        var (exit, _, error) = await ConsoleRun.RunAsync("bench", "engines", "--lambda", "0");

        Assert.Equal(2, exit);
        Assert.StartsWith("bench engines: ", error);
        Assert.Contains("lambda = 0", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Train_MaxPixelsZero_OneLineExit2()
    {
        var (exit, _, error) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", run.Images, "--out", Fresh("mp"), "--max-pixels", "0", .. SmallRun.Quick]);

        Assert.Equal(2, exit);
        Assert.Equal("train: --max-pixels = 0; allowed ≥ 1 (the pixels of the largest image accepted).", error.Trim());
    }

    [Theory]
    [InlineData("\"layers\": null", true, "\"layers\" is null")]
    [InlineData("\"layers\": null", false, "model.json: spec: the network has no layers")]
    [InlineData("\"spec\": null", true, "\"spec\" is null")]
    [InlineData("\"filters\": \"../model/filters-L1.npy\"", true, "layers[0].filters = '../model/filters-L1.npy'")]
    public async Task Infer_ModelJsonWithANullOrAPath_OneLineExit2(string replacement, bool manifestsOwn, string expected)
    {
        string model = run.CopyOfModel($"json-{Guid.NewGuid():N}");
        string path = Path.Combine(model, "model.json");
        string json = File.ReadAllText(path);
        string key = replacement[..replacement.IndexOf(':')];
        // The manifest's own field comes after the spec's of the same name.
        int at = manifestsOwn ? json.LastIndexOf(key + ":", StringComparison.Ordinal) : json.IndexOf(key + ":", StringComparison.Ordinal);
        Assert.True(at >= 0, $"{key} not in model.json");
        int end = key == "\"filters\"" ? json.IndexOf('\n', at) - (json[json.IndexOf('\n', at) - 1] == ',' ? 1 : 0) : ValueEnd(json, at + key.Length + 1);
        File.WriteAllText(path, json[..at] + replacement + json[end..]);

        var (exit, _, error) = await ConsoleRun.RunAsync("infer", "--model", model, "--images", run.Images, "--out", Fresh("json-out"));

        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData(float.NaN, "holds NaN")]
    [InlineData(float.PositiveInfinity, "holds Infinity")]
    [InlineData(0f, "filter 2 is all zero")]
    public async Task Infer_DamagedFilters_RefusedNamingFileLayerAndFilter(float value, string expected)
    {
        string model = run.CopyOfModel($"filters-{Guid.NewGuid():N}");
        string file = Path.Combine(model, "filters-L1.npy");
        var filters = NpyFile.Read(file).ToFilterBank();
        if (float.IsFinite(value)) filters.Plane(1, 0).Clear();
        else filters.Plane(1, 0)[3] = value;
        File.WriteAllBytes(file, NpyFile.ToBytes(filters));

        var (exit, _, error) = await ConsoleRun.RunAsync("infer", "--model", model, "--images", run.Images, "--out", Fresh("filters-out"));

        Assert.Equal(2, exit);
        Assert.Contains($"{file}: layer 1 filter", error);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("1e-4", "raise --lambda")]
    [InlineData("1e30", "lower --lambda")]
    public async Task Train_LambdaFarOff_ZeroMapsWarnSayingWhichWay(string lambda, string expected)
    {
        // The Zeiler solver (p < 1): its float arithmetic is what breaks down at λ = 1e30.
        var (exit, _, error) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", run.Images, "--out", Fresh("lambda"), .. SmallRun.Quick, "--solver", "zeiler", "--p", "0.8", "--lambda", lambda]);

        Assert.True(exit == 0, error);
        Assert.Contains("warning: layer 1: every map coefficient is zero", error);
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task Train_UsualLambda_NoZeroMapWarning()
    {
        var (exit, _, error) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", run.Images, "--out", Fresh("lambda-ok"), .. SmallRun.Quick]);

        Assert.True(exit == 0, error);
        Assert.DoesNotContain("warning", error);
    }

    [Fact]
    public async Task Train_FilesInUnreadFormats_NamedInOneWarningLine()
    {
        string images = run.MakeImages($"formats-{Guid.NewGuid():N}");
        foreach (string name in new[] { "scan.tif", "anim.GIF", "old.bmp", "web.webp", "notes.txt" }) File.WriteAllBytes(Path.Combine(images, name), [1, 2, 3]);

        var (exit, _, error) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", images, "--out", Fresh("formats"), .. SmallRun.Quick]);

        Assert.True(exit == 0, error);
        string warning = Assert.Single(error.Trim().Split('\n'), l => l.StartsWith("warning:", StringComparison.Ordinal));
        Assert.Equal("warning: skipped 4 files in a format not read here (use PNG, JPEG or binary PGM/PPM): anim.GIF, old.bmp, scan.tif, web.webp", warning);
    }

    [Fact]
    public async Task Train_ImageSmallerThanTheFilter_StopsTheRunOrIsSkippedWithSkipBad()
    {
        string images = run.MakeImages($"small-{Guid.NewGuid():N}");
        File.WriteAllBytes(Path.Combine(images, "tiny.pgm"), [.. "P5\n4 4\n255\n"u8, .. Enumerable.Range(0, 16).Select(i => (byte)(i * 16))]);

        var (stopped, _, stopError) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", images, "--out", Fresh("small"), .. SmallRun.Quick]);
        string outDir = Fresh("small-skip");
        var (skipped, _, skipError) = await ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", images, "--out", outDir, "--skip-bad", .. SmallRun.Quick]);

        Assert.Equal(2, stopped);
        Assert.Contains("tiny.pgm: --filter = 7 is larger than the image (4×4)", stopError);
        Assert.True(skipped == 0, skipError);
        Assert.Contains("warning: ", skipError);
        Assert.Contains("tiny.pgm: --filter = 7 is larger than the image (4×4)", skipError);
        Assert.Equal(["one.png", "two.png"], Distributed.Client.Output.ModelFolder.Load(outDir).Manifest.Images);
    }

    private string Fresh(string name) => Path.Combine(run.Root, $"{name}-{Guid.NewGuid():N}");

    /// <summary>The end of the JSON value starting after <paramref name="from"/> (an object, array or scalar).</summary>
    private static int ValueEnd(string json, int from)
    {
        int at = from;
        while (char.IsWhiteSpace(json[at])) at++;
        if (json[at] is not ('{' or '[')) return json.IndexOfAny([',', '\n', '}'], at);
        int depth = 0;
        for (; ; at++)
        {
            if (json[at] is '{' or '[') depth++;
            else if (json[at] is '}' or ']' && --depth == 0) return at + 1;
        }
    }
}
