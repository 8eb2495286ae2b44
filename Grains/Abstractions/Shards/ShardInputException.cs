namespace Distributed.Grains.Abstractions.Shards;

/// <summary>
/// A shard could not use its input (an image it cannot decode, a filter larger than an image, …): the user's problem,
/// with the message and the field to blame. Compute's own exceptions carry the same, but Orleans will not carry an
/// exception type from outside its known namespaces across silos (the caller would only see a codec error).
/// </summary>
[GenerateSerializer, Alias("distributed.shard-input-exception")]
public sealed class ShardInputException : Exception
{
    public ShardInputException(string message, string field)
        : base(message)
    {
        Field = field;
    }

    /// <summary>The spec field or flag the problem is about: "images", "layers.filterSize", …</summary>
    [Id(0)] public string Field { get; init; }
}
