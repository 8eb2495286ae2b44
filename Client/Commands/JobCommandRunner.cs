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
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            try
            {
                await using ClusterSession session = await cluster.ConnectToRunningAsync(r, ct);
                return await action(r, session, ct);
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                r.InvocationConfiguration.Error.WriteLine($"{command.Name}: {UserErrors.Describe(e)}");
                return 2;
            }
        });
    }
}
