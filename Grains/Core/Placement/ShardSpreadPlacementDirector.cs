using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Abstractions.Tiles;
using Orleans.Runtime.Placement;

namespace Distributed.Grains.Placement;

/// <summary>
/// Picks silo <c>index mod S</c> (a tile: <c>(shard + tile) mod S</c>) from the compatible silos sorted by address, so every silo that decides a placement
/// sees the same order and the same answer. Membership changes move only future activations.
/// </summary>
public sealed class ShardSpreadPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        SiloAddress[] silos = context.GetCompatibleSilos(target);
        if (silos.Length == 0)
            throw new OrleansException($"no silo can host {target.GrainIdentity}: none is compatible with its interface.");
        return Task.FromResult(Choose(target.GrainIdentity.Key.ToString(), silos));
    }

    /// <summary>The silo for <paramref name="key"/> among <paramref name="silos"/> (any order): index mod count, else random.</summary>
    public static SiloAddress Choose(string key, IReadOnlyList<SiloAddress> silos)
    {
        ArgumentNullException.ThrowIfNull(silos);
        if (silos.Count == 0) throw new ArgumentException("no silos to choose from.", nameof(silos));
        SiloAddress[] sorted = [.. silos];
        Array.Sort(sorted, static (a, b) => a.CompareTo(b));
        if (ShardKey.TryParse(key, out _, out int shard)) return sorted[shard % sorted.Length];
        // A tile of shard i's image: tile t on silo (i + t) mod S, so an image's tiles spread over every silo from its owner's.
        if (TileKey.TryParse(key, out _, out int owner, out int tile)) return sorted[(int)(((long)owner + tile) % sorted.Length)];
        return sorted[Random.Shared.Next(sorted.Length)];
    }
}
