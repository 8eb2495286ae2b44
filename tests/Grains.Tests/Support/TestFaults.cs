using System.Collections.Concurrent;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Abstractions.Tiles;
using Distributed.Grains.Messaging.Payloads;

namespace Distributed.Grains.Tests.Support;

/// <summary>
/// Faults a test arms for one job, injected where a real one strikes: <see cref="LoseNextReplyPull"/> deactivates the
/// shard that is about to hand over a reply's first chunk (as if its silo had died after answering) and answers the
/// pull as the shard's next activation would, with the payload missing.
/// </summary>
public sealed class TestFaults : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, int> PullsToLose = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> Lost = new(StringComparer.Ordinal);

    /// <summary>The next pull of a chunk from any shard of <paramref name="job"/> finds its shard gone.</summary>
    public static void LoseNextReplyPull(string job) => PullsToLose[job] = 1;

    /// <summary>Pulls lost so far for <paramref name="job"/>.</summary>
    public static int LostPulls(string job) => Lost.GetValueOrDefault(job);

    private static readonly ConcurrentDictionary<string, int> TileRoundToLose = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> TilesLost = new(StringComparer.Ordinal);

    /// <summary>
    /// Tile 1 of the first tiled solve of <paramref name="job"/> to reach round <paramref name="round"/> loses its
    /// activation right after answering it, while the other tiles of the round still work: the next round finds a fresh
    /// activation without the tile's state.
    /// </summary>
    public static void LoseTileAfterRound(string job, int round) => TileRoundToLose[job] = round;

    private static readonly ConcurrentDictionary<string, (int Tile, int Round, TestShardGate.Hold Hold)> TileHolds = new(StringComparer.Ordinal);

    /// <summary>Holds tile <paramref name="tile"/>'s step of round <paramref name="round"/> of <paramref name="job"/>'s first tiled solve before it runs, until released.</summary>
    public static TestShardGate.Hold HoldTileStep(string job, int tile, int round)
    {
        var hold = new TestShardGate.Hold(0);
        TileHolds[job] = (tile, round, hold);
        return hold;
    }

    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<SiloAddress, int>> TileServers = new(StringComparer.Ordinal);

    /// <summary>Whether a tile grain of <paramref name="job"/> answered a call on <paramref name="silo"/>.</summary>
    public static bool TileServedOn(string job, SiloAddress silo) => TileServers.TryGetValue(job, out var silos) && silos.ContainsKey(silo);

    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<SiloAddress, int>> ShardServers = new(StringComparer.Ordinal);

    /// <summary>Whether shard <paramref name="shard"/> of <paramref name="job"/> answered a call on <paramref name="silo"/>.</summary>
    public static bool ShardServedOn(string job, int shard, SiloAddress silo) =>
        ShardServers.TryGetValue($"{job}/{shard}", out var silos) && silos.ContainsKey(silo);

    /// <summary>Tile activations lost so far for <paramref name="job"/>.</summary>
    public static int LostTiles(string job) => TilesLost.GetValueOrDefault(job);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is IImageShardGrain && context.InterfaceMethod?.Name == nameof(IImageShardGrain.GetChunkAsync)
            && context.TargetId.Key.ToString() is { } key && ShardKey.Parse(key).Job is { } job
            && PullsToLose.TryRemove(job, out _))
        {
            Lost.AddOrUpdate(job, 1, (_, n) => n + 1);
            context.TargetContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "test: the shard's silo died after it answered"));
            throw new PayloadMissingException($"test: shard {key} is gone with its outbox.");
        }
        if (context.Grain is ITileGrain && context.InterfaceMethod?.Name == nameof(ITileGrain.StepAsync)
            && TileKey.TryParse(context.TargetId.Key.ToString(), out string tileJob, out _, out int tile) && tile == 1
            && context.Request.GetArgument(0) is TileStepCommand step && TileRoundToLose.TryGetValue(tileJob, out int round) && step.Round == round
            && TileRoundToLose.TryRemove(tileJob, out _))
        {
            await context.Invoke();
            TilesLost.AddOrUpdate(tileJob, 1, (_, n) => n + 1);
            context.TargetContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "test: the tile's activation is lost mid-solve"));
            return;
        }
        if (context.Grain is ITileGrain && TileKey.TryParse(context.TargetId.Key.ToString(), out string servedJob, out _, out _)
            && context.TargetContext.Address.SiloAddress is { } server)
            TileServers.GetOrAdd(servedJob, _ => new()).TryAdd(server, 0);
        if (context.Grain is IImageShardGrain && ShardKey.TryParse(context.TargetId.Key.ToString(), out string shardJob, out int shardIndex)
            && context.TargetContext.Address.SiloAddress is { } shardServer)
            ShardServers.GetOrAdd($"{shardJob}/{shardIndex}", _ => new()).TryAdd(shardServer, 0);
        if (context.Grain is ITileGrain && context.InterfaceMethod?.Name == nameof(ITileGrain.StepAsync)
            && TileKey.TryParse(context.TargetId.Key.ToString(), out string heldJob, out _, out int heldTile)
            && context.Request.GetArgument(0) is TileStepCommand held && TileHolds.TryGetValue(heldJob, out var at)
            && at.Tile == heldTile && at.Round == held.Round && TileHolds.TryRemove(heldJob, out _) && at.Hold.Arrive())
            await at.Hold.Released;
        await context.Invoke();
    }
}
