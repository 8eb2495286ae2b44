using System.CommandLine;
using System.Globalization;
using Distributed.Client.Cluster;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Client.Commands;

/// <summary>`status JOB`: where a job stands, once.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        Argument<string> job = JobCommandRunner.JobArgument();
        var command = new Command("status", "Show a job's state, layer, epoch, objective, throughput and time left.");
        command.Arguments.Add(job);
        JobCommandRunner.SetAction(command, new ClusterFlags(), async (r, session, ct) =>
        {
            JobStatus status = await JobWatcher.StatusAsync(session.Grains, r.GetValue(job)!);
            foreach (string line in Lines(status)) r.InvocationConfiguration.Output.WriteLine(line);
            return 0;
        });
        return command;
    }

    public static IEnumerable<string> Lines(JobStatus s)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        yield return $"job        {s.Job}";
        yield return $"state      {JobWatcher.Describe(s)}";
        yield return string.Create(c, $"images     {s.Images} over {s.Shards} shards");
        if (s.Layer > 0) yield return string.Create(c, $"progress   layer {s.Layer}/{s.Layers}, epoch {s.Epoch}/{s.Epochs}, {s.Fraction:P0}");
        if (s.LatestObjective is { } e) yield return string.Create(c, $"objective  {e:G6} (nonzero {s.History[^1].NonzeroFraction:P2}, PSNR {s.History[^1].PsnrDb:F2} dB)");
        if (s.History.Length > 0 && s.History[^1].ResidentBytes > 0)
        {
            EpochMetricsMessage last = s.History[^1];
            yield return $"resident   {ShardMemory.Format(last.ResidentBytes)} on the shards, {ShardMemory.Format(last.ResidentBytes / Math.Max(1, last.Images))} per image";
        }
        if (s.ImagesPerSecond > 0) yield return string.Create(c, $"throughput {s.ImagesPerSecond:F1} images/s");
        yield return string.Create(c, $"elapsed    {TimeSpan.FromSeconds(Math.Round(s.ElapsedSeconds)):g}");
        if (!s.IsTerminal && s.RemainingSeconds is { } left) yield return string.Create(c, $"time left  {TimeSpan.FromSeconds(Math.Round(left)):g}");
    }
}
