using System.CommandLine;
using Distributed.Client.Cluster;
using Distributed.Grains.Abstractions.Jobs;

namespace Distributed.Client.Commands;

/// <summary>`cancel JOB`: stop a job at its next epoch boundary at the latest.</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        Argument<string> job = JobCommandRunner.JobArgument();
        var command = new Command("cancel", "Cancel a job; it stops within one epoch and ends cancelled.");
        command.Arguments.Add(job);
        JobCommandRunner.SetAction(command, new ClusterFlags(), async (r, session, ct) =>
        {
            string id = r.GetValue(job)!;
            JobStatus before = await JobWatcher.StatusAsync(session.Grains, id);
            if (before.IsTerminal)
            {
                r.InvocationConfiguration.Output.WriteLine($"job {id} already ended: {JobWatcher.Describe(before)}");
                return 0;
            }
            JobStatus after = await session.Grains.GetGrain<ITrainingJobGrain>(id).CancelAsync();
            r.InvocationConfiguration.Output.WriteLine(after.IsTerminal ? $"job {id} cancelled" : $"job {id} is cancelling (it stops within the current epoch)");
            return 0;
        });
        return command;
    }
}
