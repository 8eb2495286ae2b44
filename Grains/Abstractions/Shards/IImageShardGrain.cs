using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Abstractions.Shards;

/// <summary>
/// One shard of a job's images (key <see cref="ShardKey"/>: <c>"job/index"</c>), placed so a job's shards spread over
/// the silos. It owns its images and their feature maps and returns only statistics. Payloads larger than one message
/// arrive as chunks (<see cref="IPayloadReceiver"/>) and leave as chunks (<see cref="IPayloadSource"/>).
/// </summary>
[Alias("distributed.IImageShardGrain")]
public interface IImageShardGrain : IGrainWithStringKey, IPayloadReceiver, IPayloadSource
{
    /// <summary>Adds uploaded images (chunked ones staged beforehand); returns the images now held.</summary>
    [Alias("AddImages")]
    Task<int> AddImagesAsync(ImageBatch batch);

    /// <summary>
    /// Ends the upload: persists the images so an activation elsewhere can reload them, and describes the shard.
    /// </summary>
    [Alias("Seal")]
    Task<ShardDescription> SealAsync(MessageHeader header);

    [Alias("Describe")]
    Task<ShardDescription> DescribeAsync(MessageHeader header);
}
