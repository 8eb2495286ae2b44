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

    [GeneratedRegex(@"^b1: objective (?<reached>[0-9.]+) \(target (?<target>[0-9.]+)\) in [0-9.]+ s; SPORCO [0-9.]+ s; speedup [0-9.]+x$")]
    private static partial Regex SummaryLine();

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Distributed.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Distributed.sln above {AppContext.BaseDirectory}.");
    }
}
