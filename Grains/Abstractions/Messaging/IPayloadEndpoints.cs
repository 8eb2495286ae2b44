namespace Distributed.Grains.Abstractions.Messaging;

/// <summary>A grain that accepts payloads larger than one message: chunks are staged here, then referenced.</summary>
[Alias("distributed.IPayloadReceiver")]
public interface IPayloadReceiver : IGrain
{
    /// <summary>Stages one chunk of a transfer; a later message refers to the transfer by id.</summary>
    [Alias("PutChunk")]
    Task PutChunkAsync(PayloadChunk chunk);
}

/// <summary>A grain whose replies may carry payloads larger than one message: the caller pulls the chunks.</summary>
[Alias("distributed.IPayloadSource")]
public interface IPayloadSource : IGrain
{
    /// <summary>Returns chunk <paramref name="index"/> of a transfer this grain offered in a reply.</summary>
    [Alias("GetChunk")]
    Task<PayloadChunk> GetChunkAsync(MessageHeader header, Guid transfer, int index);
}
