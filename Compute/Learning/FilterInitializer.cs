using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Learning;

/// <summary>Initial filters: N(0,1) from a seeded generator, then each connected plane normalised (2010 toolbox).</summary>
public static class FilterInitializer
{
    public static FilterBank Gaussian(Connectivity g, int size, int seed)
    {
        var f = new FilterBank(g.Maps, g.Inputs, size);
        FillGaussian(f.Data, seed);
        FilterUpdate.NormalizePlanes(f, g, seed);
        return f;
    }

    /// <summary>Box–Muller over <see cref="Random"/>(seed): the same seed gives the same values on every machine.</summary>
    public static void FillGaussian(Span<float> destination, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < destination.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            destination[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < destination.Length) destination[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
        }
    }
}
