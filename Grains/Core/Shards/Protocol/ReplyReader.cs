using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Shards.Protocol;

/// <summary>
/// What a handler reads a reply with, on the coordinator: the job's spec, and payloads fetched inline or pulled as
/// chunks from the shard that answered. Counts the bytes it fetched, for the gather span.
/// </summary>
internal sealed class ReplyReader(TrainingSpec spec, Func<Payload, Task<byte[]>> fetch)
{
    private long _bytes;

    public TrainingSpec Spec { get; } = spec;

    /// <summary>Bytes fetched so far.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public async Task<byte[]> FetchAsync(Payload payload)
    {
        byte[] bytes = await fetch(payload);
        Interlocked.Add(ref _bytes, bytes.LongLength);
        return bytes;
    }
}
