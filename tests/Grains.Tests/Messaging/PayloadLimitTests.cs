using System.Security.Cryptography;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Wire;
using Distributed.Grains.Tests.Cluster;

namespace Distributed.Grains.Tests.Messaging;

/// <summary>
/// Every limit a silo enforces on what a sender asks of it, each checked before anything is allocated for the request:
/// a transfer's claimed size, the bytes staged at once, a job's upload budget, the images of a job. The attack these
/// stop: sixty 1-byte chunk calls each claiming 2 GB used to make the receiver allocate the claimed size up front.
/// (One message's size is Orleans' own check, MaxMessageBodySize, made on the frame's length prefix before the body is
/// read; an oversized frame closes the connection, which is why no test here sends one into the shared cluster.)
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PayloadLimitTests(ClusterFixture fixture)
{
    private static readonly byte[] Digest = SHA256.HashData([1]);

    [Fact]
    public void Put_ChunksClaimingGigabytes_RefusedOverTheLimitsWithoutAllocatingTheClaims()
    {
        var staging = new PayloadStaging(MessageLimits.Default);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int accepted = 0;
        var refusals = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            try
            {
                staging.Put(Claim(Guid.NewGuid(), MessageLimits.Default.MaxTransferBytes));
                accepted++;
            }
            catch (PayloadLimitException e)
            {
                refusals.Add(e.Message);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // 1 GiB claims against a 2 GiB staging limit: two are held (as the one byte each sent), the rest refused.
        Assert.Equal(2, accepted);
        Assert.Equal(58, refusals.Count);
        Assert.Contains("at most 2147483648 bytes may be staged", refusals[0]);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated for 60 one-byte chunks claiming a gigabyte each");
    }

    [Fact]
    public void Put_ClaimOverOneTransfersLimit_Refused()
    {
        var staging = new PayloadStaging(MessageLimits.Default with { MaxTransferBytes = 1 << 20 });

        var e = Assert.Throws<PayloadLimitException>(() => staging.Put(Claim(Guid.NewGuid(), 2L << 30)));

        Assert.Contains("at most 1048576 bytes in one transfer", e.Message);
        Assert.Equal(0, staging.Pending);
    }

    [Fact]
    public void Assembler_MoreChunksClaimedThanBytes_RefusedWithoutAllocating()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<InvalidDataException>(() => new ChunkAssembler(Guid.NewGuid(), int.MaxValue, 10, Digest));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the claimed chunk count was allocated for");
    }

    [Fact]
    public async Task PutChunkAsync_UploadsPastTheShardsShareOfTheJobBudget_Refused()
    {
        // Two of the job's four images: this shard may take half the cluster's 8 MiB per-job budget.
        const string job = "upload-budget";
        IImageShardGrain shard = await SetUpShardAsync(job, images: [0, 1], jobImages: 4);
        long share = ClusterFixture.UploadBudget / 2;

        var over = await Assert.ThrowsAsync<PayloadLimitException>(() => shard.PutChunkAsync(Claim(Guid.NewGuid(), share + 1, job)));
        await shard.PutChunkAsync(Claim(Guid.NewGuid(), share - 1000, job));
        var rest = await Assert.ThrowsAsync<PayloadLimitException>(() => shard.PutChunkAsync(Claim(Guid.NewGuid(), 2000, job)));

        Assert.Contains("left of this receiver's budget", over.Message);
        Assert.Contains("1000 bytes are left", rest.Message);
    }

    [Fact]
    public async Task SubmitAsync_MoreImagesThanTheClusterTakes_RejectedNamingImages()
    {
        const string job = "too-many-images";
        JobPlan plan = await fixture.Grains.GetGrain<ITrainingJobGrain>(job).SubmitAsync(new JobSubmission
        {
            Header = MessageHeader.ForJob(job),
            SpecJson = SpecWire.Serialize(new TrainingSpec()),
            ImageNames = [.. Enumerable.Range(0, ClusterFixture.MaxImages + 1).Select(i => $"image-{i}.png")],
        });

        Assert.False(plan.Accepted);
        Assert.Equal("images", plan.Field);
        Assert.Contains($"at most {ClusterFixture.MaxImages} per job", plan.Error);
    }

    private async Task<IImageShardGrain> SetUpShardAsync(string job, int[] images, int jobImages)
    {
        IImageShardGrain shard = fixture.Grains.GetGrain<IImageShardGrain>(ShardKey.Format(job, 0));
        await shard.InitializeAsync(new ShardSetup
        {
            Header = MessageHeader.ForJob(job),
            SpecJson = SpecWire.Serialize(new TrainingSpec()),
            Images = images,
            MaxPixels = 1_000_000,
            MaxFileBytes = 1L << 30,
            JobImages = jobImages,
        });
        return shard;
    }

    /// <summary>A one-byte chunk claiming a transfer of <paramref name="claimed"/> bytes.</summary>
    private static PayloadChunk Claim(Guid transfer, long claimed, string job = "limits") => new()
    {
        Header = MessageHeader.ForJob(job),
        Transfer = transfer,
        Index = 0,
        Count = 2,
        Offset = 0,
        TotalLength = claimed,
        Digest = Digest,
        Data = [1],
    };
}
