using Distributed.Compute.Tensors;

namespace Distributed.Compute.Features;

/// <summary>How a map's signed coefficients become non-negative features.</summary>
public enum Rectification
{
    /// <summary>|z|: one value per map and block.</summary>
    Abs,

    /// <summary>max(z, 0) and max(−z, 0) as two features: keeps the sign that ℓ1 codes carry (a dark and a light bar).</summary>
    Split,
}

/// <summary>How a p×p block of rectified values becomes one feature.</summary>
public enum Pooling
{
    Avg,
    Max,
}

/// <summary>What <see cref="FeatureReadout"/> does with each chosen layer's maps.</summary>
public sealed record ReadoutSpec(Rectification Rectification, Pooling Pooling, int PoolSize, IReadOnlyList<int>? Layers = null)
{
    public void Validate(int modelLayers)
    {
        if (!Enum.IsDefined(Rectification)) throw new SpecException($"rectify = {Rectification}; allowed abs, split.", "rectify");
        if (!Enum.IsDefined(Pooling)) throw new SpecException($"pool = {Pooling}; allowed avg, max.", "pool");
        if (PoolSize is < 1 or > 4096) throw new SpecException($"pool-size = {PoolSize}; allowed 1..4096.", "pool-size");
        foreach (int l in Layers ?? [])
            if (l < 1 || l > modelLayers) throw new SpecException($"feature layer {l}; the model has layers 1..{modelLayers}.", "feature-layers");
    }

    public static Pooling ParsePooling(string text) => text.Trim().ToLowerInvariant() switch
    {
        "avg" or "average" or "mean" => Pooling.Avg,
        "max" => Pooling.Max,
        _ => throw new SpecException($"--pool: '{text}'; allowed avg, max.", "pool"),
    };

    public static Rectification ParseRectification(string text) => text.Trim().ToLowerInvariant() switch
    {
        "abs" => Rectification.Abs,
        "split" => Rectification.Split,
        _ => throw new SpecException($"--rectify: '{text}'; allowed abs, split.", "rectify"),
    };
}

/// <summary>
/// One feature vector per image from its inferred maps: every chosen layer's maps rectified and pooled over p×p blocks
/// (the last block of a row or column takes what is left, so a map of r rows gives ⌈r/p⌉ block rows), concatenated in
/// layer order. Layout within a layer: [map, block row, block col], and with <see cref="Rectification.Split"/> the
/// positive part's K·B values, then the negative part's. Pure and allocation-light: one pass over each map.
/// </summary>
public static class FeatureReadout
{
    /// <summary>The length of one image's vector for maps of these shapes (one per model layer).</summary>
    public static int Length(ReadoutSpec spec, IReadOnlyList<(int Maps, int Rows, int Cols)> shapes)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shapes);
        int parts = spec.Rectification == Rectification.Split ? 2 : 1, length = 0;
        foreach (int l in LayersOf(spec, shapes.Count))
        {
            var (maps, rows, cols) = shapes[l];
            length += parts * maps * Blocks(rows, spec.PoolSize) * Blocks(cols, spec.PoolSize);
        }
        return length;
    }

    /// <summary>Writes one image's vector (maps: one tensor per model layer) into <paramref name="destination"/>.</summary>
    public static void Read(ReadoutSpec spec, IReadOnlyList<Tensor3> maps, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(maps);
        int expected = Length(spec, maps.Select(m => (m.Planes, m.Rows, m.Cols)).ToArray());
        if (destination.Length != expected) throw new ArgumentException($"destination has {destination.Length} values; these maps give {expected}.", nameof(destination));
        int at = 0;
        foreach (int l in LayersOf(spec, maps.Count))
        {
            Tensor3 z = maps[l];
            int p = spec.PoolSize, blockRows = Blocks(z.Rows, p), blockCols = Blocks(z.Cols, p), perPart = z.Planes * blockRows * blockCols;
            bool split = spec.Rectification == Rectification.Split;
            for (int k = 0; k < z.Planes; k++)
            {
                ReadOnlySpan<float> plane = z.Plane(k);
                for (int br = 0; br < blockRows; br++)
                    for (int bc = 0; bc < blockCols; bc++)
                    {
                        int r0 = br * p, r1 = Math.Min(z.Rows, r0 + p), c0 = bc * p, c1 = Math.Min(z.Cols, c0 + p);
                        double positive = 0, negative = 0;
                        for (int r = r0; r < r1; r++)
                            for (int c = c0; c < c1; c++)
                            {
                                float v = plane[r * z.Cols + c];
                                float pos = split ? Math.Max(v, 0) : Math.Abs(v), neg = split ? Math.Max(-v, 0) : 0;
                                if (spec.Pooling == Pooling.Max) (positive, negative) = (Math.Max(positive, pos), Math.Max(negative, neg));
                                else (positive, negative) = (positive + pos, negative + neg);
                            }
                        if (spec.Pooling == Pooling.Avg)
                        {
                            int n = (r1 - r0) * (c1 - c0);
                            (positive, negative) = (positive / n, negative / n);
                        }
                        int index = at + (k * blockRows + br) * blockCols + bc;
                        destination[index] = (float)positive;
                        if (split) destination[index + perPart] = (float)negative;
                    }
            }
            at += (split ? 2 : 1) * perPart;
        }
    }

    private static IEnumerable<int> LayersOf(ReadoutSpec spec, int modelLayers) =>
        spec.Layers is { Count: > 0 } chosen ? chosen.Select(l => l - 1) : Enumerable.Range(0, modelLayers);

    private static int Blocks(int length, int p) => (length + p - 1) / p;
}
