using System.Security.Cryptography;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Abstractions.Telemetry;
using Distributed.Grains.Placement;
using Distributed.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Distributed.Grains.Shards;

/// <summary>
/// Holds one shard of a job's images. Orchestration only: it stages and checks payloads, keeps state, and hands the
/// numbers to Compute on the silo's <see cref="Execution.ComputeScheduler"/>.
/// </summary>
[ShardSpreadPlacement]
internal sealed class ImageShardGrain(
    [FromKeyedServices(StorageNames.Images)] IGrainStorage imageStorage,
    Serializer serializer,
    MessageLimits limits) : Grain, IImageShardGrain
{
    private readonly PayloadStaging _staging = new();
    private readonly PayloadOutbox _outbox = new();
    private readonly SortedDictionary<int, ShardImageRecord> _images = [];
    private readonly ChunkedBlobStore _store = new(imageStorage, "shard-images", limits);
    private string _job = "";
    private int _shard;
    private bool _sealed;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_job, _shard) = ShardKey.Parse(this.GetPrimaryKeyString());
        if (await _store.ReadAsync(this.GetPrimaryKeyString(), cancellationToken) is { } blob)
        {
            ShardImagesState state = serializer.Deserialize<ShardImagesState>(blob)
                ?? throw new InvalidDataException($"stored images of shard {this.GetPrimaryKeyString()} are empty.");
            foreach (ShardImageRecord image in state.Images) _images[image.Index] = image;
            _sealed = state.Sealed;
        }
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
        if (_sealed) throw new InvalidOperationException($"shard {_shard} of job {_job} is sealed; it takes no more images.");
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
        if (!_sealed)
        {
            using var span = DistributedTelemetry.StartSpan(TelemetryNames.Spans.Checkpoint, header);
            span?.SetTag(TelemetryNames.Tags.Shard, _shard);
            byte[] blob = serializer.SerializeToArray(new ShardImagesState { Images = [.. _images.Values], Sealed = true });
            span?.SetTag(TelemetryNames.Tags.Bytes, blob.LongLength);
            await _store.WriteAsync(this.GetPrimaryKeyString(), blob);
            _sealed = true;
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
        Sealed = _sealed,
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
