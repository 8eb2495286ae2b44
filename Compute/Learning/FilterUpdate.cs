using System.Numerics.Tensors;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Learning;

/// <summary>
/// The two filter solvers on <c>min_f ½ fᵀA f − bᵀf</c> (docs/algorithms.md), both warm-started from the current filters
/// and touching only connected planes:
/// <list type="bullet">
/// <item><see cref="ConjugateGradientNormalize"/>: a few CG steps on A f = b, then each plane f_{k,c} scaled to unit
/// ℓ2 norm (the 2010 toolbox; fast, but not a solution of a constrained problem).</item>
/// <item><see cref="ProjectedGradient"/>: the exact solution of the constrained problem ‖f_k‖ ≤ 1 (and optionally
/// zero mean per plane) by FISTA with projection (SPORCO's problem).</item>
/// </list>
/// </summary>
public static class FilterUpdate
{
    /// <summary>CG on A f = b for <paramref name="steps"/> steps from f, then plane normalisation. Returns the CG steps run.</summary>
    public static async ValueTask<int> ConjugateGradientNormalizeAsync(IFilterSystem system, FilterBank f, Connectivity g, int steps, int reseed, CancellationToken cancellationToken = default)
    {
        Check(system, f, g);
        (int run, _) = await ConjugateGradientAsync(system, f, steps, cancellationToken);
        NormalizePlanes(f, g, reseed);
        return run;
    }

    /// <summary>
    /// Warm-started CG on A f = b (f in, f out) for at most <paramref name="steps"/> steps; stops early on an exact
    /// solve. Returns the steps run and the final residual norm ‖b − A f‖.
    /// </summary>
    public static async ValueTask<(int Steps, double ResidualNorm)> ConjugateGradientAsync(IFilterSystem system, FilterBank f, int steps, CancellationToken cancellationToken = default)
    {
        var r = new FilterBank(f.Maps, f.Inputs, f.Size);
        var d = new FilterBank(f.Maps, f.Inputs, f.Size);
        var ad = new FilterBank(f.Maps, f.Inputs, f.Size);
        await system.ApplyAsync(f, ad, cancellationToken);
        TensorPrimitives.Subtract(system.B.Data, ad.Data, r.Data);   // b and A f vanish on unconnected planes
        r.Data.CopyTo(d.Data, 0);
        double rr = SumSquares(r.Data);
        int it = 0;
        for (; it < steps && rr > 0; it++)
        {
            await system.ApplyAsync(d, ad, cancellationToken);
            double dad = Dot(d.Data, ad.Data);
            if (!(dad > 0)) break;
            float alpha = (float)(rr / dad);
            TensorPrimitives.MultiplyAdd(d.Data, alpha, f.Data, f.Data);
            TensorPrimitives.MultiplyAdd(ad.Data, -alpha, r.Data, r.Data);
            double next = SumSquares(r.Data);
            TensorPrimitives.MultiplyAdd(d.Data, (float)(next / rr), r.Data, d.Data);
            rr = next;
        }
        return (it, Math.Sqrt(rr));
    }

    /// <summary>
    /// Projected FISTA on ½fᵀAf − bᵀf subject to ‖f_k‖₂ ≤ 1 over all planes of map k (and Σ f_{k,c} = 0 per plane when
    /// <paramref name="zeroMean"/>); step 1/L with L from power iteration on A. Returns the objective reached.
    /// </summary>
    /// <param name="eigenvector">Optional power-iteration state carried between calls (A changes little between epochs).</param>
    public static ValueTask<double> ProjectedGradientAsync(IFilterSystem system, FilterBank f, Connectivity g, int iterations, bool zeroMean,
        FilterBank? eigenvector = null, CancellationToken cancellationToken = default) =>
        ProjectedGradientAsync(system, f, g, iterations, zeroMean, eigenvector, WarmPowerIterations, evaluateObjective: true, cancellationToken);

    /// <summary>
    /// As above, with <paramref name="warmPowerIterations"/> power iterations when <paramref name="eigenvector"/> holds
    /// an estimate, and the closing objective (one more A·f) only if <paramref name="evaluateObjective"/>; NaN otherwise.
    /// </summary>
    public static async ValueTask<double> ProjectedGradientAsync(IFilterSystem system, FilterBank f, Connectivity g, int iterations, bool zeroMean,
        FilterBank? eigenvector, int warmPowerIterations, bool evaluateObjective, CancellationToken cancellationToken = default)
    {
        Check(system, f, g);
        Project(f, g, zeroMean);
        double lipschitz = await LargestEigenvalueAsync(system, f, eigenvector, warmPowerIterations, cancellationToken);
        if (!(lipschitz > 0)) return evaluateObjective ? await ObjectiveAsync(system, f, cancellationToken) : double.NaN;
        float step = (float)(1 / lipschitz);
        var w = f.Clone();
        var grad = new FilterBank(f.Maps, f.Inputs, f.Size);
        var next = new FilterBank(f.Maps, f.Inputs, f.Size);
        double t = 1;
        for (int it = 0; it < iterations; it++)
        {
            await system.ApplyAsync(w, grad, cancellationToken);
            TensorPrimitives.Subtract(grad.Data, system.B.Data, grad.Data);   // ∇ = A w − b
            TensorPrimitives.MultiplyAdd(grad.Data, -step, w.Data, next.Data);
            Project(next, g, zeroMean);
            double tNext = (1 + Math.Sqrt(1 + 4 * t * t)) / 2;
            float momentum = (float)((t - 1) / tNext);
            TensorPrimitives.Subtract(next.Data, f.Data, grad.Data);
            TensorPrimitives.MultiplyAdd(grad.Data, momentum, next.Data, w.Data);
            next.Data.CopyTo(f.Data, 0);
            t = tNext;
        }
        return evaluateObjective ? await ObjectiveAsync(system, f, cancellationToken) : double.NaN;
    }

    /// <summary>½ fᵀA f − bᵀf.</summary>
    public static async ValueTask<double> ObjectiveAsync(IFilterSystem system, FilterBank f, CancellationToken cancellationToken = default)
    {
        var af = new FilterBank(f.Maps, f.Inputs, f.Size);
        await system.ApplyAsync(f, af, cancellationToken);
        return 0.5 * Dot(f.Data, af.Data) - Dot(f.Data, system.B.Data);
    }

    /// <summary>
    /// Scales each connected plane f_{k,c} to unit ℓ2 norm and zeroes unconnected ones. A dead (all-zero) plane is
    /// redrawn from N(0,1) with a generator seeded by (reseed, k, c), so a fixed seed still gives a fixed result.
    /// </summary>
    public static void NormalizePlanes(FilterBank f, Connectivity g, int reseed)
    {
        for (int k = 0; k < f.Maps; k++)
            for (int c = 0; c < f.Inputs; c++)
            {
                Span<float> plane = f.Plane(k, c);
                if (!g[k, c])
                {
                    plane.Clear();
                    continue;
                }
                double norm = Math.Sqrt(SumSquares(plane));
                if (!(norm > 1e-12) || double.IsInfinity(norm))
                {
                    FilterInitializer.FillGaussian(plane, unchecked(reseed * 1_000_003 + k * 7919 + c));   // not HashCode: it is salted per process
                    norm = Math.Sqrt(SumSquares(plane));
                }
                TensorPrimitives.Multiply(plane, (float)(1 / norm), plane);
            }
    }

    /// <summary>The projection onto {zero mean per plane (optional)} ∩ {‖f_k‖ ≤ 1}; exact, since the ball is centred in the subspace.</summary>
    public static void Project(FilterBank f, Connectivity g, bool zeroMean)
    {
        for (int k = 0; k < f.Maps; k++)
        {
            double sq = 0;
            for (int c = 0; c < f.Inputs; c++)
            {
                Span<float> plane = f.Plane(k, c);
                if (!g[k, c])
                {
                    plane.Clear();
                    continue;
                }
                if (zeroMean)
                {
                    float mean = TensorPrimitives.Sum(plane) / plane.Length;
                    TensorPrimitives.Subtract(plane, mean, plane);
                }
                sq += SumSquares(plane);
            }
            if (sq > 1)
            {
                float scale = (float)(1 / Math.Sqrt(sq));
                for (int c = 0; c < f.Inputs; c++) TensorPrimitives.Multiply(f.Plane(k, c), scale, f.Plane(k, c));
            }
        }
    }

    /// <summary>Power iterations from a previous eigenvector estimate, unless the caller asks for fewer.</summary>
    public const int WarmPowerIterations = 8;

    /// <summary>
    /// Largest eigenvalue of A, times 1.02 for a safe step: 30 power iterations from a fixed start, or 8 from
    /// <paramref name="eigenvector"/> when it holds a previous estimate (it is updated in place).
    /// </summary>
    public static ValueTask<double> LargestEigenvalueAsync(IFilterSystem system, FilterBank shape, FilterBank? eigenvector = null,
        CancellationToken cancellationToken = default) =>
        LargestEigenvalueAsync(system, shape, eigenvector, WarmPowerIterations, cancellationToken);

    /// <summary>As above, with <paramref name="warmIterations"/> (at least 1) iterations from a previous estimate.</summary>
    public static async ValueTask<double> LargestEigenvalueAsync(IFilterSystem system, FilterBank shape, FilterBank? eigenvector, int warmIterations,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(warmIterations);
        var v = new FilterBank(shape.Maps, shape.Inputs, shape.Size);
        var av = new FilterBank(shape.Maps, shape.Inputs, shape.Size);
        bool warm = eigenvector is not null && eigenvector.Data.Any(x => x != 0);
        if (warm) eigenvector!.Data.CopyTo(v.Data, 0);
        else FilterInitializer.FillGaussian(v.Data, 4242);
        double estimate = 0;
        for (int it = 0; it < (warm ? warmIterations : 30); it++)
        {
            double norm = Math.Sqrt(SumSquares(v.Data));
            if (!(norm > 0)) return 0;
            TensorPrimitives.Multiply(v.Data, (float)(1 / norm), v.Data);
            await system.ApplyAsync(v, av, cancellationToken);
            estimate = Dot(v.Data, av.Data);
            if (eigenvector is not null) v.Data.CopyTo(eigenvector.Data, 0);
            av.Data.CopyTo(v.Data, 0);
        }
        return estimate * 1.02;
    }

    private static void Check(IFilterSystem system, FilterBank f, Connectivity g)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(g);
        if (!system.B.SameShape(f)) throw new ArgumentException($"filters are {f}; the system is for {system.B}.", nameof(f));
        if (g.Maps != f.Maps || g.Inputs != f.Inputs) throw new ArgumentException($"connectivity [{g.Maps}, {g.Inputs}] does not match filters {f}.", nameof(g));
    }

    private static double SumSquares(ReadOnlySpan<float> x) => Dot(x, x);

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
