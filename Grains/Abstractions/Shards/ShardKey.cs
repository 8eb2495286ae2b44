using System.Globalization;
using Distributed.Grains.Abstractions.Jobs;

namespace Distributed.Grains.Abstractions.Shards;

/// <summary>
/// The key of an image-shard grain: <c>"{job}/{shard}"</c>. The shard index after the slash is also what the
/// spreading placement reads to pick a silo.
/// </summary>
public static class ShardKey
{
    public static string Format(string job, int shard)
    {
        JobId.Check(job);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        return $"{job}/{shard.ToString(CultureInfo.InvariantCulture)}";
    }

    public static bool TryParse(ReadOnlySpan<char> key, out string job, out int shard)
    {
        job = "";
        shard = -1;
        int slash = key.LastIndexOf('/');
        if (slash <= 0) return false;
        if (!int.TryParse(key[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out shard)) return false;
        job = key[..slash].ToString();
        return JobId.IsValid(job);
    }

    public static (string Job, int Shard) Parse(string key) => TryParse(key, out string job, out int shard)
        ? (job, shard)
        : throw new ArgumentException($"'{key}' is not a shard key (job/index).", nameof(key));
}
