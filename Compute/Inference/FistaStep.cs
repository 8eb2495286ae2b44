using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Distributed.Compute.Inference;

/// <summary>
/// One FISTA update after the gradient, fused into a single pass over the maps (legend as in <see cref="FistaInference"/>:
/// w the momentum point, z the previous iterate, ∇ the gradient of the data term at w). Per element it takes the
/// gradient step, the soft threshold, the change and both sums of squares, the next momentum point and the copy into z,
/// so the maps stream through memory once instead of six times.
/// </summary>
public static class FistaStep
{
    /// <summary>Elements whose squares are summed in float lanes before they join the double totals.</summary>
    private const int Block = 1024;

    /// <summary>
    /// Effectively computes, for every i, with z⁺ = sign(v)·max(|v| − threshold, 0) where v = w[i] − gradientScale·gradient[i]:
    /// <c>change += (z⁺ − z[i])²; norm += z⁺²; w[i] = z⁺ + momentum·(z⁺ − z[i]); z[i] = z⁺</c>, and returns (change, norm),
    /// i.e. ‖z⁺ − z‖² and ‖z⁺‖². Products are fused multiply-adds; squares are summed in float over blocks of 1024
    /// elements and in double across blocks.
    /// </summary>
    /// <param name="w">In: the momentum point. Out: the next one.</param>
    /// <param name="z">In: the previous iterate. Out: z⁺.</param>
    public static (double Change, double Norm) Apply(ReadOnlySpan<float> gradient, float gradientScale, float threshold, float momentum, Span<float> w, Span<float> z)
    {
        if (w.Length != gradient.Length || z.Length != gradient.Length)
            throw new ArgumentException($"gradient, w and z must have one length; got {gradient.Length}, {w.Length} and {z.Length}.", nameof(z));
        if (w.Overlaps(z)) throw new ArgumentException("w and z must not overlap.", nameof(z));
        if (gradient.Overlaps(w) || gradient.Overlaps(z)) throw new ArgumentException("the gradient must not overlap w or z.", nameof(z));
        return Vector256.IsHardwareAccelerated ? Vectorized(gradient, gradientScale, threshold, momentum, w, z) : Scalar(gradient, gradientScale, threshold, momentum, w, z, 0);
    }

    /// <summary>The same formula one element at a time, from <paramref name="start"/>: the vector path's tail and its test oracle.</summary>
    internal static (double Change, double Norm) Scalar(ReadOnlySpan<float> gradient, float gradientScale, float threshold, float momentum, Span<float> w, Span<float> z, int start)
    {
        double change = 0, norm = 0;
        for (int i = start; i < gradient.Length; i++)
        {
            float v = MathF.FusedMultiplyAdd(gradient[i], -gradientScale, w[i]);
            float next = MathF.CopySign(MathF.Max(MathF.Abs(v) - threshold, 0), v);
            float d = next - z[i];
            change += (double)d * d;
            norm += (double)next * next;
            w[i] = MathF.FusedMultiplyAdd(momentum, d, next);
            z[i] = next;
        }
        return (change, norm);
    }

    private static (double Change, double Norm) Vectorized(ReadOnlySpan<float> gradient, float gradientScale, float threshold, float momentum, Span<float> w, Span<float> z)
    {
        ref float gr = ref MemoryMarshal.GetReference(gradient);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float zr = ref MemoryMarshal.GetReference(z);
        var scale = Vector256.Create(-gradientScale);
        var t = Vector256.Create(threshold);
        var mu = Vector256.Create(momentum);
        int n = gradient.Length, vectors = n - n % Vector256<float>.Count;
        double change = 0, norm = 0;
        for (int start = 0; start < vectors; start += Block)
        {
            int end = Math.Min(vectors, start + Block);
            Vector256<float> changes = Vector256<float>.Zero, norms = Vector256<float>.Zero;
            for (int i = start; i < end; i += Vector256<float>.Count)
            {
                var v = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref gr, (nuint)i), scale, Vector256.LoadUnsafe(ref wr, (nuint)i));
                var next = Vector256.CopySign(Vector256.Max(Vector256.Abs(v) - t, Vector256<float>.Zero), v);
                var d = next - Vector256.LoadUnsafe(ref zr, (nuint)i);
                changes = Vector256.FusedMultiplyAdd(d, d, changes);
                norms = Vector256.FusedMultiplyAdd(next, next, norms);
                Vector256.FusedMultiplyAdd(mu, d, next).StoreUnsafe(ref wr, (nuint)i);
                next.StoreUnsafe(ref zr, (nuint)i);
            }
            change += Sum(changes);
            norm += Sum(norms);
        }
        var (tailChange, tailNorm) = Scalar(gradient, gradientScale, threshold, momentum, w, z, vectors);
        return (change + tailChange, norm + tailNorm);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Sum(Vector256<float> lanes)
    {
        (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(lanes);
        return Vector256.Sum(lower + upper);
    }
}
