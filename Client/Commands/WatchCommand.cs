using System.CommandLine;
using Distributed.Client.Cluster;
using Distributed.Client.Console;
using Distributed.Grains.Abstractions.Jobs;

namespace Distributed.Client.Commands;

/// <summary>`watch JOB`: a live progress bar until the job ends; Ctrl+C stops watching, not the job.</summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        Argument<string> job = JobCommandRunner.JobArgument();
        var command = new Command("watch", "Follow a job with a live progress bar (layer, epoch, objective, images/s, time left) until it ends.");
        command.Arguments.Add(job);
        JobCommandRunner.SetAction(command, new ClusterFlags(), async (r, session, ct) =>
        {
            string id = r.GetValue(job)!;
            JobStatus final = await TrainingProgressBar.RunAsync(r.InvocationConfiguration.Output, $"job {id}", observer =>
                JobWatcher.FollowAsync(session.Grains, id, s => observer.OnProgress(JobWatcher.ToProgress(s)), ct));
            r.InvocationConfiguration.Output.WriteLine($"job {id}: {JobWatcher.Describe(final)}");
            return final.State == JobState.Completed ? 0 : 1;
        });
        return command;
    }
}
