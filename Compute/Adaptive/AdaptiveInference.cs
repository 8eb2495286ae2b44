using System.Numerics.Tensors;
using Distributed.Compute.Inference;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Adaptive;

/// <summary>
/// Inference of layer l's maps against the image (Zeiler, Taylor, Fergus 2011):
/// <c>min_{z, s} λ/2 ‖R_l(s) z − y‖² + ‖z‖₁</c> with R_l = F_1 U_1 … F_l (<see cref="PixelOperator"/>) and s the switches
/// of the pooled layers below.
/// <para>For fixed switches the problem is convex and FISTA solves it exactly as <see cref="FistaInference"/> does:
/// <c>z⁺ = shrink(w − (λ/L) R_lᵀ(R_l w − y), 1/L)</c> with L = λ‖R_lᵀR_l‖ from power iteration, times 1.02: 8 steps
/// warm-started from the image's own previous vector, or 30 from a fixed start when it has none (all zero). The
/// vector belongs to the image, not to the workspace, so the result does not depend on which images a worker ran
/// before: a cold start (z = 0, zero vector) is a function of the image, filters and switches alone.</para>
/// <para>Switch refresh, every <see cref="AdaptiveOptions.SwitchRefreshInterval"/> iterations at the current z: one
/// synthesis leaves each lower layer j's top-down maps x_j = U_j F_{j+1} … F_l z, whose value at switch q0 of block c is
/// the pooled value p; one adjoint leaves g_j = R_jᵀ(R_l z − y). Moving p from q0 to q changes the data term by
/// p (g_j[q] − g_j[q0]) + ½p² ‖R_j e_q − R_j e_{q0}‖²; with the second term estimated as ½p²(ε_q + ε_{q0}), ε the pixel
/// energy of one unit of that map (exact for layer 1's interior units; above, each input plane's energy is the mean
/// over its pooled maps, as if the projections of distinct units did not overlap), every block moves its switch to
/// the position with the most negative estimate, if any. All layers' proposals are then applied together and kept only
/// if the exact data term ½‖R_l z − y‖² falls; when kept, the momentum restarts and the step is re-estimated (4 warm
/// power iterations), since R_l changed. So a refresh never raises the objective at z.</para>
/// The pooling of the top layer itself is not part of its inference (unlike the paper's pool/unpool inside the ISTA
/// loop): layer 1 then equals the 2010 model's layer 1, and each fixed-switch subproblem stays convex.
/// </summary>
public static class AdaptiveInference
{
    /// <param name="f">Filters of layers 1 … l (layer l last).</param>
    /// <param name="switches">In: the lower layers' switches (one entry per pooling of the path, null where a layer is
    /// not pooled). Out: the refreshed switches. The arrays are overwritten in place.</param>
    /// <param name="z">In: the warm start. Out: the inferred maps.</param>
    /// <param name="power">In: this image's last power-iteration vector, shaped like z (all zero: none yet). Out: the new one.</param>
    public static AdaptiveStats Run(AdaptiveWorkspace ws, IReadOnlyList<FilterBank> f, Tensor3 y, Tensor3 z, int[]?[] switches, Tensor3 power, double lambda, FistaOptions fista, AdaptiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(fista);
        ArgumentNullException.ThrowIfNull(options);
        PixelOperator op = ws.Operator;
        op.Bottom.CheckImage(y, nameof(y));
        op.Top.CheckMaps(z, nameof(z));
        op.Top.CheckMaps(power, nameof(power));
        for (int j = 0; j < op.Pools.Count; j++) op.Pools[j]?.CheckSwitches(switches[j]!, nameof(switches));
        bool refreshes = options.SwitchRefreshInterval > 0 && op.Pools.Any(p => p is not null);
        if (refreshes) EstimateUnitEnergies(op, f, ws.Energies);

        double lipschitz = Lipschitz(ws, f, switches, power, lambda, warmIterations: 8);
        Tensor3 w = ws.Maps1, grad = ws.Maps2, next = ws.Maps3, r = ws.Residual;
        z.Data.CopyTo(w.Data, 0);
        double t = 1;
        int it = 0, accepted = 0, proposed = 0;
        while (it < fista.MaxIterations)
        {
            bool refreshed = false;
            if (refreshes && it > 0 && it % options.SwitchRefreshInterval == 0)
            {
                var outcome = RefreshSwitches(ws, f, y, z, switches);
                proposed += outcome.Proposed ? 1 : 0;
                if (outcome.Accepted)
                {
                    accepted++;
                    refreshed = true;
                    lipschitz = Lipschitz(ws, f, switches, power, lambda, warmIterations: 4);
                    z.Data.CopyTo(w.Data, 0);
                    t = 1;
                }
            }
            it++;
            // ∇ = λ R_lᵀ(R_l w − y)
            op.Synthesize(w, f, switches, r);
            TensorPrimitives.Subtract(r.Data, y.Data, r.Data);
            op.Adjoint(r, f, switches, grad);
            TensorPrimitives.MultiplyAdd(grad.Data, -(float)(lambda / lipschitz), w.Data, next.Data);
            Shrinkage.SoftThreshold(next.Data, (float)(1 / lipschitz), next.Data);

            double tNext = (1 + Math.Sqrt(1 + 4 * t * t)) / 2;
            float momentum = (float)((t - 1) / tNext);
            TensorPrimitives.Subtract(next.Data, z.Data, grad.Data);   // change = z⁺ − z, in grad (free now)
            double change = SparseCodingObjective.SumOfSquares(grad.Data);
            TensorPrimitives.MultiplyAdd(grad.Data, momentum, next.Data, w.Data);
            next.Data.CopyTo(z.Data, 0);
            t = tNext;
            if (!refreshed && change <= fista.Tolerance * fista.Tolerance * SparseCodingObjective.SumOfSquares(z.Data)) break;
        }
        return new AdaptiveStats(Evaluate(ws, f, y, z, switches, lambda, it), proposed, accepted);
    }

    /// <summary>E = λ/2 ‖R_l z − y‖² + ‖z‖₁ and its reported figures (leaves R_l z − y in the workspace's residual).</summary>
    public static InferenceStats Evaluate(AdaptiveWorkspace ws, IReadOnlyList<FilterBank> f, Tensor3 y, Tensor3 z, IReadOnlyList<int[]?> switches, double lambda, int iterations)
    {
        ArgumentNullException.ThrowIfNull(ws);
        Tensor3 r = ws.Residual;
        ws.Operator.Synthesize(z, f, switches, r);
        TensorPrimitives.Subtract(r.Data, y.Data, r.Data);
        double sq = SparseCodingObjective.SumOfSquares(r.Data);
        long nonzeros = 0;
        double sparsity = 0;
        foreach (float v in z.Data)
        {
            if (v == 0) continue;
            nonzeros++;
            sparsity += Math.Abs(v);
        }
        return new InferenceStats(0.5 * lambda * sq, sparsity, nonzeros, z.Length, sq, y.Length, SparseCodingObjective.Psnr(y.Data, sq), iterations);
    }

    /// <summary>
    /// An upper estimate of λ‖R_lᵀR_l‖ for these switches, times 1.02 so the step stays safe although power iteration
    /// approaches from below: <paramref name="warmIterations"/> steps from <paramref name="power"/>, or 30 from a fixed
    /// random start when it is all zero. The last vector is written back to <paramref name="power"/>.
    /// </summary>
    public static double Lipschitz(AdaptiveWorkspace ws, IReadOnlyList<FilterBank> f, IReadOnlyList<int[]?> switches, Tensor3 power, double lambda, int warmIterations)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(power);
        Tensor3 v = ws.Maps4, u = ws.Maps5;
        int iterations = warmIterations;
        if (SparseCodingObjective.SumOfSquares(power.Data) == 0)
        {
            var rng = new Random(12345);
            for (int i = 0; i < v.Length; i++) v.Data[i] = (float)(rng.NextDouble() - 0.5);
            iterations = 30;
        }
        else power.Data.CopyTo(v.Data, 0);
        double estimate = 0;
        for (int it = 0; it < iterations; it++)
        {
            double norm = Math.Sqrt(SparseCodingObjective.SumOfSquares(v.Data));
            if (!(norm > 0)) break;
            TensorPrimitives.Multiply(v.Data, (float)(1 / norm), v.Data);
            ws.Operator.Synthesize(v, f, switches, ws.Residual);
            ws.Operator.Adjoint(ws.Residual, f, switches, u);
            estimate = SparseCodingObjective.Dot(v.Data, u.Data);
            u.Data.CopyTo(v.Data, 0);
        }
        v.Data.CopyTo(power.Data, 0);
        double value = lambda * estimate * 1.02;
        return value > 0 ? value : lambda;   // all-zero filters: any step works, the gradient is zero
    }

    /// <summary>One proposal of new switches for every pooled lower layer, kept only if the exact data term at z falls.</summary>
    private static (bool Proposed, bool Accepted) RefreshSwitches(AdaptiveWorkspace ws, IReadOnlyList<FilterBank> f, Tensor3 y, Tensor3 z, int[]?[] switches)
    {
        PixelOperator op = ws.Operator;
        Tensor3 r = ws.Residual;
        op.Synthesize(z, f, switches, r);
        TensorPrimitives.Subtract(r.Data, y.Data, r.Data);
        double before = SparseCodingObjective.SumOfSquares(r.Data);
        op.Adjoint(r, f, switches, ws.Maps5);   // leaves g_j = R_jᵀ r for every lower layer
        bool changed = false;
        for (int j = 0; j < op.Pools.Count; j++)
        {
            if (op.Pools[j] is not { } pool) continue;
            changed |= Propose(pool, op.TopDownMaps(j).Data, op.UpwardGradient(j).Data, ws.Energies[j], switches[j]!, ws.Candidates[j]!);
        }
        if (!changed) return (false, false);
        for (int j = 0; j < switches.Length; j++)
        {
            if (switches[j] is null) continue;
            switches[j]!.CopyTo(ws.Backup[j]!, 0);
            ws.Candidates[j]!.CopyTo(switches[j]!, 0);
        }
        op.Synthesize(z, f, switches, r);
        TensorPrimitives.Subtract(r.Data, y.Data, r.Data);
        if (SparseCodingObjective.SumOfSquares(r.Data) < before) return (true, true);
        for (int j = 0; j < switches.Length; j++) ws.Backup[j]?.CopyTo(switches[j]!, 0);
        return (true, false);
    }

    /// <summary>
    /// For every block: the position minimising p (g[q] − g[q0]) + ½p²(ε_q + ε_{q0}) over q ≠ q0 when that is negative,
    /// else the current switch q0. Returns whether any switch moved.
    /// </summary>
    private static bool Propose(MaxPool3D pool, float[] topDown, float[] g, double[] energy, int[] current, int[] proposal)
    {
        bool moved = false;
        int plane = pool.Rows * pool.Cols;
        for (int c = 0; c < current.Length; c++)
        {
            int q0 = current[c];
            proposal[c] = q0;
            double p = topDown[q0];
            if (p == 0) continue;   // nothing to place: the switch does not matter
            double g0 = g[q0], e0 = energy[q0 / plane], best = 0;
            var (k0, k1, i0, i1, j0, j1) = pool.Bounds(c);
            for (int k = k0; k < k1; k++)
            {
                double curvature = 0.5 * p * p * (energy[k] + e0);
                for (int i = i0; i < i1; i++)
                {
                    int row = (k * pool.Rows + i) * pool.Cols;
                    for (int j = j0; j < j1; j++)
                    {
                        int q = row + j;
                        if (q == q0) continue;
                        double delta = p * (g[q] - g0) + curvature;
                        if (delta < best)
                        {
                            best = delta;
                            proposal[c] = q;
                        }
                    }
                }
            }
            moved |= proposal[c] != q0;
        }
        return moved;
    }

    /// <summary>
    /// ε_j[k], the pixel energy of one unit of layer j's map k: layer 1, Σ_c ‖f_{1,k,c}‖² (exact away from the border);
    /// layer j, Σ_c ‖f_{j,k,c}‖² · (mean ε_{j−1} over the maps pooled into input plane c).
    /// </summary>
    private static void EstimateUnitEnergies(PixelOperator op, IReadOnlyList<FilterBank> f, double[][] energies)
    {
        for (int j = 0; j + 1 < op.Depth; j++)
        {
            FilterBank fj = f[j];
            MaxPool3D? below = j > 0 ? op.Pools[j - 1] : null;
            for (int k = 0; k < fj.Maps; k++)
            {
                double sum = 0;
                for (int c = 0; c < fj.Inputs; c++)
                {
                    ReadOnlySpan<float> plane = fj.ReadPlane(k, c);
                    double sq = TensorPrimitives.Dot(plane, plane);
                    if (sq == 0) continue;
                    sum += sq * (j == 0 ? 1 : InputPlaneEnergy(energies[j - 1], below, c));
                }
                energies[j][k] = sum;
            }
        }
    }

    private static double InputPlaneEnergy(double[] below, MaxPool3D? pool, int c)
    {
        if (pool is null) return below[c];
        int k0 = c * pool.Size.Maps, k1 = Math.Min(pool.Maps, k0 + pool.Size.Maps);
        double sum = 0;
        for (int k = k0; k < k1; k++) sum += below[k];
        return sum / (k1 - k0);
    }
}

/// <summary>An adaptive inference's statistics, and how many switch refreshes were proposed and kept.</summary>
public readonly record struct AdaptiveStats(InferenceStats Stats, int RefreshesProposed, int RefreshesAccepted);
