using Distributed.Client.Commands;
using Orleans.Runtime;

namespace Distributed.Client.Tests.Commands;

/// <summary>How a job command (status, watch, cancel, list, fetch) reports what goes wrong: one line, never a stack trace.</summary>
public class JobCommandErrorTests
{
    [Fact]
    public async Task ReportErrors_CallTimedOutWhileASiloIsDown_OneLineExit3SayingToRetry()
    {
        var error = new StringWriter();
        int exit = await JobCommandRunner.ReportErrorsAsync("status", error,
            () => throw new TimeoutException("Response did not arrive on time in 00:00:30 for message: Request S127.0.0.1:11111\n   at Orleans.Runtime..."));
        Assert.Equal(3, exit);
        string line = Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.StartsWith("status: the cluster did not answer (TimeoutException: Response did not arrive on time in 00:00:30", line);
        Assert.Contains("retry in a few seconds", line);
    }

    [Fact]
    public async Task ReportErrors_TargetSiloUnavailable_Exit3()
    {
        var error = new StringWriter();
        int exit = await JobCommandRunner.ReportErrorsAsync("fetch", error, () => throw new SiloUnavailableException("the target silo is no longer active"));
        Assert.Equal(3, exit);
        Assert.Contains("fetch: the cluster did not answer (SiloUnavailableException: the target silo is no longer active)", error.ToString());
    }

    [Fact]
    public async Task ReportErrors_UnknownJob_OneLineExit2()
    {
        var error = new StringWriter();
        int exit = await JobCommandRunner.ReportErrorsAsync("cancel", error, () => throw new UserException("no job 'nope' on this cluster; `list` shows the jobs."));
        Assert.Equal(2, exit);
        Assert.Equal("cancel: no job 'nope' on this cluster; `list` shows the jobs.", error.ToString().Trim());
    }

    [Fact]
    public async Task ReportErrors_SuccessOrAProgrammingError_PassThrough()
    {
        var error = new StringWriter();
        Assert.Equal(0, await JobCommandRunner.ReportErrorsAsync("list", error, () => Task.FromResult(0)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => JobCommandRunner.ReportErrorsAsync("list", error, () => throw new InvalidOperationException("a bug")));
        Assert.Empty(error.ToString());
    }
}
