using System.Numerics.Tensors;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// FISTA (Beck and Teboulle 2009) for one image, p = 1: <c>min_z λ/2 ‖F z − y‖² + ‖z‖₁</c>.
/// Step 1/L with L = λ‖FᵀF‖ from power iteration (cached per filter version), then
/// <c>z⁺ = shrink(w − ∇/L, 1/L)</c>, <c>w = z⁺ + (t−1)/t⁺ · (z⁺ − z)</c>.
/// </summary>
public static class FistaInference
{
    /// <param name="z">In: the warm start. Out: the inferred maps.</param>
    /// <param name="filterVersion">Identifies f for the cached Lipschitz bound; pass a new value whenever f changes.</param>
    public static InferenceStats Run(InferenceWorkspace ws, FilterBank f, long filterVersion, Tensor3 y, Tensor3 z, double lambda, FistaOptions options)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(options);
        ws.Geometry.CheckImage(y, nameof(y));
        ws.Geometry.CheckMaps(z, nameof(z));
        double lipschitz = lambda * NormalOperatorNorm(ws, f, filterVersion);
        if (!(lipschitz > 0)) lipschitz = lambda;   // all-zero filters: any step works, the gradient is zero
        float step = (float)(1 / lipschitz);
        Tensor3 w = ws.Maps1, grad = ws.Maps2, r = ws.Residual;
        z.Data.CopyTo(w.Data, 0);
        double t = 1;
        int it = 0;
        while (it < options.MaxIterations)
        {
            it++;
            // ∇ = λ Fᵀ(F w − y); w's support is z⁺'s and z's, so the synthesis runs sparse once the maps are.
            ws.Operator.Synthesize(w, f, r);
            TensorPrimitives.Subtract(r.Data, y.Data, r.Data);
            ws.Operator.Adjoint(r, f, grad);
            double tNext = (1 + Math.Sqrt(1 + 4 * t * t)) / 2;
            float momentum = (float)((t - 1) / tNext);
            // z⁺ = shrink(w − ∇/L, 1/L); w = z⁺ + momentum · (z⁺ − z); z = z⁺: one pass (FistaStep).
            var (change, norm) = FistaStep.Apply(grad.Data, (float)(lambda / lipschitz), step, momentum, w.Data, z.Data);
            t = tNext;
            if (change <= options.Tolerance * options.Tolerance * norm) break;
        }
        return SparseCodingObjective.Evaluate(ws, f, y, z, lambda, 1, it);
    }

    /// <summary>
    /// An upper estimate of ‖FᵀF‖ (largest eigenvalue). Single-plane layers use the filters' frequency responses
    /// (<see cref="SpectralBound"/>). Otherwise 30 power iterations from a fixed start, times 1.02 so the step stays
    /// safe although power iteration approaches from below. Cached in the workspace per filter version.
    /// </summary>
    public static double NormalOperatorNorm(InferenceWorkspace ws, FilterBank f, long filterVersion)
    {
        if (ws.Lipschitz is { } cached && cached.Version == filterVersion) return cached.Value;
        if (SpectralBound.NormalOperatorNorm(f, ws.Geometry) is { } exact)
        {
            ws.Lipschitz = (filterVersion, exact * 1.001);
            return exact * 1.001;
        }
        Tensor3 v = ws.Maps4, u = ws.Maps5;
        // Always from the same start: a warm start would make the estimate depend on which images (and so which
        // filter versions) this workspace saw before, and results on how images are split over shards and threads.
        var rng = new Random(12345);
        for (int i = 0; i < v.Length; i++) v.Data[i] = (float)(rng.NextDouble() - 0.5);
        const int iterations = 30;
        double estimate = 0;
        for (int it = 0; it < iterations; it++)
        {
            double norm = Math.Sqrt(SparseCodingObjective.SumOfSquares(v.Data));
            if (norm == 0) break;
            TensorPrimitives.Multiply(v.Data, (float)(1 / norm), v.Data);
            ws.Operator.Synthesize(v, f, ws.Image2);
            ws.Operator.Adjoint(ws.Image2, f, u);
            estimate = SparseCodingObjective.Dot(v.Data, u.Data);
            u.Data.CopyTo(v.Data, 0);
        }
        double value = estimate * 1.02;
        ws.Lipschitz = (filterVersion, value);
        return value;
    }
}
