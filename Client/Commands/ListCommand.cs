using System.CommandLine;
using System.Globalization;
using Distributed.Client.Cluster;
using Distributed.Grains.Abstractions.Jobs;

namespace Distributed.Client.Commands;

/// <summary>`list`: every job the cluster knows, oldest first.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var command = new Command("list", "List the cluster's jobs: id, state, submitted, images, progress, objective.");
        JobCommandRunner.SetAction(command, new ClusterFlags(), async (r, session, ct) =>
        {
            JobSummary[] jobs = await session.Grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).ListAsync();
            if (jobs.Length == 0)
            {
                r.InvocationConfiguration.Output.WriteLine("no jobs");
                return 0;
            }
            // Plain columns: a job id must stay copyable whatever the terminal width, and pipes get the same text.
            string[][] rows =
            [
                ["job", "state", "submitted (UTC)", "images", "layer", "epoch", "objective"],
                .. jobs.Select(j => new[]
                {
                    j.Job,
                    j.State.ToString().ToLowerInvariant(),
                    j.SubmittedUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    j.Images.ToString(CultureInfo.InvariantCulture),
                    j.Layer > 0 ? $"{j.Layer}/{j.Layers}" : "-",
                    j.Epoch > 0 ? $"{j.Epoch}/{j.Epochs}" : "-",
                    j.Objective is { } e ? e.ToString("G6", CultureInfo.InvariantCulture) : "-",
                }),
            ];
            int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length))];
            foreach (string[] row in rows)
                r.InvocationConfiguration.Output.WriteLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
            return 0;
        });
        return command;
    }
}
