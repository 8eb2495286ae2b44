using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Distributed.Compute.Convolution;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// FᵀF of a layer as a stencil (circular boundary): the inner product of the atom of map k at p with the atom of map k'
/// at p + δ, <c>⟨F e_{k,p}, F e_{k',p+δ}⟩ = G[k, δ, k'] = Σ_c g_{k,c} g_{k',c} Σ_u f_{k,c}[u] · f_{k',c}[u − δ]</c> for
/// δ ∈ [−(s−1), s−1]², zero beyond. It is exact while the maps are at least 2s−1 on each side (no atom meets itself
/// around the torus). Coordinate descent keeps <c>Fᵀ(y − F z)</c> current with it: changing z_k(p) by Δ subtracts
/// Δ·G[k, δ, ·] from the correlations of every map at p + δ.
/// Stored map-last, <c>[K, 2s−1, 2s−1, K̄]</c> with K̄ = K rounded up to a multiple of 8 (zero-padded), so that one
/// update is (2s−1)² runs of K̄ contiguous floats: whole vectors, one cache-friendly block per k.
/// </summary>
public sealed class FilterGram
{
    private readonly float[] _data;

    /// <summary>Computes G for filters <paramref name="f"/> under connectivity <paramref name="g"/>: K²·C·s⁴ multiply-adds.</summary>
    public FilterGram(FilterBank f, Connectivity g)
        : this(f, g, SimdPath.Auto)
    {
    }

    /// <summary>As the public constructor, built at the vector width <paramref name="path"/> (tests run every width).</summary>
    internal FilterGram(FilterBank f, Connectivity g, SimdPath path)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(g);
        if (g.Maps != f.Maps || g.Inputs != f.Inputs)
            throw new ArgumentException($"connectivity [{g.Maps}, {g.Inputs}] does not match filters {f}.", nameof(g));
        Maps = f.Maps;
        PaddedMaps = PadMaps(f.Maps);
        Size = f.Size;
        Width = 2 * f.Size - 1;
        Inputs = f.Inputs;
        _data = new float[Maps * Width * Width * PaddedMaps];
        Taps = new float[f.Inputs * f.Size * f.Size * PaddedMaps];
        Norms = new float[Maps];
        switch (path)
        {
            case SimdPath.Vector512: Fill<Vector512<float>, Ops512>(f, g); break;
            case SimdPath.Vector256: Fill<Vector256<float>, Ops256>(f, g); break;
            case SimdPath.Vector128: Fill<Vector128<float>, Ops128>(f, g); break;
            case SimdPath.Scalar: Fill<float, OpsScalar>(f, g); break;
            default:
                if (Vector256.IsHardwareAccelerated) Fill<Vector256<float>, Ops256>(f, g);
                else Fill<float, OpsScalar>(f, g);
                break;
        }
        for (int k = 0; k < Maps; k++) Norms[k] = Row(k, 0, 0)[k];
    }

    public int Maps { get; }

    /// <summary>K rounded up to a multiple of 8: the length of every stored run.</summary>
    public int PaddedMaps { get; }

    public int Size { get; }

    /// <summary>C: the input planes.</summary>
    public int Inputs { get; }

    /// <summary>
    /// The filters map-last, <c>[C, s², K̄]</c>: Taps[c, u, k] = g_{k,c} f_{k,c}[u], zero past K. Coordinate descent with the
    /// valid boundary takes the parts of an atom that fall outside the image back out of the stencil with them.
    /// </summary>
    public float[] Taps { get; }

    /// <summary>2s − 1: the stencil's extent in each direction.</summary>
    public int Width { get; }

    /// <summary>n_k = G[k, 0, k] = Σ_c g_{k,c} ‖f_{k,c}‖²: the curvature of the data term along one coefficient of map k.</summary>
    public float[] Norms { get; }

    /// <summary>K rounded up to a multiple of 8.</summary>
    public static int PadMaps(int maps) => (maps + 7) / 8 * 8;

    /// <summary>G[k, δ, ·] for δ = (dr, dc) ∈ [−(s−1), s−1]²: <see cref="PaddedMaps"/> floats, zero past K.</summary>
    public ReadOnlySpan<float> Row(int k, int dr, int dc)
    {
        int m = Size - 1;
        if (Math.Abs(dr) > m || Math.Abs(dc) > m) throw new ArgumentOutOfRangeException(nameof(dr), $"δ = ({dr}, {dc}) is outside the stencil ±{m}.");
        return _data.AsSpan(Offset(k, dr + m, dc + m), PaddedMaps);
    }

    /// <summary>G[k, ·, ·] as <see cref="Width"/>² runs of <see cref="PaddedMaps"/> floats, run (a, b) for δ = (a − s + 1, b − s + 1).</summary>
    public ReadOnlySpan<float> Block(int k) => _data.AsSpan(Offset(k, 0, 0), Width * Width * PaddedMaps);

    private int Offset(int k, int a, int b) => ((k * Width + a) * Width + b) * PaddedMaps;

    /// <summary>
    /// G[k, (ar − br, v − v2), k'] += f_{k,c}[ar, v] · f_{k',c}[br, v2] over every tap pair: with the filters transposed
    /// to [c, br, v2, k'], each term is one multiply-add of a run over k'.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Fill<TV, TOps>(FilterBank f, Connectivity g)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int s = f.Size, m = s - 1, kp = PaddedMaps, c = f.Inputs;
        float[] transposed = Taps;   // [c, u, k'] with g applied: unconnected planes contribute nothing
        for (int k2 = 0; k2 < Maps; k2++)
            for (int ci = 0; ci < c; ci++)
            {
                if (!g[k2, ci]) continue;
                ReadOnlySpan<float> plane = f.ReadPlane(k2, ci);
                for (int u = 0; u < s * s; u++) transposed[(ci * s * s + u) * kp + k2] = plane[u];
            }
        for (int k = 0; k < Maps; k++)
            for (int ci = 0; ci < c; ci++)
            {
                if (!g[k, ci]) continue;
                ReadOnlySpan<float> a = f.ReadPlane(k, ci);
                for (int ar = 0; ar < s; ar++)
                    for (int v = 0; v < s; v++)
                    {
                        float tap = a[ar * s + v];
                        if (tap == 0) continue;
                        for (int br = 0; br < s; br++)
                            for (int v2 = 0; v2 < s; v2++)
                            {
                                Span<float> run = _data.AsSpan(Offset(k, ar - br + m, v - v2 + m), kp);
                                ReadOnlySpan<float> other = transposed.AsSpan((ci * s * s + br * s + v2) * kp, kp);
                                AddRun<TV, TOps>(other, tap, run);
                            }
                    }
            }
    }

    /// <summary>
    /// destination += a · x for runs of <see cref="PaddedMaps"/> floats (a multiple of 8: whole 256-bit vectors, no
    /// tail), one fused multiply-add per element: how coordinate descent applies the stencil. Every width rounds each
    /// element once, the same way, so the width changes no bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AddRun(ReadOnlySpan<float> x, float a, Span<float> destination)
    {
        if (Vector256.IsHardwareAccelerated) AddRun<Vector256<float>, Ops256>(x, a, destination);
        else AddRun<float, OpsScalar>(x, a, destination);
    }

    /// <summary><see cref="AddRun(ReadOnlySpan{float}, float, Span{float})"/> at the width <paramref name="path"/>, for runs of any length.</summary>
    internal static void AddRun(ReadOnlySpan<float> x, float a, Span<float> destination, SimdPath path)
    {
        if (destination.Length < x.Length) throw new ArgumentException($"destination holds {destination.Length} floats; the run has {x.Length}.", nameof(destination));
        switch (path)
        {
            case SimdPath.Vector512: AddRun<Vector512<float>, Ops512>(x, a, destination); break;
            case SimdPath.Vector256: AddRun<Vector256<float>, Ops256>(x, a, destination); break;
            case SimdPath.Vector128: AddRun<Vector128<float>, Ops128>(x, a, destination); break;
            case SimdPath.Scalar: AddRun<float, OpsScalar>(x, a, destination); break;
            default: AddRun(x, a, destination); break;
        }
    }

    /// <summary>Whole vectors of TOps.Count, then a scalar tail (empty for the stored runs at 8 lanes or fewer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRun<TV, TOps>(ReadOnlySpan<float> x, float a, Span<float> destination)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float target = ref MemoryMarshal.GetReference(destination);
        int n = x.Length, i = 0;
        TV scale = TOps.Broadcast(a);
        for (; i <= n - TOps.Count; i += TOps.Count)
        {
            ref float at = ref Unsafe.Add(ref target, i);
            TOps.Store(TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref source, i)), scale, TOps.Load(ref at)), ref at);
        }
        for (; i < n; i++) Unsafe.Add(ref target, i) = MathF.FusedMultiplyAdd(Unsafe.Add(ref source, i), a, Unsafe.Add(ref target, i));
    }
}
