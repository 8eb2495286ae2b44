using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Messaging.Payloads;

namespace Distributed.Grains.Tests.Messaging;

public sealed class ChunkAssemblerTests
{
    private static readonly MessageHeader Header = new("unit", 0, 1, new Distributed.Compute.Training.FilterVersion(0, 1));

    [Theory]
    [InlineData(0, 10, 1)]
    [InlineData(1, 10, 1)]
    [InlineData(10, 10, 1)]
    [InlineData(11, 10, 2)]
    [InlineData(100_001, 1_000, 101)]
    public void ChunkCount_Lengths_CeilingAtLeastOne(long length, int chunkBytes, int expected) =>
        Assert.Equal(expected, PayloadChunker.ChunkCount(length, chunkBytes));

    [Fact]
    public void Complete_ChunksOutOfOrderWithDuplicate_ReturnsPayload()
    {
        byte[] payload = Bytes(10_007);
        IReadOnlyList<PayloadChunk> chunks = PayloadChunker.Split(Header, payload, 1_000, out Payload reference);
        ChunkAssembler assembler = ChunkAssembler.For(chunks[0]);

        foreach (PayloadChunk chunk in chunks.Reverse()) assembler.Add(chunk);
        assembler.Add(chunks[3]);

        Assert.Equal(11, reference.Chunks);
        Assert.True(assembler.IsComplete);
        Assert.Equal(payload, assembler.Complete());
    }

    [Fact]
    public void Complete_ChunkMissing_ThrowsNamingTheChunk()
    {
        IReadOnlyList<PayloadChunk> chunks = PayloadChunker.Split(Header, Bytes(5_000), 1_000, out _);
        ChunkAssembler assembler = ChunkAssembler.For(chunks[0]);
        foreach (PayloadChunk chunk in chunks.Where(c => c.Index != 2)) assembler.Add(chunk);

        var e = Assert.Throws<InvalidDataException>(assembler.Complete);
        Assert.Contains("first: 2", e.Message);
    }

    [Fact]
    public void Complete_ChunkBytesCorrupted_ThrowsDigestMismatch()
    {
        IReadOnlyList<PayloadChunk> chunks = PayloadChunker.Split(Header, Bytes(3_000), 1_000, out _);
        byte[] tampered = (byte[])chunks[1].Data.Clone();
        tampered[17] ^= 0x40;
        ChunkAssembler assembler = ChunkAssembler.For(chunks[0]);
        assembler.Add(chunks[0]);
        assembler.Add(chunks[1] with { Data = tampered });
        assembler.Add(chunks[2]);

        var e = Assert.Throws<InvalidDataException>(assembler.Complete);
        Assert.Contains("SHA-256", e.Message);
    }

    [Fact]
    public void Add_ChunkOfAnotherTransfer_Throws()
    {
        IReadOnlyList<PayloadChunk> a = PayloadChunker.Split(Header, Bytes(2_000), 1_000, out _);
        IReadOnlyList<PayloadChunk> b = PayloadChunker.Split(Header, Bytes(2_000), 1_000, out _);
        ChunkAssembler assembler = ChunkAssembler.For(a[0]);

        Assert.Throws<InvalidDataException>(() => assembler.Add(b[1]));
    }

    [Fact]
    public void Resolve_StagedTransfer_ReturnsBytesOnceThenForgets()
    {
        byte[] payload = Bytes(4_500);
        IReadOnlyList<PayloadChunk> chunks = PayloadChunker.Split(Header, payload, 1_000, out Payload reference);
        var staging = new PayloadStaging();
        foreach (PayloadChunk chunk in chunks) staging.Put(chunk);

        Assert.Equal(payload, staging.Resolve(reference));
        Assert.Equal(0, staging.Pending);
        Assert.Throws<InvalidDataException>(() => staging.Resolve(reference));
    }

    [Fact]
    public void Take_OfferOverLimit_ChunksUnderLimitReassembleToPayload()
    {
        var limits = new MessageLimits(MessageLimits.MinimumMaxMessageBytes);
        byte[] payload = Bytes(3 * limits.PayloadBytes + 5);
        var outbox = new PayloadOutbox();

        Payload reference = outbox.Offer(payload, limits);
        var assembler = new ChunkAssembler(reference.Transfer, reference.Chunks, reference.Length, reference.Digest);
        for (int i = 0; i < reference.Chunks; i++)
        {
            PayloadChunk chunk = outbox.Take(Header, reference.Transfer, i, limits);
            Assert.True(chunk.Data.Length <= limits.PayloadBytes, $"chunk {i} has {chunk.Data.Length} bytes, over {limits.PayloadBytes}");
            assembler.Add(chunk);
        }

        Assert.Equal(4, reference.Chunks);
        Assert.Equal(payload, assembler.Complete());
        Assert.Equal(0, outbox.Held);
    }

    [Fact]
    public void Offer_PayloadUnderLimit_Inline()
    {
        var limits = new MessageLimits(MessageLimits.MinimumMaxMessageBytes);
        Payload payload = new PayloadOutbox().Offer(Bytes(limits.PayloadBytes), limits);
        Assert.True(payload.IsInline);
    }

    private static byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }
}
