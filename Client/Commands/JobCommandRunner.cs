using System.CommandLine;
using Distributed.Client.Cluster;

namespace Distributed.Client.Commands;

/// <summary>
/// What the job commands (status, watch, cancel, list, fetch) share: connect to a running cluster, run, and turn every
/// error the user can cause (unreachable cluster, unknown job, bad flag) into one line on stderr and exit code 2.
/// </summary>
internal static class JobCommandRunner
{
    public static Argument<string> JobArgument() => new("job") { Description = "The job id (as `train --detach` printed it; see `list`)." };

    public static void SetAction(Command command, ClusterFlags cluster, Func<ParseResult, ClusterSession, CancellationToken, Task<int>> action)
    {
        cluster.AddTo(command);
        command.SetAction((ParseResult r, CancellationToken ct) => ReportErrorsAsync(command.Name, r.InvocationConfiguration.Error, async () =>
        {
            await using ClusterSession session = await cluster.ConnectToRunningAsync(r, ct);
            return await action(r, session, ct);
        }));
    }

    /// <summary>
    /// Runs a job command's body and turns the errors a user meets into one line on stderr: their own mistakes exit 2;
    /// a cluster that did not answer in time (a silo just failed, membership has not yet noticed) exits 3, saying the
    /// job is unharmed and when to retry.
    /// </summary>
    internal static async Task<int> ReportErrorsAsync(string name, TextWriter error, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (UserErrors.IsUserError(e))
        {
            error.WriteLine($"{name}: {UserErrors.Describe(e)}");
            return 2;
        }
        catch (Exception e) when (UserErrors.IsClusterFault(e))
        {
            error.WriteLine($"{name}: the cluster did not answer ({UserErrors.Describe(e)}); a silo may have just failed. Jobs resume on their own once the cluster notices; retry in a few seconds.");
            return 3;
        }
    }
}
