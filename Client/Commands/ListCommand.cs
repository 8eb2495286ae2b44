using System.CommandLine;
using System.Globalization;
using Distributed.Client.Cluster;
using Distributed.Grains.Abstractions.Jobs;
using Spectre.Console;

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
            var table = new Table().AddColumns("job", "state", "submitted (UTC)", "images", "layer", "epoch", "objective");
            foreach (JobSummary j in jobs)
                table.AddRow(
                    Markup.Escape(j.Job),
                    j.State.ToString().ToLowerInvariant(),
                    j.SubmittedUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    j.Images.ToString(CultureInfo.InvariantCulture),
                    j.Layer > 0 ? $"{j.Layer}/{j.Layers}" : "-",
                    j.Epoch > 0 ? $"{j.Epoch}/{j.Epochs}" : "-",
                    j.Objective is { } e ? e.ToString("G6", CultureInfo.InvariantCulture) : "-");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
