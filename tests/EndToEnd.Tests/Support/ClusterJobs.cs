using System.Diagnostics;
using System.Globalization;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Payloads;

namespace Distributed.EndToEnd.Tests.Support;

/// <summary>
/// What the multi-process tests do to a job on a <see cref="LocalCluster"/>: run Client commands as processes, poll a
/// job's status from the test's own Orleans client (riding out calls that fail while a silo is dying), and find where
/// its grains live.
/// </summary>
public static class ClusterJobs
{
    /// <summary>Longest a job phase (or a Client command) may take before the test gives up on it.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    /// <summary>
    /// One status call's wait: a call routed to a killed silo hangs until the response timeout (30 s); a short wait per
    /// poll keeps measured times honest.
    /// </summary>
    private static readonly TimeSpan CallPatience = TimeSpan.FromSeconds(2);

    /// <summary>Runs one Client command against the cluster to completion; asserts exit code 0 and returns its last stdout line.</summary>
    public static async Task<string> RunClientAsync(string name, LocalCluster cluster, string work, string[] arguments)
    {
        using ChildProcess client = StartClient(name, cluster, work, arguments);
        Assert.True(await client.WaitForExitAsync(Patience), $"`{string.Join(' ', arguments.Take(2))}` did not finish in {Patience}.\n{client.Tail()}");
        Assert.True(client.ExitCode == 0, $"`{string.Join(' ', arguments.Take(2))}` exited {client.ExitCode}.\n{client.Tail()}\n{cluster.Logs()}");
        return client.OutputLines.LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
    }

    public static ChildProcess StartClient(string name, LocalCluster cluster, string work, string[] arguments) =>
        ChildProcess.Start(name, Programs.DotNet, ["exec", Programs.Client, .. arguments, .. cluster.ClientArguments], work);

    /// <summary>
    /// Polls the job's status until <paramref name="until"/> holds or the job ends; calls that fail because a silo is
    /// gone are retried. Bounded by <see cref="Patience"/>; <paramref name="context"/> adds to the timeout's message.
    /// </summary>
    public static async Task<JobStatus> PollAsync(IClusterClient grains, string job, Func<JobStatus, bool> until, string phase, Func<string> context)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                JobStatus status = await grains.GetGrain<ITrainingJobGrain>(job).GetStatusAsync().WaitAsync(CallPatience);
                if (until(status) || status.IsTerminal) return status;
            }
            catch (Exception e) when (TransientFaults.IsTransient(e))
            {
                // The killed silo's calls fail until membership declares it dead.
            }
            if (clock.Elapsed > Patience) throw new TimeoutException($"{phase}: no change in {Patience}.\n{context()}");
            await Task.Delay(200);
        }
    }

    /// <summary>Barrier: at least <paramref name="count"/> clients (this test's own among them) are connected to some gateway.</summary>
    public static async Task WaitForClientsAsync(IClusterClient grains, int count, Func<string> context)
    {
        var clock = Stopwatch.StartNew();
        IManagementGrain management = grains.GetGrain<IManagementGrain>(0);
        while (true)
        {
            SiloAddress[] silos = [.. (await management.GetHosts(onlyActive: true)).Keys];
            SiloRuntimeStatistics[] statistics = await management.GetRuntimeStatistics(silos);
            if (statistics.Max(s => s.ClientCount) >= count) return;
            if (clock.Elapsed > Patience) throw new TimeoutException($"fewer than {count} clients connected in {Patience}.\n{context()}");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Waits until <paramref name="client"/> has printed a line: a job command prints only once it holds a session, so
    /// this is the barrier "connected" (a silo's client count can still include a client that just left).
    /// </summary>
    public static async Task WaitForFirstLineAsync(ChildProcess client, Func<string> context)
    {
        var clock = Stopwatch.StartNew();
        while (client.OutputLines.Count == 0)
        {
            if (client.HasExited) throw new InvalidOperationException($"{client.Name} exited ({client.ExitCode}) before it printed anything.\n{context()}");
            if (clock.Elapsed > Patience) throw new TimeoutException($"{client.Name} printed nothing in {Patience}.\n{context()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The silo-to-silo port of the silo each of the job's shards lives on, in shard order.</summary>
    public static async Task<int[]> ShardSiloPortsAsync(IClusterClient grains, string job, int shards)
    {
        ShardDescription[] described = await Task.WhenAll(Enumerable.Range(0, shards).Select(s =>
            grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, s)).DescribeAsync(MessageHeader.ForJob(job))));
        // Silo identities read "S127.0.0.1:PORT:GENERATION".
        return [.. described.Select(d => int.Parse(d.Silo.Split(':')[1], CultureInfo.InvariantCulture))];
    }

    /// <summary>The silo-to-silo port of the silo the job's coordinator is active on, or null when it has no activation.</summary>
    public static async Task<int?> CoordinatorSiloPortAsync(IClusterClient grains, string job)
    {
        SiloAddress? address = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<ITrainingJobGrain>(job));
        return address?.Endpoint.Port;
    }

    public static double Relative(double actual, double expected) => Math.Abs(actual - expected) / Math.Abs(expected);

    /// <summary>‖a − b‖ / ‖a‖ and max |a − b| of two filter banks.</summary>
    public static (double Relative, double MaxAbs) Difference(float[] a, float[] b)
    {
        double maxAbs = a.Zip(b).Max(p => Math.Abs(p.First - p.Second));
        double relative = Math.Sqrt(a.Zip(b).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)) / a.Sum(v => (double)v * v));
        return (relative, maxAbs);
    }
}
