using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Fixtures;

/// <summary>Seeded random tensors and planted problems for the solver and trainer tests.</summary>
internal static class Synthetic
{
    public static Tensor3 Random(int planes, int rows, int cols, int seed, double scale = 1)
    {
        var t = new Tensor3(planes, rows, cols);
        FilterInitializer.FillGaussian(t.Data, seed);
        for (int i = 0; i < t.Length; i++) t.Data[i] *= (float)scale;
        return t;
    }

    /// <summary>Maps with about <paramref name="density"/> of entries nonzero, magnitudes in [0.5, 1.5], random signs.</summary>
    public static Tensor3 SparseMaps(LayerGeometry g, double density, int seed)
    {
        var z = g.NewMaps();
        var rng = new System.Random(seed);
        for (int i = 0; i < z.Length; i++)
            if (rng.NextDouble() < density) z.Data[i] = (float)((0.5 + rng.NextDouble()) * (rng.Next(2) == 0 ? -1 : 1));
        return z;
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    public static double Norm(ReadOnlySpan<float> a) => Math.Sqrt(Dot(a, a));
}
