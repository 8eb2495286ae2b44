using System.Numerics.Tensors;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>E(z) = λ/2 ‖F z − y‖² + Σ|z|^p and the figures reported with it.</summary>
public static class SparseCodingObjective
{
    /// <summary>Evaluates E at z (uses the workspace's residual buffer; leaves F z − y in it).</summary>
    public static InferenceStats Evaluate(InferenceWorkspace ws, FilterBank f, Tensor3 y, Tensor3 z, double lambda, double p, int iterations)
    {
        Tensor3 r = ws.Residual;
        ws.Operator.Synthesize(z, f, r);
        TensorPrimitives.Subtract(r.Data, y.Data, r.Data);
        double sq = SumOfSquares(r.Data);
        long nonzeros = 0;
        double sparsity = 0;
        foreach (float v in z.Data)
        {
            if (v == 0) continue;
            nonzeros++;
            sparsity += p == 1 ? Math.Abs(v) : Math.Pow(Math.Abs(v), p);
        }
        return new InferenceStats(0.5 * lambda * sq, sparsity, nonzeros, z.Length, sq, y.Length, Psnr(y.Data, sq), iterations);
    }

    /// <summary>Evaluates E at maps held as their nonzeros (p = 1; uses the workspace's residual buffer; leaves F z − y in it).</summary>
    public static InferenceStats Evaluate(InferenceWorkspace ws, FilterBank f, Tensor3 y, SparseMaps z, double lambda, int iterations)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(z);
        Tensor3 r = ws.Residual;
        ws.Operator.Synthesize(z, f, r);
        TensorPrimitives.Subtract(r.Data, y.Data, r.Data);
        double sq = SumOfSquares(r.Data);
        double sparsity = 0;
        foreach (float v in z.NonzeroValues) sparsity += Math.Abs(v);
        LayerGeometry g = ws.Geometry;
        return new InferenceStats(0.5 * lambda * sq, sparsity, z.Count, (long)g.Maps * g.MapRows * g.MapCols, sq, y.Length, Psnr(y.Data, sq), iterations);
    }

    /// <summary>PSNR in dB with the input's own peak-to-peak range as the peak; +∞ is capped at 200 dB.</summary>
    public static double Psnr(ReadOnlySpan<float> y, double squaredError)
    {
        if (y.Length == 0) return 0;
        float max = TensorPrimitives.Max(y), min = TensorPrimitives.Min(y);
        double peak = (double)max - min;
        double mse = squaredError / y.Length;
        if (mse <= 0 || peak <= 0) return 200;
        return Math.Min(200, 10 * Math.Log10(peak * peak / mse));
    }

    internal static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double sum = 0;
        // Blocked float dot products summed in double: fast, and accurate enough for objectives of ~1e6 terms.
        for (int i = 0; i < x.Length; i += 4096)
        {
            ReadOnlySpan<float> block = x.Slice(i, Math.Min(4096, x.Length - i));
            sum += TensorPrimitives.Dot(block, block);
        }
        return sum;
    }

    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i += 4096)
        {
            int n = Math.Min(4096, a.Length - i);
            sum += TensorPrimitives.Dot(a.Slice(i, n), b.Slice(i, n));
        }
        return sum;
    }
}
