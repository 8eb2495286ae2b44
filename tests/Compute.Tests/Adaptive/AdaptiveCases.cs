using Distributed.Compute.Adaptive;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Adaptive;

/// <summary>Small adaptive networks with random filters and random switches, for the operator tests.</summary>
internal static class AdaptiveCases
{
    /// <summary>
    /// Up to three layers over a 2-plane 9×10 image: 3 maps 3×3 pooled 2x2x2, 4 maps 2×2 (random doubles) pooled 2x3x1,
    /// 3 maps 2×2 (full); ragged pooling on every axis for the valid boundary.
    /// </summary>
    public static TrainingSpec Spec(Boundary boundary, int depth) => new()
    {
        Model = NetworkModel.Adaptive,
        Solver = InferenceSolver.Fista,
        Boundary = boundary,
        Layers = new[]
        {
            new LayerSpec { Maps = 3, FilterSize = 3, P = 1, Pool = new PoolSize(2, 2, 2) },
            new LayerSpec { Maps = 4, FilterSize = 2, P = 1, Connectivity = ConnectivityKind.RandomDoubles, Pool = new PoolSize(2, 3, 1) },
            new LayerSpec { Maps = 3, FilterSize = 2, P = 1 },
        }.Take(depth).Select((l, i) => i == depth - 1 ? l with { Pool = null } : l).ToArray(),
    };

    public const int Planes = 2, Rows = 9, Cols = 10;

    public static PixelOperator Operator(Boundary boundary, int depth) => ModelGeometry.PixelOperator(Spec(boundary, depth), Planes, Rows, Cols, depth);

    /// <summary>Random filters, zero on unconnected planes, for every layer of the path.</summary>
    public static FilterBank[] Filters(PixelOperator op, int seed)
    {
        var f = new FilterBank[op.Depth];
        for (int j = 0; j < op.Depth; j++)
        {
            LayerGeometry g = op.Layers[j].Geometry;
            f[j] = g.NewFilters();
            FilterInitializer.FillGaussian(f[j].Data, seed + j);
            FilterUpdate.Project(f[j], op.Layers[j].Connectivity, zeroMean: false);   // zeroes unconnected planes
        }
        return f;
    }

    /// <summary>A uniformly random switch in every block.</summary>
    public static int[]?[] Switches(PixelOperator op, int seed)
    {
        var rng = new Random(seed);
        var s = new int[]?[op.Pools.Count];
        for (int j = 0; j < s.Length; j++)
        {
            if (op.Pools[j] is not { } pool) continue;
            s[j] = pool.NewSwitches();
            for (int c = 0; c < pool.PooledLength; c++)
            {
                var (k0, k1, i0, i1, j0, j1) = pool.Bounds(c);
                s[j]![c] = (rng.Next(k0, k1) * pool.Rows + rng.Next(i0, i1)) * pool.Cols + rng.Next(j0, j1);
            }
        }
        return s;
    }
}
