using System.Globalization;

namespace Distributed.Compute.Training;

/// <summary>
/// The per-shard memory budget (<c>--shard-memory</c>): bytes for a shard's decoded images and the state it keeps
/// between passes. Sizes are written as bytes or with a binary suffix: 512M, 2G, 64K.
/// </summary>
public static class ShardMemory
{
    /// <summary>The smallest default, for machines that report very little memory.</summary>
    public const long MinimumDefault = 64L << 20;

    /// <summary>
    /// A quarter of the memory this process may use (the GC's view: the machine's, or the container's limit), split
    /// evenly over <paramref name="shards"/> shards in the process; the rest is left for the dense buffers of images in
    /// flight, the filter statistics and the runtime.
    /// </summary>
    public static long Default(int shards)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shards);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return Math.Max(MinimumDefault, available / 4 / shards);
    }

    /// <summary>Parses "123", "64K", "512M", "2G" (binary units, case-insensitive); throws a <see cref="SpecException"/> on anything else.</summary>
    public static long Parse(string text, string field = "shard-memory")
    {
        string t = (text ?? "").Trim();
        long unit = 1;
        if (t.Length > 0)
        {
            char last = char.ToUpperInvariant(t[^1]);
            unit = last switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 1 };
            if (unit != 1) t = t[..^1];
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value * unit > long.MaxValue / 2)
            throw new SpecException($"--{field}: '{text}'; give a size in bytes > 0, optionally with K, M or G (e.g. 512M).", field);
        return (long)(value * unit);
    }

    /// <summary>A size for people: 1.5 MiB, 640 KiB.</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.##} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.##} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.##} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
