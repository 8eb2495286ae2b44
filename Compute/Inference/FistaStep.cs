using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Convolution;

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
    public static (double Change, double Norm) Apply(ReadOnlySpan<float> gradient, float gradientScale, float threshold, float momentum, Span<float> w, Span<float> z) =>
        Apply(gradient, gradientScale, threshold, momentum, w, z, SimdPath.Auto);

    /// <summary>
    /// <see cref="Apply(ReadOnlySpan{float}, float, float, float, Span{float}, Span{float})"/> at the width
    /// <paramref name="path"/> (Auto: 256-bit where accelerated, else scalar; tests run every width). Every width writes
    /// the same bits to w and z; the two sums differ in the grouping of their float lanes (scalar: all in double).
    /// </summary>
    internal static (double Change, double Norm) Apply(ReadOnlySpan<float> gradient, float gradientScale, float threshold, float momentum, Span<float> w, Span<float> z, SimdPath path)
    {
        if (w.Length != gradient.Length || z.Length != gradient.Length)
            throw new ArgumentException($"gradient, w and z must have one length; got {gradient.Length}, {w.Length} and {z.Length}.", nameof(z));
        if (w.Overlaps(z)) throw new ArgumentException("w and z must not overlap.", nameof(z));
        if (gradient.Overlaps(w) || gradient.Overlaps(z)) throw new ArgumentException("the gradient must not overlap w or z.", nameof(z));
        if (path == SimdPath.Auto) path = Vector256.IsHardwareAccelerated ? SimdPath.Vector256 : SimdPath.Scalar;
        return path switch
        {
            SimdPath.Vector512 => Vectorized<Vector512<float>, Ops512>(gradient, gradientScale, threshold, momentum, w, z),
            SimdPath.Vector256 => Vectorized<Vector256<float>, Ops256>(gradient, gradientScale, threshold, momentum, w, z),
            SimdPath.Vector128 => Vectorized<Vector128<float>, Ops128>(gradient, gradientScale, threshold, momentum, w, z),
            _ => Scalar(gradient, gradientScale, threshold, momentum, w, z, 0),
        };
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

    private static (double Change, double Norm) Vectorized<TV, TOps>(ReadOnlySpan<float> gradient, float gradientScale, float threshold, float momentum, Span<float> w, Span<float> z)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        ref float gr = ref MemoryMarshal.GetReference(gradient);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float zr = ref MemoryMarshal.GetReference(z);
        TV scale = TOps.Broadcast(-gradientScale);
        TV t = TOps.Broadcast(threshold);
        TV mu = TOps.Broadcast(momentum);
        int n = gradient.Length, vectors = n - n % TOps.Count;
        double change = 0, norm = 0;
        for (int start = 0; start < vectors; start += Block)
        {
            int end = Math.Min(vectors, start + Block);
            TV changes = TOps.Zero, norms = TOps.Zero;
            for (int i = start; i < end; i += TOps.Count)
            {
                ref float wi = ref Unsafe.Add(ref wr, i);
                ref float zi = ref Unsafe.Add(ref zr, i);
                TV v = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref gr, i)), scale, TOps.Load(ref wi));
                TV next = TOps.CopySign(TOps.Max(TOps.Subtract(TOps.Abs(v), t), TOps.Zero), v);
                TV d = TOps.Subtract(next, TOps.Load(ref zi));
                changes = TOps.MultiplyAdd(d, d, changes);
                norms = TOps.MultiplyAdd(next, next, norms);
                TOps.Store(TOps.MultiplyAdd(mu, d, next), ref wi);
                TOps.Store(next, ref zi);
            }
            change += TOps.SumWidened(changes);
            norm += TOps.SumWidened(norms);
        }
        var (tailChange, tailNorm) = Scalar(gradient, gradientScale, threshold, momentum, w, z, vectors);
        return (change + tailChange, norm + tailNorm);
    }
}
