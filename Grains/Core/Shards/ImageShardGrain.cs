using System.Security.Cryptography;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Abstractions.Telemetry;
using Distributed.Grains.Placement;

namespace Distributed.Grains.Shards;

/// <summary>
/// Holds one shard of a job's images. Orchestration only: it stages and checks payloads, keeps state, and hands the
/// numbers to Compute on the silo's <see cref="Execution.ComputeScheduler"/>.
/// </summary>
[ShardSpreadPlacement]
internal sealed class ImageShardGrain(
    [PersistentState("shard", StorageNames.Images)] IPersistentState<ShardImagesState> stored,
    MessageLimits limits) : Grain, IImageShardGrain
{
    private readonly PayloadStaging _staging = new();
    private readonly PayloadOutbox _outbox = new();
    private readonly SortedDictionary<int, ShardImageRecord> _images = [];
    private string _job = "";
    private int _shard;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_job, _shard) = ShardKey.Parse(this.GetPrimaryKeyString());
        foreach (ShardImageRecord image in stored.State.Images) _images[image.Index] = image;
        return Task.CompletedTask;
    }

    public Task PutChunkAsync(PayloadChunk chunk)
    {
        CheckJob(chunk.Header);
        _staging.Put(chunk);
        return Task.CompletedTask;
    }

    public Task<PayloadChunk> GetChunkAsync(MessageHeader header, Guid transfer, int index)
    {
        CheckJob(header);
        return Task.FromResult(_outbox.Take(header, transfer, index, limits));
    }

    public Task<int> AddImagesAsync(ImageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        CheckJob(batch.Header);
        if (stored.State.Sealed) throw new InvalidOperationException($"shard {_shard} of job {_job} is sealed; it takes no more images.");
        using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Upload, batch.Header);
        span?.SetTag(TelemetryNames.Tags.Shard, _shard);
        span?.SetTag(TelemetryNames.Tags.Images, batch.Images.Count);
        foreach (EncodedImage image in batch.Images)
        {
            if (image.Index < 0) throw new ArgumentException($"image '{image.Name}' has index {image.Index}; indices start at 0.", nameof(batch));
            byte[] bytes = _staging.Resolve(image.Content);
            _images[image.Index] = new ShardImageRecord { Index = image.Index, Name = image.Name, Encoded = bytes };
        }
        return Task.FromResult(_images.Count);
    }

    public async Task<ShardDescription> SealAsync(MessageHeader header)
    {
        CheckJob(header);
        if (!stored.State.Sealed)
        {
            using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Checkpoint, header);
            span?.SetTag(TelemetryNames.Tags.Shard, _shard);
            stored.State.Images = [.. _images.Values];
            stored.State.Sealed = true;
            await stored.WriteStateAsync();
            _staging.Clear();
        }
        return Describe(header);
    }

    public Task<ShardDescription> DescribeAsync(MessageHeader header)
    {
        CheckJob(header);
        return Task.FromResult(Describe(header));
    }

    private ShardDescription Describe(MessageHeader header) => new()
    {
        Header = header,
        Shard = _shard,
        Silo = RuntimeIdentity,
        Sealed = stored.State.Sealed,
        Images = [.. _images.Values.Select(i => new StoredImage
        {
            Index = i.Index,
            Name = i.Name,
            Bytes = i.Encoded.LongLength,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(i.Encoded)),
        })],
    };

    private void CheckJob(MessageHeader header)
    {
        if (!string.Equals(header.Job, _job, StringComparison.Ordinal))
            throw new ArgumentException($"a message for job '{header.Job}' reached shard {_shard} of job '{_job}'.");
    }
}
