using Orleans.Concurrency;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Abstractions.Shards;

/// <summary>
/// One shard of a job's images (key <see cref="ShardKey"/>: <c>"job/index"</c>), placed so a job's shards spread over
/// the silos. It owns its images and their feature maps and returns only statistics. Payloads larger than one message
/// arrive as chunks (<see cref="IPayloadReceiver"/>) and leave as chunks (<see cref="IPayloadSource"/>). Numeric work
/// is started by one call and collected by another, so no call lasts long whatever the shard's size.
/// </summary>
[Alias("distributed.IImageShardGrain")]
public interface IImageShardGrain : IGrainWithStringKey, IPayloadReceiver, IPayloadSource
{
    /// <summary>Gives the shard its job's spec and the images it will hold; idempotent for the same setup.</summary>
    [Alias("Initialize")]
    Task InitializeAsync(ShardSetup setup);

    /// <summary>Adds uploaded images (chunked ones staged beforehand); returns the images now held.</summary>
    [Alias("AddImages")]
    Task<int> AddImagesAsync(ImageBatch batch);

    /// <summary>Reads images from the silo's data root instead of receiving uploads; returns the images now held.</summary>
    [Alias("AddFiles")]
    Task<int> AddFilesAsync(ShardFiles files);

    /// <summary>
    /// Ends the upload: checks every expected image arrived, persists them so an activation elsewhere can reload
    /// them, and describes the shard. Decoding happens on the first piece of work.
    /// </summary>
    /// <remarks>Writing a shard's images to storage scales with their bytes: the one call allowed minutes.</remarks>
    [Alias("Seal"), ResponseTimeout("00:05:00")]
    Task<ShardDescription> SealAsync(MessageHeader header);

    [Alias("Describe")]
    Task<ShardDescription> DescribeAsync(MessageHeader header);

    /// <summary>Starts a piece of work (one at a time); returns its ticket.</summary>
    [Alias("Start")]
    Task<Guid> StartAsync(ShardCommand command);

    /// <summary>
    /// Waits a few seconds at most for the work of <paramref name="ticket"/>; its reply once done. It interleaves, so
    /// a cancel is not held up behind it. Work that is no longer there — superseded by a newer command, cancelled, or
    /// gone with a previous activation, or whose staged input went with one — is <see cref="ShardWaitResult.Lost"/>:
    /// never an error, so a sender never mistakes someone else's cancellation for the end of its job.
    /// </summary>
    [Alias("Wait"), AlwaysInterleave]
    Task<ShardWaitResult> WaitAsync(MessageHeader header, Guid ticket);

    /// <summary>
    /// Abandons the work of <paramref name="ticket"/> if it is still the running one (a cancelled job); work started
    /// since for another sender (a coordinator resumed elsewhere) is left alone.
    /// </summary>
    [Alias("Cancel")]
    Task CancelAsync(MessageHeader header, Guid ticket);

    /// <summary>
    /// The shard is done with: stops its work, deletes its stored images and lets the activation go. Idempotent; a
    /// shard released and then called again holds nothing (it has to be set up anew).
    /// </summary>
    [Alias("Release"), ResponseTimeout("00:05:00")]
    Task ReleaseAsync(MessageHeader header);
}
