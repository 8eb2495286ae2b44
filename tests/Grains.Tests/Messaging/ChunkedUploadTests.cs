using System.Security.Cryptography;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Tests.Cluster;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Tests.Messaging;

[Collection(ClusterCollection.Name)]
public sealed class ChunkedUploadTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AddImagesAsync_PayloadFourTimesTheLimit_ArrivesIntact()
    {
        const string job = "chunked-upload";
        var header = MessageHeader.ForJob(job);
        var limits = new MessageLimits(ClusterFixture.MaxMessageBytes);
        // Shard 1 of 3 silos: placed away from silo 0, which hosts the client's gateway in the test cluster as often as not.
        IImageShardGrain shard = fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, 1));
        byte[] big = RandomBytes(4 * ClusterFixture.MaxMessageBytes + 12_345, seed: 7);
        byte[] small = RandomBytes(1_000, seed: 8);
        await shard.InitializeAsync(Setup(header, [4, 9]));

        Payload bigPayload = await PayloadTransfer.SendAsync(shard, header, big, limits);
        Payload smallPayload = await PayloadTransfer.SendAsync(shard, header, small, limits);
        int held = await shard.AddImagesAsync(new ImageBatch
        {
            Header = header,
            Images =
            [
                new EncodedImage { Index = 4, Name = "big.png", Content = bigPayload },
                new EncodedImage { Index = 9, Name = "small.png", Content = smallPayload },
            ],
        });
        ShardDescription sealedShard = await shard.SealAsync(header);

        Assert.False(bigPayload.IsInline, "a payload 4× the limit must travel as chunks");
        Assert.Equal(5, bigPayload.Chunks);
        Assert.True(smallPayload.IsInline, "a 1 kB payload must travel inline");
        Assert.Equal(2, held);
        Assert.True(sealedShard.Sealed);
        Assert.Equal([4, 9], sealedShard.Images.Select(i => i.Index));
        Assert.Equal(big.LongLength, sealedShard.Images[0].Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big)), sealedShard.Images[0].Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(small)), sealedShard.Images[1].Sha256);
    }

    [Fact]
    public async Task ReleaseAsync_SealedShard_DeletesItsStoredImages()
    {
        const string job = "released-upload";
        var header = MessageHeader.ForJob(job);
        var limits = new MessageLimits(ClusterFixture.MaxMessageBytes);
        IImageShardGrain shard = fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, 1));
        await shard.InitializeAsync(Setup(header, [0, 1]));
        Payload big = await PayloadTransfer.SendAsync(shard, header, RandomBytes(3 * ClusterFixture.MaxMessageBytes, seed: 9), limits);
        Payload small = await PayloadTransfer.SendAsync(shard, header, RandomBytes(1_000, seed: 10), limits);
        await shard.AddImagesAsync(new ImageBatch
        {
            Header = header,
            Images = [new EncodedImage { Index = 0, Name = "big.png", Content = big }, new EncodedImage { Index = 1, Name = "small.png", Content = small }],
        });
        await shard.SealAsync(header);

        // Stored: a fresh activation reloads both images (blocks and manifest).
        await fixture.Cluster.DeactivateAsync(shard).WaitAsync(TimeSpan.FromMinutes(2));
        ShardDescription reloaded = await shard.DescribeAsync(header);
        Assert.True(reloaded.Sealed);
        Assert.Equal(2, reloaded.Images.Length);

        await shard.ReleaseAsync(header);
        await fixture.Cluster.DeactivateAsync(shard).WaitAsync(TimeSpan.FromMinutes(2));
        ShardDescription released = await shard.DescribeAsync(header);

        Assert.False(released.Sealed);
        Assert.Empty(released.Images);
        await shard.ReleaseAsync(header);   // idempotent: nothing left to delete
    }

    private static ShardSetup Setup(MessageHeader header, int[] images) => new()
    {
        Header = header,
        SpecJson = SpecWire.Serialize(new TrainingSpec()),
        Images = images,
        MaxPixels = 1_000_000,
        MaxFileBytes = 1L << 30,
    };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
