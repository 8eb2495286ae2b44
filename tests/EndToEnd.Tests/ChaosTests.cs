using System.Diagnostics;
using System.Globalization;
using Distributed.EndToEnd.Tests.Support;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Messaging.Payloads;
using Xunit.Abstractions;

namespace Distributed.EndToEnd.Tests;

/// <summary>
/// Seeded chaos on real processes: Redis, three Silo processes and the Client. Each run submits the same job, then
/// kills one silo, picked by the run's seed, at a moment picked by the seed: after a seeded number of completed epochs
/// (0: during preparation and the first epoch; all of them: during the final pass or the fetch), plus a seeded
/// fraction of an epoch. The victim may hold the coordinator, shards, the registry, or nothing. Every run's job must
/// complete, `fetch` must write a valid output folder within the tolerances of <see cref="SiloLossTests"/> against the
/// serial run, and at the end no job may be left pending or running. A replacement silo joins after each kill, so
/// every run starts with three.
/// The per-commit run is <see cref="DefaultRuns"/>; a soak sets <c>DISTRIBUTED_CHAOS_RUNS=N</c> (and optionally
/// <c>DISTRIBUTED_CHAOS_SEED</c>, the first run's seed, and <c>DISTRIBUTED_CHAOS_REPORT</c>, a file that gets one
/// line per run). Runs wait at barriers (epochs completed, silos active); the only timed wait places the kill inside
/// an epoch, which changes where the fault lands, not what must hold.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper output)
{
    public const int DefaultRuns = 1;

    private const int Silos = 3;

    /// <summary>Final objective, faulted vs serial (as <see cref="SiloLossTests"/>: maps of a killed shard restart from z = 0).</summary>
    private const double ObjectiveTolerance = 0.05;

    /// <summary>Filters of every layer, ‖Δ‖/‖f‖ against the serial run.</summary>
    private const double FilterTolerance = 0.1;

    private static readonly int[] Epochs = [2, 3];

    private static readonly string[] Spec =
        ["--maps", "4,10", "--filter", "7", "--epochs", "2,3", "--seed", "7", "--reconstructions", "2"];

    [RedisFact]
    public async Task Train_SeededSiloKillAtSeededMoment_EveryRunCompletesNearSerial()
    {
        RedisFactAttribute.RequireRedis();
        int runs = EnvironmentInt("DISTRIBUTED_CHAOS_RUNS", DefaultRuns);
        int firstSeed = EnvironmentInt("DISTRIBUTED_CHAOS_SEED", 1);
        string? report = Environment.GetEnvironmentVariable("DISTRIBUTED_CHAOS_REPORT");
        string work = Directory.CreateTempSubdirectory("distributed-chaos-").FullName;
        string images = Path.Combine(Programs.RepositoryRoot, "samples", "images");
        int imageCount = Directory.GetFiles(images, "*.png").Length;
        int[][] shapes = [[4, 1, 7, 7], [10, 4, 7, 7]];
        var failures = new List<string>();
        try
        {
            using (ChildProcess clean = ChildProcess.Start("client-serial", Programs.DotNet,
                       ["exec", Programs.Client, "train", "--engine", "serial", "--images", images, .. Spec, "--out", Path.Combine(work, "clean")], work))
            {
                Assert.True(await clean.WaitForExitAsync(ClusterJobs.Patience), $"the serial run did not finish.\n{clean.Tail()}");
                Assert.True(clean.ExitCode == 0, $"the serial run failed ({clean.ExitCode}).\n{clean.Tail()}");
            }
            IReadOnlyList<OutputFolderCheck.MetricsRow> cleanRows = OutputFolderCheck.AssertValid(Path.Combine(work, "clean"), shapes, Epochs, imageCount);
            float[][] cleanFilters = [.. shapes.Select((_, l) => OutputFolderCheck.ReadNpy(Path.Combine(work, "clean", $"filters-L{l + 1}.npy")).Data)];

            await using LocalCluster cluster = await LocalCluster.StartAsync(Silos, work);
            IClusterClient grains = await cluster.ClientAsync();
            var jobs = new List<string>();
            for (int run = 0; run < runs; run++)
            {
                int seed = firstSeed + run;
                string line;
                try
                {
                    line = await RunOnceAsync(cluster, grains, work, images, seed, jobs, cleanRows, cleanFilters, shapes, imageCount);
                }
                catch (Exception e) when (e is Xunit.Sdk.XunitException or TimeoutException or InvalidOperationException)
                {
                    line = $"run {run + 1} seed {seed}: FAILED: {e.Message.Split('\n')[0]}";
                    failures.Add($"{line}\n{e.Message}");
                }
                output.WriteLine(line);
                if (report is not null) await File.AppendAllTextAsync(report, line + "\n");
            }

            // No job may be left behind: every one the runs submitted ended, and the registry agrees.
            JobSummary[] listed = await grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).ListAsync();
            foreach (string job in jobs)
            {
                JobSummary? entry = listed.FirstOrDefault(j => j.Job == job);
                if (entry is null || entry.State is JobState.Pending or JobState.Running)
                    failures.Add($"job {job} is left {entry?.State.ToString() ?? "unlisted"} in the registry.");
            }
            string summary = $"chaos: {runs - failures.Count(f => f.StartsWith("run ", StringComparison.Ordinal))} of {runs} runs passed (seeds {firstSeed}..{firstSeed + runs - 1})";
            output.WriteLine(summary);
            if (report is not null) await File.AppendAllTextAsync(report, summary + "\n");
            Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<string> RunOnceAsync(LocalCluster cluster, IClusterClient grains, string work, string images, int seed, List<string> jobs,
        IReadOnlyList<OutputFolderCheck.MetricsRow> cleanRows, float[][] cleanFilters, int[][] shapes, int imageCount)
    {
        var rng = new Random(seed);
        LocalCluster.Silo[] live = [.. cluster.Silos.Where(s => !s.Process.HasExited)];
        await WaitForActiveSilosAsync(grains, live.Length, cluster);
        LocalCluster.Silo victim = live[rng.Next(live.Length)];
        int totalEpochs = Epochs.Sum();
        int killAfter = rng.Next(totalEpochs + 1);
        double fraction = rng.NextDouble();

        string job = await ClusterJobs.RunClientAsync($"client-submit-{seed}", cluster, work, ["train", "--detach", "--images", images, .. Spec]);
        jobs.Add(job);
        string Context() => cluster.Logs();
        JobStatus before = await ClusterJobs.PollAsync(grains, job, s => s.History.Length >= killAfter && s.State != JobState.Pending, $"seed {seed}: waiting for {killAfter} epochs", Context);
        // Inside the epoch: a fraction of the epochs' mean length so far (a first epoch takes about as long as the serial
        // run's, which the shards here take with one core each: three seconds is its order).
        double epochSeconds = before.History.Length > 0 ? before.History.Average(m => m.Seconds) : 3;
        await Task.Delay(TimeSpan.FromSeconds(fraction * epochSeconds));

        int? coordinatorPort = await TryAsync(() => ClusterJobs.CoordinatorSiloPortAsync(grains, job));
        int[] shardPorts = await TryAsync(() => ClusterJobs.ShardSiloPortsAsync(grains, job, before.Shards)) ?? [];
        string held = $"{(coordinatorPort == victim.SiloPort ? "coordinator, " : "")}{shardPorts.Count(p => p == victim.SiloPort)} of {shardPorts.Length} shards";
        JobStatus atKill = await grains.GetGrain<ITrainingJobGrain>(job).GetStatusAsync();
        var clock = Stopwatch.StartNew();
        victim.Process.KillHard();
        try
        {
            return await AfterKillAsync(cluster, grains, work, seed, job, victim, held, atKill, fraction * epochSeconds, clock, cleanRows, cleanFilters, shapes, imageCount);
        }
        finally
        {
            // The next run starts with three silos again, whatever this one's outcome: a replacement joins (what
            // start-cluster.sh --add does).
            await cluster.AddSiloAsync();
        }
    }

    private static async Task<string> AfterKillAsync(LocalCluster cluster, IClusterClient grains, string work, int seed, string job, LocalCluster.Silo victim,
        string held, JobStatus atKill, double delay, Stopwatch clock,
        IReadOnlyList<OutputFolderCheck.MetricsRow> cleanRows, float[][] cleanFilters, int[][] shapes, int imageCount)
    {
        string Context() => cluster.Logs();
        string moment = atKill.IsTerminal ? $"after the job {atKill.State.ToString().ToLowerInvariant()}"
            : atKill.Epoch == 0 ? "before its first epoch"
            : $"in layer {atKill.Layer} epoch {atKill.Epoch} ({atKill.History.Length} epochs done)";

        JobStatus end = await ClusterJobs.PollAsync(grains, job, s => s.IsTerminal, $"seed {seed}: waiting for job {job} to end after the kill", Context);
        double endSeconds = clock.Elapsed.TotalSeconds;
        Assert.True(end.State == JobState.Completed, $"seed {seed}: job {job} ended {end.State}: {end.Error} (silo {victim.Index} killed {moment}, held {held}).\n{cluster.Logs()}");

        string folder = Path.Combine(work, $"faulted-{seed}");
        await ClusterJobs.RunClientAsync($"client-fetch-{seed}", cluster, work, ["fetch", job, "--out", folder]);
        IReadOnlyList<OutputFolderCheck.MetricsRow> rows = OutputFolderCheck.AssertValid(folder, shapes, Epochs, imageCount);
        double objective = ClusterJobs.Relative(rows[^1].Objective, cleanRows[^1].Objective);
        double filters = shapes.Select((_, l) => ClusterJobs.Difference(cleanFilters[l], OutputFolderCheck.ReadNpy(Path.Combine(folder, $"filters-L{l + 1}.npy")).Data).Relative).Max();
        string line = string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: killed silo {victim.Index} {moment} + {delay:F1} s, held {held}; job completed {endSeconds:F1} s after the kill; final objective {objective:E2}, filters {filters:E2} off serial");
        Assert.True(objective <= ObjectiveTolerance, $"{line}: objective beyond {ObjectiveTolerance}");
        Assert.True(filters <= FilterTolerance, $"{line}: filters beyond {FilterTolerance}");
        Directory.Delete(folder, recursive: true);
        return line;
    }

    /// <summary>Barrier: membership lists exactly <paramref name="count"/> active silos (the killed one declared dead, its replacement in).</summary>
    private static async Task WaitForActiveSilosAsync(IClusterClient grains, int count, LocalCluster cluster)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Dictionary<SiloAddress, SiloStatus> hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5));
                if (hosts.Count == count) return;
            }
            catch (Exception e) when (e is TimeoutException || TransientFaults.IsTransient(e))
            {
                // Asked a dying silo.
            }
            if (clock.Elapsed > ClusterJobs.Patience) throw new TimeoutException($"membership did not settle on {count} active silos in {ClusterJobs.Patience}.\n{cluster.Logs()}");
            await Task.Delay(250);
        }
    }

    private static async Task<T?> TryAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or ArgumentException || TransientFaults.IsTransient(e))
        {
            return default;
        }
    }

    private static int EnvironmentInt(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : fallback;
}
