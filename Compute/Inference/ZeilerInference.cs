using System.Numerics.Tensors;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>One step of Zeiler inference, for observers: E_β = λ/2‖Fz − y‖² + β/2‖z − x‖² + Σ|x|^p after it.</summary>
public readonly record struct ZeilerStep(int BetaIndex, double Beta, bool IsXStep, double Energy);

/// <summary>
/// Zeiler et al. 2010 inference of one image with the filters fixed:
/// <c>min_z λ/2 ‖F z − y‖² + Σ|z|^p</c> through the auxiliary x and the split energy
/// <c>E_β(z, x) = λ/2 ‖F z − y‖² + β/2 ‖z − x‖² + Σ|x|^p</c>, β increasing:
/// x-step exact and elementwise (<see cref="Shrinkage"/>), z-step a few warm-started CG steps on
/// <c>(λ FᵀF + β I) z = λ Fᵀ y + β x</c>. The returned maps are the final x (exactly sparse; z − x = O(1/β)).
/// </summary>
public static class ZeilerInference
{
    /// <param name="z">In: the warm start (zeros the first time). Out: the inferred maps.</param>
    public static InferenceStats Run(InferenceWorkspace ws, FilterBank f, Tensor3 y, Tensor3 z, double lambda, double p,
        ZeilerOptions options, Action<ZeilerStep>? observer = null)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(options);
        ws.Geometry.CheckImage(y, nameof(y));
        ws.Geometry.CheckMaps(z, nameof(z));
        Tensor3 x = ws.Maps1, fty = ws.Maps2;

        ws.Operator.Adjoint(y, f, fty);
        TensorPrimitives.Multiply(fty.Data, (float)lambda, fty.Data);   // λ Fᵀ y, fixed across β

        double beta = options.Beta0;
        int steps = 0;
        for (int t = 0; t < options.BetaSteps; t++, beta *= options.BetaIncrease)
            for (int round = 0; round < options.RoundsPerBeta; round++)
            {
                Shrinkage.Apply(z.Data, p, beta, x.Data);
                if (observer is not null) observer(new ZeilerStep(t, beta, true, SplitEnergy(ws, f, y, z, x, lambda, p, beta)));
                SolveZ(ws, f, z, x, fty, lambda, beta, options.CgSteps);
                steps++;
                if (observer is not null) observer(new ZeilerStep(t, beta, false, SplitEnergy(ws, f, y, z, x, lambda, p, beta)));
            }

        double lastBeta = options.Beta0 * Math.Pow(options.BetaIncrease, options.BetaSteps - 1);
        Shrinkage.Apply(z.Data, p, lastBeta, z.Data);
        return SparseCodingObjective.Evaluate(ws, f, y, z, lambda, p, steps);
    }

    /// <summary>
    /// Warm-started CG on <c>(λFᵀF + βI) z = λFᵀy + βx</c>: each step lowers that quadratic, so E_β never rises.
    /// </summary>
    private static void SolveZ(InferenceWorkspace ws, FilterBank f, Tensor3 z, Tensor3 x, Tensor3 fty, double lambda, double beta, int steps)
    {
        Tensor3 r = ws.Maps3, d = ws.Maps4, ad = ws.Maps5;
        ApplyNormal(ws, f, z, lambda, beta, ad);
        // r = λFᵀy + βx − (λFᵀF + βI) z
        TensorPrimitives.MultiplyAdd(x.Data, (float)beta, fty.Data, r.Data);
        TensorPrimitives.Subtract(r.Data, ad.Data, r.Data);
        r.Data.CopyTo(d.Data, 0);
        double rr = SparseCodingObjective.SumOfSquares(r.Data);
        for (int it = 0; it < steps && rr > 0; it++)
        {
            ApplyNormal(ws, f, d, lambda, beta, ad);
            double dad = SparseCodingObjective.Dot(d.Data, ad.Data);
            if (!(dad > 0)) break;
            float alpha = (float)(rr / dad);
            TensorPrimitives.MultiplyAdd(d.Data, alpha, z.Data, z.Data);
            TensorPrimitives.MultiplyAdd(ad.Data, -alpha, r.Data, r.Data);
            double rrNext = SparseCodingObjective.SumOfSquares(r.Data);
            TensorPrimitives.MultiplyAdd(d.Data, (float)(rrNext / rr), r.Data, d.Data);
            rr = rrNext;
        }
    }

    /// <summary>destination = λ Fᵀ(F v) + β v.</summary>
    private static void ApplyNormal(InferenceWorkspace ws, FilterBank f, Tensor3 v, double lambda, double beta, Tensor3 destination)
    {
        ws.Operator.Synthesize(v, f, ws.Image2);
        ws.Operator.Adjoint(ws.Image2, f, destination);
        TensorPrimitives.Multiply(destination.Data, (float)lambda, destination.Data);
        TensorPrimitives.MultiplyAdd(v.Data, (float)beta, destination.Data, destination.Data);
    }

    private static double SplitEnergy(InferenceWorkspace ws, FilterBank f, Tensor3 y, Tensor3 z, Tensor3 x, double lambda, double p, double beta)
    {
        ws.Operator.Synthesize(z, f, ws.Image2);
        TensorPrimitives.Subtract(ws.Image2.Data, y.Data, ws.Image2.Data);
        double data = 0.5 * lambda * SparseCodingObjective.SumOfSquares(ws.Image2.Data);
        double coupling = 0, sparsity = 0;
        for (int i = 0; i < z.Length; i++)
        {
            double dz = (double)z.Data[i] - x.Data[i];
            coupling += dz * dz;
            if (x.Data[i] != 0) sparsity += Math.Pow(Math.Abs(x.Data[i]), p);
        }
        return data + 0.5 * beta * coupling + sparsity;
    }
}
