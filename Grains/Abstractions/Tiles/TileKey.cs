using System.Globalization;
using Distributed.Grains.Abstractions.Jobs;

namespace Distributed.Grains.Abstractions.Tiles;

/// <summary>
/// The key of a tile grain: <c>"{job}/{shard}/{solve}/t{tile}"</c>, the shard that owns the image, one id per attempt
/// at solving it (a fresh set of activations each time, so a restarted solve never meets a previous attempt's state)
/// and the tile's index in the plan. The spreading placement reads shard and tile to pick a silo.
/// </summary>
public static class TileKey
{
    public static string Format(string job, int shard, Guid solve, int tile)
    {
        JobId.Check(job);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfNegative(tile);
        return string.Create(CultureInfo.InvariantCulture, $"{job}/{shard}/{solve:N}/t{tile}");
    }

    public static bool TryParse(ReadOnlySpan<char> key, out string job, out int shard, out int tile)
    {
        job = "";
        shard = tile = -1;
        int slash = key.LastIndexOf('/');
        if (slash <= 0 || key.Length < slash + 3 || key[slash + 1] != 't'
            || !int.TryParse(key[(slash + 2)..], NumberStyles.None, CultureInfo.InvariantCulture, out tile)) return false;
        key = key[..slash];
        slash = key.LastIndexOf('/');
        if (slash <= 0 || !Guid.TryParseExact(key[(slash + 1)..], "N", out _)) return false;
        key = key[..slash];
        slash = key.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(key[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out shard)) return false;
        job = key[..slash].ToString();
        return JobId.IsValid(job);
    }
}
