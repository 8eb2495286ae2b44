using Distributed.Compute.Training;
using Microsoft.Extensions.Logging;

namespace Distributed.Grains.Jobs;

/// <summary>
/// The coordinator's log lines, source-generated (no boxing or formatting unless the level is on). Every line names
/// its job, so one job's story can be read out of a silo's log with one filter; the same phases are spans in the trace.
/// </summary>
internal static partial class JobLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "job {Job}: training {Images} images on {Shards} shards")]
    public static partial void Started(ILogger logger, string job, int images, int shards);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "job {Job}: resuming at layer {Layer}, epoch {Epoch} from its checkpoint")]
    public static partial void Resumed(ILogger logger, string job, int layer, int epoch);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "job {Job}: resuming from the start (no checkpoint was saved)")]
    public static partial void ResumedFromStart(ILogger logger, string job);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "job {Job}: layer {Layer} started")]
    public static partial void LayerStarted(ILogger logger, string job, int layer);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "job {Job}: layer {Layer} trained; final objective {Objective:G6}")]
    public static partial void LayerEnded(ILogger logger, string job, int layer, double objective);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "job {Job}: layer {Layer} epoch {Epoch} started (filters {FilterVersion}, final pass {Final})")]
    public static partial void EpochStarted(ILogger logger, string job, int layer, int epoch, FilterVersion filterVersion, bool final);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "job {Job}: layer {Layer} epoch {Epoch}: objective {Objective:G6}, nonzero {NonzeroFraction:P2}, {Seconds:F2} s")]
    public static partial void EpochEnded(ILogger logger, string job, int layer, int epoch, double objective, double nonzeroFraction, double seconds);

    [LoggerMessage(EventId = 8, Level = LogLevel.Trace, Message = "job {Job}: layer {Layer} epoch {Epoch}: filter update from filters {FilterVersion}")]
    public static partial void FilterUpdate(ILogger logger, string job, int layer, int epoch, FilterVersion filterVersion);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "job {Job}: checkpoint saved before layer {Layer} epoch {Epoch}")]
    public static partial void CheckpointSaved(ILogger logger, string job, int layer, int epoch);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "job {Job}: completed in {Seconds:F1} s")]
    public static partial void Completed(ILogger logger, string job, double seconds);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "job {Job}: failed ({Field}): {Error}")]
    public static partial void Failed(ILogger logger, Exception exception, string job, string? field, string error);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "job {Job}: cancelled")]
    public static partial void Cancelled(ILogger logger, string job);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "job {Job}: suspended (its coordinator is shutting down); it resumes from its checkpoint")]
    public static partial void Suspended(ILogger logger, string job);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "job {Job}: shard {Shard} unreachable or re-activated; restarting its command {Command}: {Reason}")]
    public static partial void ShardFailover(ILogger logger, string job, int shard, string command, string reason);

    /// <summary>Debug for the transient failures a silo expects while members join or die, warning otherwise.</summary>
    [LoggerMessage(EventId = 15, Message = "job keeper: this round failed; retrying in {Period}")]
    public static partial void KeeperRoundFailed(ILogger logger, LogLevel level, Exception exception, TimeSpan period);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "job {Job}: its shards did not all confirm deleting their stored images")]
    public static partial void ShardsNotReleased(ILogger logger, Exception exception, string job);
}
