using Orleans.Concurrency;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Abstractions.Jobs;

/// <summary>
/// The coordinator of one training job (key: the job id): validates the spec, creates the shards, and runs the
/// Compute training loop over them in the background — every call here returns promptly, whatever the job's size.
/// Large results leave as chunks (<see cref="IPayloadSource"/>).
/// </summary>
[Alias("distributed.ITrainingJobGrain")]
public interface ITrainingJobGrain : IGrainWithStringKey, IPayloadSource
{
    /// <summary>Validates the submission and plans the shards; a rejected plan names the bad field.</summary>
    [Alias("Submit")]
    Task<JobPlan> SubmitAsync(JobSubmission submission);

    /// <summary>Starts training once the images are in (uploaded, or to be read from the data root).</summary>
    [Alias("Start")]
    Task<JobStatus> StartAsync(MessageHeader header);

    /// <summary>Interleaves with every other call: it only reads.</summary>
    [Alias("GetStatus"), AlwaysInterleave]
    Task<JobStatus> GetStatusAsync();

    /// <summary>
    /// Returns when the status revision passes <paramref name="afterRevision"/> or in a few seconds at most; it
    /// interleaves, so a watcher never holds up a cancel.
    /// </summary>
    [Alias("WaitStatus"), AlwaysInterleave]
    Task<JobStatus> WaitStatusAsync(long afterRevision);

    /// <summary>Stops the job at the next epoch boundary at the latest; it ends Cancelled.</summary>
    [Alias("Cancel")]
    Task<JobStatus> CancelAsync();

    /// <summary>The result of a completed job; null before completion.</summary>
    [Alias("GetResult")]
    Task<JobResult?> GetResultAsync();
}

/// <summary>Every job submitted to the cluster, for `list` (key: <see cref="Key"/>).</summary>
[Alias("distributed.IJobRegistryGrain")]
public interface IJobRegistryGrain : IGrainWithStringKey
{
    public const string Key = "jobs";

    [Alias("Update")]
    Task UpdateAsync(JobSummary summary);

    [Alias("List")]
    Task<JobSummary[]> ListAsync();
}
