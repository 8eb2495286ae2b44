using System.Diagnostics;
using Distributed.Client.Commands;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Client.Cluster;

/// <summary>Follows a job's status until it ends, and turns a finished job into the serial engine's result type.</summary>
internal static class JobWatcher
{
    /// <summary>The job's status, or a <see cref="UserException"/> when the cluster has no such job.</summary>
    public static async Task<JobStatus> StatusAsync(IGrainFactory grains, string job)
    {
        if (!JobId.IsValid(job)) throw new UserException($"'{job}' is not a job id (1..{JobId.MaxLength} of A-Z a-z 0-9 . _ -).");
        JobStatus status = await grains.GetGrain<ITrainingJobGrain>(job).GetStatusAsync();
        return status.State == JobState.Unknown ? throw new UserException($"no job '{job}' on this cluster (see `list`).") : status;
    }

    /// <summary>How long <see cref="FollowAsync"/> keeps trying to reach a job whose silo (or gateway) died.</summary>
    public static TimeSpan FailoverPatience { get; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Calls <paramref name="onChange"/> with every new status until the job ends; long-polls, so a change shows at
    /// once and a quiet job costs one call every few seconds. When the coordinator's silo or this client's gateway
    /// dies, it keeps asking (the job resumes on another silo) for up to <see cref="FailoverPatience"/>.
    /// </summary>
    public static async Task<JobStatus> FollowAsync(IGrainFactory grains, string job, Action<JobStatus> onChange, CancellationToken cancellationToken)
    {
        JobStatus status = await StatusAsync(grains, job);
        ITrainingJobGrain grain = grains.GetGrain<ITrainingJobGrain>(job);
        onChange(status);
        long failingSince = 0;
        while (!status.IsTerminal)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobStatus next;
            try
            {
                // It answers within seconds; a call routed to a silo that just died would hang to the 30 s response timeout.
                next = await grain.WaitStatusAsync(status.Revision).WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
                failingSince = 0;
            }
            catch (Exception e) when (TransientFaults.IsTransient(e))
            {
                if (failingSince == 0) failingSince = Stopwatch.GetTimestamp();
                else if (Stopwatch.GetElapsedTime(failingSince) > FailoverPatience)
                    throw new UserException($"lost contact with job '{job}' for {FailoverPatience.TotalSeconds:F0} s: {e.Message.ReplaceLineEndings(" ")}", e);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }
            // A resumed coordinator counts revisions afresh, so any different revision is news.
            if (next.Revision != status.Revision || next.State != status.State) onChange(next);
            status = next;
        }
        return status;
    }

    public static TrainingProgress ToProgress(JobStatus s) => new(
        Math.Max(1, s.Layer), Math.Max(1, s.Layers), Math.Max(1, s.Epoch), Math.Max(1, s.Epochs), s.Fraction,
        s.History.Length == 0 ? null : s.History[^1].ToMetrics(),
        TimeSpan.FromSeconds(s.ElapsedSeconds),
        s.RemainingSeconds is { } r ? TimeSpan.FromSeconds(r) : null,
        s.ImagesPerSecond);

    /// <summary>The result of a completed job as the serial engine returns it, tensors pulled in chunks when large.</summary>
    public static async Task<(TrainingResult Result, IReadOnlyList<string> Names, IReadOnlyList<ImageReport> Reports)> ResultAsync(IGrainFactory grains, string job)
    {
        JobStatus status = await StatusAsync(grains, job);
        ITrainingJobGrain grain = grains.GetGrain<ITrainingJobGrain>(job);
        JobResult result = await grain.GetResultAsync()
            ?? throw new UserException($"job '{job}' is {Describe(status)}; only a completed job has a result.");
        var header = MessageHeader.ForJob(job);
        var (training, reports) = await ResultWire.ToTrainingResultAsync(result, p => PayloadTransfer.FetchAsync(grain, header, p));
        return (training, result.ImageNames, reports);
    }

    public static string Describe(JobStatus s) => s.State switch
    {
        JobState.Running => $"running (layer {s.Layer}/{s.Layers}, epoch {s.Epoch}/{s.Epochs})",
        JobState.Failed => $"failed: {s.Error}",
        _ => s.State.ToString().ToLowerInvariant(),
    };
}
