using System.Globalization;
using System.Text.RegularExpressions;

namespace Distributed.Client.Tests.Commands;

/// <summary>`bench sporco-b1` on SPORCO's anchor problem: what it prints and reaches (never how fast: that is the benchmark's job).</summary>
public partial class BenchCommandTests
{
    private static string Anchors => Path.Combine(RepoRoot(), "bench", "data", "sporco-b1");

    [Fact]
    public async Task SporcoB1_AnchorProblem_ReachesSporcosObjectiveAndEndsWithTheSummaryLine()
    {
        var (exit, output, error) = await ConsoleRun.RunAsync("bench", "sporco-b1", "--max-seconds", "900");
        Assert.True(exit == 0, $"bench exited {exit}: {error}\n{output}");
        string last = output.Trim().Split('\n')[^1].Trim();
        Match m = SummaryLine().Match(last);
        Assert.True(m.Success, $"unexpected summary line: {last}");
        double reached = double.Parse(m.Groups["reached"].Value, CultureInfo.InvariantCulture);
        double target = double.Parse(m.Groups["target"].Value, CultureInfo.InvariantCulture);
        Assert.Equal(236.91, target, 2);
        Assert.True(reached <= target, $"reached {reached} above the target {target}.");
    }

    [Fact]
    public async Task LargeImage_SmallMosaicInTiles_SameObjectiveOnOneThreadAndTwo()
    {
        // 130×130 maps in tiles of 40: 3×3 tiles. The tiles fix the result, so the two runs must report identical
        // objectives, and the untiled reference must agree to the solver's tolerance.
        var (exit, output, error) = await ConsoleRun.RunAsync("bench", "large-image", "--size", "128", "--maps", "4", "--filter", "3", "--epochs", "1", "--tile", "40");
        Assert.True(exit == 0, $"bench exited {exit}: {error}\n{output}");
        Assert.Contains("large-image 128×128, 4 maps of 3×3, cd, tiles of 40: 1 thread ", output);
        Match m = Regex.Match(output, @"untiled (?<untiled>[0-9.E+-]+), tiled (?<tiled>[0-9.E+-]+) \(relative [^)]*\); tiled on 2 threads identical");
        Assert.True(m.Success, $"unexpected objective line: {output}");
        double untiled = double.Parse(m.Groups["untiled"].Value, CultureInfo.InvariantCulture), tiled = double.Parse(m.Groups["tiled"].Value, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(tiled - untiled) <= 1e-3 * untiled, $"tiled {tiled}, untiled {untiled}.");
    }

    [Fact]
    public async Task LargeImage_Once_ReportsEachPassAndThePeakMemory()
    {
        // The memory run: one tiled training (3×3 tiles of 40) with the preset's filter update, a line per pass as it
        // ends, and the summary with the process's peak memory.
        var (exit, output, error) = await ConsoleRun.RunAsync("bench", "large-image", "--once", "--size", "128", "--maps", "4", "--filter", "3", "--epochs", "1", "--tile", "40", "--threads", "1");
        Assert.True(exit == 0, $"bench exited {exit}: {error}\n{output}");
        Assert.Matches(@"\] epoch 1 ended: [0-9.]+ s, E = ", output);
        Assert.Contains("] final pass ended", output);
        Match m = Regex.Match(output, @"large-image --once 128×128, 4 maps of 3×3, λ 1, cd, tiles of 40, 1 threads: .* peak memory (?<peak>[0-9.]+) GiB");
        Assert.True(m.Success, $"unexpected summary: {output}");
        Assert.True(double.Parse(m.Groups["peak"].Value, CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task LargeImage_TileBelowTheStencil_OneLineError()
    {
        var (exit, _, error) = await ConsoleRun.RunAsync("bench", "large-image", "--size", "128", "--filter", "8", "--tile", "29");
        Assert.Equal(2, exit);
        Assert.Contains("tile = 29; allowed 30..65536", error);
    }

    [Fact]
    public void DefaultFolder_InsideTheCheckout_IsTheRepositorysCopy()
    {
        Assert.Equal(Path.GetFullPath(Anchors), Path.GetFullPath(Distributed.Client.Bench.SporcoB1.DefaultFolder()));
        Assert.True(File.Exists(Path.Combine(Anchors, "b128_highpass_128x128x5.bin")), $"{Anchors} lacks the B1 images.");
    }

    [Fact]
    public async Task SporcoB1_MissingAnchorFolder_OneLineErrorNamingTheFile()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-anchor-folder");
        var (exit, _, error) = await ConsoleRun.RunAsync("bench", "sporco-b1", "--data", missing);
        Assert.Equal(2, exit);
        Assert.Contains(Path.Combine(missing, "b128_highpass_128x128x5.bin"), error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task SporcoB1_UnknownSolver_NamesTheFlagAndTheChoices()
    {
        var (exit, _, error) = await ConsoleRun.RunAsync("bench", "sporco-b1", "--data", Anchors, "--solver", "admm");
        Assert.Equal(2, exit);
        Assert.Contains("--solver 'admm'; allowed fista, cd", error);
    }

    [Fact]
    public async Task Scale_CropsLargerThanThePhotos_OneLineErrorNamingImages()
    {
        var (exit, _, error) = await ConsoleRun.RunAsync("bench", "scale", "--counts", "2", "--size", "200", "--race", "0");
        Assert.Equal(2, exit);
        Assert.Contains("smaller than the 200×200 crops; give --images", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Scale_SmallRace_ReportsWallAndCpuSecondsOfBothSchedules()
    {
        var (exit, output, error) = await ConsoleRun.RunAsync("bench", "scale", "--counts", "3", "--size", "16", "--passes", "1",
            "--race", "6", "--race-size", "16", "--race-passes", "2", "--batch-size", "3", "--threads", "1");
        Assert.True(exit == 0, $"bench exited {exit}: {error}\n{output}");
        Assert.Contains("race: N = 6, 16×16, B = 3, ρ = 0.8, batch for 2 passes, then minibatch", output);
        Assert.Matches(@"  batch pass 2: objective [0-9.E+-]+, [0-9.]+ % nonzero, [0-9.]+ s wall, [0-9.]+ s CPU so far", output);
        Match m = Regex.Match(output, @"race: batch objective (?<target>[0-9.E+-]+) after 2 passes in [0-9.]+ s wall, (?<cpu>[0-9.]+) s CPU; minibatch (reached it in [0-9.]+ s wall, [0-9.]+ s CPU|did not reach it)");
        Assert.True(m.Success, $"unexpected race line: {output}");
        Assert.True(double.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture) > 0, "no CPU time measured for batch's passes.");
    }

    [Fact]
    public async Task Scale_RaceToAGivenTarget_SkipsBatchAndStopsWhenMinibatchReachesIt()
    {
        // A target above anything the first pass can give: minibatch reaches it after one pass, and batch never runs.
        var (exit, output, error) = await ConsoleRun.RunAsync("bench", "scale", "--counts", "3", "--size", "16", "--passes", "1",
            "--race", "6", "--race-size", "16", "--race-passes", "3", "--batch-size", "3", "--threads", "1", "--race-target", "1e12");
        Assert.True(exit == 0, $"bench exited {exit}: {error}\n{output}");
        Assert.DoesNotContain("batch pass", output.Replace("minibatch pass", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Matches(@"race: target 1E\+12 \(batch not run\); minibatch reached it in [0-9.]+ s wall, [0-9.]+ s CPU \(1 pass\)", output);

        (exit, _, error) = await ConsoleRun.RunAsync("bench", "scale", "--counts", "3", "--size", "200", "--race", "6", "--race-size", "16", "--race-target", "-1");
        Assert.Equal(2, exit);
        Assert.Contains("--race-target: -1; allowed a finite objective > 0.", error);
    }

    [GeneratedRegex(@"^b1: objective (?<reached>[0-9.]+) \(target (?<target>[0-9.]+)\) in [0-9.]+ s; SPORCO [0-9.]+ s; speedup [0-9.]+x$")]
    private static partial Regex SummaryLine();

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Distributed.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Distributed.sln above {AppContext.BaseDirectory}.");
    }
}
