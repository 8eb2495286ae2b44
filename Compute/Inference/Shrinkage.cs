using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Convolution;

namespace Distributed.Compute.Inference;

/// <summary>
/// The x-step of Zeiler mode, elementwise and exact: <c>x = argmin_x |x|^p + β/2 (x − v)²</c> for p in (0, 1].
/// p = 1 is soft thresholding at 1/β. For p &lt; 1 the minimiser is 0 or the larger root of
/// φ(x) = p x^{p−1} + β (x − |v|) on (0, |v|]; φ is convex there, so Newton from x = |v| falls monotonically onto
/// that root, and comparing the objective at the root with the objective at 0 picks the global minimum.
/// </summary>
public static class Shrinkage
{
    /// <summary>Effectively computes <c>destination[i] = argmin_x |x|^p + β/2 (x − source[i])²</c>.</summary>
    public static void Apply(ReadOnlySpan<float> source, double p, double beta, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source.", nameof(destination));
        if (!(p > 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1].");
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "β must be > 0.");
        if (p == 1)
        {
            SoftThreshold(source, (float)(1 / beta), destination);
            return;
        }
        // Below this |v| the minimiser is 0 for certain: φ(x*) > 0 at φ's minimum x*, or the root cannot beat 0.
        double threshold = ZeroThreshold(p, beta);
        for (int i = 0; i < source.Length; i++)
        {
            double v = source[i];
            double a = Math.Abs(v);
            destination[i] = a <= threshold ? 0f : (float)(Math.Sign(v) * Solve(a, p, beta));
        }
    }

    /// <summary>
    /// Effectively computes <c>destination[i] = sign(source[i]) · max(|source[i]| − t, 0)</c>, with +0 (never −0) where
    /// |source[i]| ≤ t and 0 for NaN: the same bits at every vector width, so machines with and without AVX-512 agree.
    /// </summary>
    public static void SoftThreshold(ReadOnlySpan<float> source, float t, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source.", nameof(destination));
        if (Vector512.IsHardwareAccelerated) SoftThreshold<Vector512<float>, Ops512>(source, t, destination);
        else if (Vector256.IsHardwareAccelerated) SoftThreshold<Vector256<float>, Ops256>(source, t, destination);   // every width gives the same bits
        else SoftThreshold<float, OpsScalar>(source, t, destination);
    }

    /// <summary><see cref="SoftThreshold(ReadOnlySpan{float}, float, Span{float})"/> at the width <paramref name="path"/> (tests run every width).</summary>
    internal static void SoftThreshold(ReadOnlySpan<float> source, float t, Span<float> destination, SimdPath path)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source.", nameof(destination));
        switch (path)
        {
            case SimdPath.Vector512: SoftThreshold<Vector512<float>, Ops512>(source, t, destination); break;
            case SimdPath.Vector256: SoftThreshold<Vector256<float>, Ops256>(source, t, destination); break;
            case SimdPath.Vector128: SoftThreshold<Vector128<float>, Ops128>(source, t, destination); break;
            case SimdPath.Scalar: SoftThreshold<float, OpsScalar>(source, t, destination); break;
            default: SoftThreshold(source, t, destination); break;
        }
    }

    /// <summary>
    /// Whole vectors, then the rest one at a time with the same operations. source and destination may be the same
    /// span (each element is read before it is written), but must not overlap otherwise.
    /// </summary>
    private static void SoftThreshold<TV, TOps>(ReadOnlySpan<float> source, float t, Span<float> destination)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        ref float from = ref MemoryMarshal.GetReference(source);
        ref float to = ref MemoryMarshal.GetReference(destination);
        int n = source.Length, i = 0;
        TV tv = TOps.Broadcast(t);
        for (; i <= n - TOps.Count; i += TOps.Count)
        {
            TV v = TOps.Load(ref Unsafe.Add(ref from, i));
            TV m = TOps.Subtract(TOps.Abs(v), tv);
            TOps.Store(TOps.WherePositive(m, TOps.CopySign(m, v)), ref Unsafe.Add(ref to, i));
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref from, i);
            float m = MathF.Abs(v) - t;
            Unsafe.Add(ref to, i) = OpsScalar.WherePositive(m, MathF.CopySign(m, v));
        }
    }

    /// <summary>
    /// The largest |v| whose minimiser is 0 (the generalised soft-threshold of Zuo et al. 2013):
    /// with x̂ = (2(1−p)/β)^{1/(2−p)}, τ = x̂ + p x̂^{p−1}/β; at |v| = τ the objective ties between 0 and x̂.
    /// </summary>
    public static double ZeroThreshold(double p, double beta)
    {
        if (p == 1) return 1 / beta;
        double xhat = Math.Pow(2 * (1 - p) / beta, 1 / (2 - p));
        return xhat + p * Math.Pow(xhat, p - 1) / beta;
    }

    /// <summary>The minimiser for a ≥ 0 above the threshold: Newton on φ from x = a, then compare with 0.</summary>
    private static double Solve(double a, double p, double beta)
    {
        double x = a;
        for (int it = 0; it < 30; it++)
        {
            double xp = Math.Pow(x, p - 2);               // x^{p−2}
            double phi = p * xp * x + beta * (x - a);     // p x^{p−1} + β(x − a)
            double dphi = p * (p - 1) * xp + beta;        // p(p−1) x^{p−2} + β
            if (dphi <= 0) break;                         // left of φ's minimum: no root to the right of here
            double next = x - phi / dphi;
            if (next <= 0) return 0;
            if (Math.Abs(next - x) <= 1e-12 * x) { x = next; break; }
            x = next;
        }
        double fx = Math.Pow(x, p) + 0.5 * beta * (x - a) * (x - a);
        double f0 = 0.5 * beta * a * a;
        return fx < f0 ? x : 0;
    }
}
