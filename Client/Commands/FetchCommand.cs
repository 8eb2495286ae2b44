using System.CommandLine;
using Distributed.Client.Cluster;
using Distributed.Client.Engines;
using Distributed.Client.Output;

namespace Distributed.Client.Commands;

/// <summary>`fetch JOB --out DIR`: a completed job's output folder, the same files a finished `train` writes.</summary>
internal static class FetchCommand
{
    public static Command Create()
    {
        Argument<string> job = JobCommandRunner.JobArgument();
        var output = new Option<string>("--out") { Description = "Output folder: created, or replaced whole if an earlier run wrote it (written aside and swapped in at the end).", Required = true };
        var command = new Command("fetch", "Write a completed job's filters, reconstructions, metrics and model.json to a folder.");
        command.Arguments.Add(job);
        command.Options.Add(output);
        var cluster = new ClusterFlags();
        cluster.AddTo(command);
        command.SetAction((ParseResult r, CancellationToken ct) => JobCommandRunner.ReportErrorsAsync(command.Name, r.InvocationConfiguration.Error, async () =>
        {
            // --out is checked before the cluster is asked for anything.
            using StagedOutput staged = StagedOutput.Begin(r.GetValue(output), "--out", [], ct);
            await using ClusterSession session = await cluster.ConnectToRunningAsync(r, ct);
            string id = r.GetValue(job)!;
            var (result, names, reports) = await JobWatcher.ResultAsync(session.Grains, id);
            RunFolder.Write(staged, new EngineRun(result, names, reports, []), "distributed", "fetch");
            r.InvocationConfiguration.Output.WriteLine($"job {id}: wrote {staged.Path}");
            return 0;
        }));
        return command;
    }
}
