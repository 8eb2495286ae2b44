using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Abstractions.Tiles;

/// <summary>
/// One tile of a large image's coordinate-descent solve (key <see cref="TileKey"/>), placed over the silos like the
/// shards. The shard that owns the image opens it with the tile's frame, sends it one step per round of the solve
/// (the border moves routed to it in, its own border moves out) and collects its owned maps. Its state is soft: an
/// activation that lost it (its silo died, it was deactivated) answers <see cref="TileLostException"/>, and the owner
/// solves the image again from its warm start over fresh tiles.
/// </summary>
[Alias("distributed.ITileGrain")]
public interface ITileGrain : IGrainWithStringKey, IPayloadReceiver, IPayloadSource
{
    /// <summary>Builds the tile from its frame (payloads staged beforehand when over the message limit).</summary>
    [Alias("Open")]
    Task OpenAsync(TileOpen open);

    /// <summary>One round of the solve (<c>CoordinateDescentTile.Step</c>).</summary>
    [Alias("Step")]
    Task<TileStepReply> StepAsync(TileStepCommand command);

    /// <summary>The owned rectangle's nonzeros (pulled in chunks when over the limit).</summary>
    [Alias("Collect")]
    Task<TileOwnedMaps> CollectAsync(MessageHeader header);

    /// <summary>Ends the tile: its activation goes once idle.</summary>
    [Alias("Close")]
    Task CloseAsync(MessageHeader header);
}
