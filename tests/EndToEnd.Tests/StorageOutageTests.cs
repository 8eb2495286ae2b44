using System.Diagnostics;
using System.Globalization;
using Distributed.EndToEnd.Tests.Support;
using Distributed.Grains.Abstractions.Jobs;
using Xunit.Abstractions;

namespace Distributed.EndToEnd.Tests;

/// <summary>
/// Real processes: Redis (membership and grain storage), two silos, and a job followed by `watch`. Redis is killed
/// after the first epoch and kept down until the job has reached its next checkpoint and waited on it for
/// <see cref="OutageSeconds"/> (<c>DISTRIBUTED_OUTAGE_SECONDS</c> for longer: the design limit is
/// <c>--storage-retry</c>, 120 s). Throughout, the job must stay Running; once Redis is back it must complete, `watch`
/// must follow it to the end, a new Client process must connect and `fetch` it, and since no silo died the result must
/// equal the serial run's.
/// </summary>
public sealed class StorageOutageTests(ITestOutputHelper output)
{
    private const int OutageSeconds = 15;

    /// <summary>No silo died and no map was lost: the distributed-equals-serial tolerance.</summary>
    private const double ObjectiveTolerance = 1e-5;

    private static readonly int[] Epochs = [4];

    private static readonly string[] Spec = ["--maps", "4", "--filter", "7", "--epochs", "4", "--seed", "7", "--reconstructions", "1"];

    [RedisFact]
    public async Task Train_RedisDownMidJob_PausesAndCompletesWhenItReturns()
    {
        RedisFactAttribute.RequireRedis();
        int outage = Environment.GetEnvironmentVariable("DISTRIBUTED_OUTAGE_SECONDS") is { Length: > 0 } text
            ? int.Parse(text, CultureInfo.InvariantCulture) : OutageSeconds;
        string work = Directory.CreateTempSubdirectory("distributed-outage-").FullName;
        string images = Path.Combine(Programs.RepositoryRoot, "samples", "images");
        int imageCount = Directory.GetFiles(images, "*.png").Length;
        int[][] shapes = [[4, 1, 7, 7]];
        try
        {
            using (ChildProcess clean = ChildProcess.Start("client-serial", Programs.DotNet,
                       ["exec", Programs.Client, "train", "--engine", "serial", "--images", images, .. Spec, "--out", Path.Combine(work, "clean")], work))
            {
                Assert.True(await clean.WaitForExitAsync(ClusterJobs.Patience), $"the serial run did not finish.\n{clean.Tail()}");
                Assert.True(clean.ExitCode == 0, $"the serial run failed ({clean.ExitCode}).\n{clean.Tail()}");
            }
            IReadOnlyList<OutputFolderCheck.MetricsRow> cleanRows = OutputFolderCheck.AssertValid(Path.Combine(work, "clean"), shapes, Epochs, imageCount);

            await using LocalCluster cluster = await LocalCluster.StartAsync(2, work);
            IClusterClient grains = await cluster.ClientAsync();
            string job = await ClusterJobs.RunClientAsync("client-submit", cluster, work, ["train", "--detach", "--images", images, .. Spec]);
            using ChildProcess watch = ClusterJobs.StartClient("client-watch", cluster, work, ["watch", job]);
            string Context() => $"{watch.Tail()}\n{cluster.Logs()}";

            // Barriers: `watch` is connected (it needs Redis to find a gateway; a client that is connected does not), and
            // the first epoch is done.
            await ClusterJobs.WaitForClientsAsync(grains, 2, Context);
            await ClusterJobs.WaitForFirstLineAsync(watch, Context);
            JobStatus first = await ClusterJobs.PollAsync(grains, job, s => s.History.Length >= 1, "waiting for the first epoch", Context);
            Assert.True(first.State == JobState.Running, $"job {job} was {first.State} after epoch 1: make it longer.");
            cluster.KillRedis();
            var down = Stopwatch.StartNew();
            output.WriteLine($"SIGKILL redis after epoch {first.History.Length}");

            // Barrier: the next epoch is done and its checkpoint is waiting on Redis (its metrics are visible before the
            // write returns). Then the outage goes on; the job must still be running at its end.
            JobStatus blocked = await ClusterJobs.PollAsync(grains, job, s => s.History.Length > first.History.Length, "waiting for the next checkpoint", Context);
            Assert.True(blocked.State == JobState.Running, $"job {job} ended {blocked.State} during the outage: {blocked.Error}");
            TimeSpan remaining = TimeSpan.FromSeconds(outage) - down.Elapsed;
            if (remaining > TimeSpan.Zero) await Task.Delay(remaining);
            JobStatus during = await grains.GetGrain<ITrainingJobGrain>(job).GetStatusAsync();
            Assert.True(during.State == JobState.Running, $"job {job} was {during.State} after {down.Elapsed.TotalSeconds:F0} s without Redis: {during.Error}\n{Context()}");
            Assert.True(during.History.Length == blocked.History.Length, $"job {job} completed epochs without storage: {during.History.Length} > {blocked.History.Length}");

            await cluster.RestartRedisAsync();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"redis back after {down.Elapsed.TotalSeconds:F1} s; the job had {during.History.Length} epochs, state {during.State}"));
            var back = Stopwatch.StartNew();

            Assert.True(await watch.WaitForExitAsync(ClusterJobs.Patience), $"`watch {job}` did not end.\n{Context()}");
            Assert.True(watch.ExitCode == 0, $"`watch {job}` ended with {watch.ExitCode}.\n{Context()}");
            Assert.Contains($"job {job}: completed", watch.OutputLines);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"completed {back.Elapsed.TotalSeconds:F1} s after Redis returned"));

            // A new client finds the gateways through the restarted Redis, and the result was stored.
            await ClusterJobs.RunClientAsync("client-fetch", cluster, work, ["fetch", job, "--out", Path.Combine(work, "after")]);
            IReadOnlyList<OutputFolderCheck.MetricsRow> rows = OutputFolderCheck.AssertValid(Path.Combine(work, "after"), shapes, Epochs, imageCount);
            double final = ClusterJobs.Relative(rows[^1].Objective, cleanRows[^1].Objective);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"final objective: relative difference to serial {final:E2}"));
            Assert.True(final <= ObjectiveTolerance, $"final objective {rows[^1].Objective:G8} vs serial {cleanRows[^1].Objective:G8}: {final:E2} > {ObjectiveTolerance}");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
