using Distributed.Client.Commands;
using Distributed.Client.Engines;
using Distributed.Client.Output;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Compute.Inference;

namespace Distributed.Client.Tests.Output;

/// <summary>A run's output folder: checked before any work, built aside, swapped in whole, never mixed with an older run.</summary>
public class StagedOutputTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Begin_EmptyPath_OneLineUserError(string? path)
    {
        var e = Assert.Throws<UserException>(() => StagedOutput.Begin(path, "--out", []));
        Assert.Equal("--out is empty; give the folder to write the results to.", e.Message);
    }

    [Fact]
    public void Begin_PathIsAFile_RefusedAndFileKept()
    {
        using var temp = new TempFolder();
        string file = Path.Combine(temp.Path, "results.txt");
        File.WriteAllText(file, "mine");

        var e = Assert.Throws<UserException>(() => StagedOutput.Begin(file, "--out", []));

        Assert.Contains("is a file", e.Message);
        Assert.Equal("mine", File.ReadAllText(file));
        Assert.Equal(["results.txt"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Begin_ReadOnlyPlace_RefusedNamingTheOption()
    {
        using var temp = new TempFolder();
        // root ignores file modes, so as root take a place no one may write: sysfs.
        string place = IsRoot()
            ? "/sys/distributed-tests"
            : Path.Combine(temp.Path, "locked");
        if (!IsRoot())
        {
            Directory.CreateDirectory(place);
            File.SetUnixFileMode(place, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        try
        {
            var e = Assert.Throws<UserException>(() => StagedOutput.Begin(Path.Combine(place, "run"), "--out", []));
            Assert.StartsWith($"--out {Path.Combine(place, "run")}: cannot write there", e.Message);
            Assert.DoesNotContain("\n", e.Message);
        }
        finally
        {
            if (!IsRoot()) File.SetUnixFileMode(place, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Theory]
    [InlineData("images", "is the input folder")]
    [InlineData("images/run", "is inside the input folder")]
    [InlineData(".", "holds the input folder")]
    public void Begin_OutAtInsideOrAroundTheImages_Refused(string relative, string expected)
    {
        using var temp = new TempFolder();
        string images = Path.Combine(temp.Path, "images");
        Directory.CreateDirectory(images);
        File.WriteAllBytes(Path.Combine(images, "a.png"), [1]);

        var e = Assert.Throws<UserException>(() => StagedOutput.Begin(Path.Combine(temp.Path, relative), "--out", [images + "/"]));

        Assert.Contains(expected, e.Message);
        Assert.Equal(["a.png"], Directory.EnumerateFileSystemEntries(images).Select(Path.GetFileName));
    }

    [Fact]
    public void Begin_ImageFileGiven_ItsFolderIsProtected()
    {
        using var temp = new TempFolder();
        string image = Path.Combine(temp.Path, "a.png");
        File.WriteAllBytes(image, [1]);

        var e = Assert.Throws<UserException>(() => StagedOutput.Begin(Path.Combine(temp.Path, "run"), "--out", [image]));

        Assert.Contains("is inside the input folder", e.Message);
    }

    [Fact]
    public void Begin_FolderHoldingTheUsersOwnFiles_RefusedAndUntouched()
    {
        using var temp = new TempFolder();
        File.WriteAllText(Path.Combine(temp.Path, "model.json"), "{}");
        File.WriteAllText(Path.Combine(temp.Path, "thesis.tex"), "mine");

        var e = Assert.Throws<UserException>(() => StagedOutput.Begin(temp.Path, "--out", []));

        Assert.Contains("holds 'thesis.tex', which no run wrote", e.Message);
        Assert.Equal(["model.json", "thesis.tex"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName).Order());
        Assert.Empty(Directory.EnumerateDirectories(Path.GetDirectoryName(temp.Path)!, $".{Path.GetFileName(temp.Path)}.*"));
    }

    [Fact]
    public void Begin_AnotherRunWritingThere_RefusedUntilItEnds()
    {
        using var temp = new TempFolder();
        string output = Path.Combine(temp.Path, "run");
        using (StagedOutput first = StagedOutput.Begin(output, "--out", []))
        {
            var e = Assert.Throws<UserException>(() => StagedOutput.Begin(output, "--out", []));
            Assert.Contains("another run is writing there now", e.Message);
            first.Folder.WriteText("model.json", "{}");
            first.Commit("train", []);
        }
        using StagedOutput next = StagedOutput.Begin(output, "--out", []);   // the first run's end releases the path
        Assert.True(File.Exists(Path.Combine(output, "model.json")));
    }

    [Fact]
    public void Commit_TwoLayerRunOverThreeLayerRun_OnlyTheNewRunsFilesRemain()
    {
        using var temp = new TempFolder();
        string run = Path.Combine(temp.Path, "run");
        WriteRun(run, layers: 3);
        Assert.True(File.Exists(Path.Combine(run, "filters-L3.npy")));

        WriteRun(run, layers: 2);

        string[] files = [.. Directory.GetFiles(run).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(["filters-L1.npy", "filters-L1.png", "filters-L2-pixels.png", "filters-L2.npy", "filters-L2.png", "index.json", "metrics.csv", "model.json", "objective.png", "reconstruction-a_b-2.png", "reconstruction-a_b.png"], files);
        Assert.Equal([".run.lock", "run"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));   // the lock stays, empty
    }

    [Fact]
    public void Write_CancelledHalfWay_PreviousRunIntactAndNoStagingLeft()
    {
        using var temp = new TempFolder();
        string run = Path.Combine(temp.Path, "run");
        WriteRun(run, layers: 3);
        Dictionary<string, byte[]> before = Snapshot(run);

        using var cancel = new CancellationTokenSource();
        using (StagedOutput staged = StagedOutput.Begin(run, "--out", [], cancel.Token))
        {
            int written = 0;
            // Ctrl-C arrives after the third file of the new run, deterministically.
            staged.Folder.Wrote += _ => { if (++written == 3) cancel.Cancel(); };
            Assert.Throws<OperationCanceledException>(() => RunFolder.Write(staged, Run(layers: 2), "serial", "train"));
            Assert.Equal(3, written);
        }

        Assert.Equal(before, Snapshot(run));
        Assert.Equal([".run.lock", "run"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));   // the lock stays, empty
    }

    [Fact]
    public void Write_WriterFailsHalfWay_PreviousRunIntact()
    {
        using var temp = new TempFolder();
        string run = Path.Combine(temp.Path, "run");
        WriteRun(run, layers: 2);
        Dictionary<string, byte[]> before = Snapshot(run);
        EngineRun broken = Run(layers: 3) with { Reports = [new ImageReport(5, "x.png", new Tensor3(1, 4, 4), [], null)] };   // no such image: the writer throws

        using (StagedOutput staged = StagedOutput.Begin(run, "--out", []))
            Assert.ThrowsAny<ArgumentException>(() => RunFolder.Write(staged, broken, "serial", "train"));

        Assert.Equal(before, Snapshot(run));
        Assert.Equal([".run.lock", "run"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));   // the lock stays, empty
    }

    [Fact]
    public void Commit_SecondRenameFails_PreviousRunPutBack()
    {
        using var temp = new TempFolder();
        string run = Path.Combine(temp.Path, "run");
        WriteRun(run, layers: 3);
        Dictionary<string, byte[]> before = Snapshot(run);

        StagedOutput.SwapHook = () => throw new IOException("disk gone");
        try
        {
            using StagedOutput staged = StagedOutput.Begin(run, "--out", []);
            Assert.Throws<IOException>(() => RunFolder.Write(staged, Run(layers: 2), "serial", "train"));
        }
        finally
        {
            StagedOutput.SwapHook = null;
        }

        Assert.Equal(before, Snapshot(run));
        Assert.Equal([".run.lock", "run"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));   // the lock stays, empty
    }

    [Fact]
    public void Begin_SwapKilledBetweenItsRenames_PreviousRunRestored()
    {
        using var temp = new TempFolder();
        string run = Path.Combine(temp.Path, "run");
        WriteRun(run, layers: 3);
        Dictionary<string, byte[]> before = Snapshot(run);
        // The state a kill between "old run aside" and "new run in" leaves: no folder at the path, the old run hidden.
        Directory.Move(run, Path.Combine(temp.Path, ".run.old-99999999-0123456789abcdef"));
        Directory.CreateDirectory(Path.Combine(temp.Path, ".run.partial-99999999-0123456789abcdef"));

        using (StagedOutput.Begin(run, "--out", []))
            Assert.Equal(before, Snapshot(run));

        Assert.Equal([".run.lock", "run"], Directory.EnumerateFileSystemEntries(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));   // the lock stays, empty
    }

    [Fact]
    public void OutputNames_CollidingImageNames_UniqueStemsInInputOrder()
    {
        var names = new OutputNames(["a b.png", "a_b.png", "a_b.jpg", "A_B.pgm", "c.png", "a_b-2.png"]);

        Assert.Equal(["a_b", "a_b-2", "a_b-3", "A_B-4", "c", "a_b-2-2"], names.Entries.Select(e => e.Stem));
    }

    private static bool IsRoot() => Environment.IsPrivilegedProcess;

    private static void WriteRun(string path, int layers)
    {
        using StagedOutput staged = StagedOutput.Begin(path, "--out", []);
        RunFolder.Write(staged, Run(layers), "serial", "train");
    }

    /// <summary>A finished run of <paramref name="layers"/> 2-map layers on two images whose names collide.</summary>
    private static EngineRun Run(int layers)
    {
        var random = new Random(5);
        var spec = new TrainingSpec { Layers = [.. Enumerable.Range(0, layers).Select(_ => new LayerSpec { Maps = 2, FilterSize = 3 })] };
        var results = new List<LayerResult>();
        var metrics = new List<EpochMetrics>();
        for (int l = 0; l < layers; l++)
        {
            int inputs = l == 0 ? 1 : 2;
            var filters = new FilterBank(2, inputs, 3, [.. Enumerable.Range(0, 2 * inputs * 9).Select(_ => (float)random.NextDouble() - 0.5f)]);
            results.Add(new LayerResult(l, filters, [.. Enumerable.Repeat(true, 2 * inputs)], 1f, new InferenceTotals(2, 1, 1, 3, 10, 1, 20, 40, 5, 0.1)));
            metrics.Add(new EpochMetrics(l + 1, 1, 2, 1, 1, 0.3, 20, 0.1, 2));
        }
        var image = new Tensor3(1, 8, 8, [.. Enumerable.Range(0, 64).Select(i => i / 64f)]);
        ImageReport[] reports = [new(0, "a b.png", image, [image], null), new(1, "a_b.png", image, [image], null)];
        return new EngineRun(new TrainingResult(spec, results, metrics, TimeSpan.FromSeconds(1)), ["a b.png", "a_b.png"], reports, []);
    }

    private static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);
}
