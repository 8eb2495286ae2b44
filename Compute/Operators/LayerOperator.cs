using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The synthesis operator of one layer and its adjoints (docs/algorithms.md). Legend: y input planes [C, H, W];
/// z feature maps [K, Hm, Wm] (Hm = H+s−1 for <see cref="Boundary.Valid"/>, H for circular); f filters [K, C, s, s];
/// g connectivity [K, C]; r a residual shaped like y.
/// <list type="bullet">
/// <item><see cref="Synthesize"/>: ŷ_c = Σ_k g_{k,c} · valid(z_k ∗ f_{k,c}), i.e.
/// ŷ_c[i,j] = Σ_{k,u,v} g f_{k,c}[u,v] · z_k[i+s−1−u, j+s−1−v] (true convolution).</item>
/// <item><see cref="Adjoint"/>: (Fᵀr)_k = Σ_c g_{k,c} · full-correlation(r_c, f_{k,c}).</item>
/// <item><see cref="FilterGradient"/>: ∂/∂f_{k,c}[u,v] of ⟨F(z) f, r⟩ = Σ_{i,j} r_c[i,j] · z_k[i+s−1−u, j+s−1−v].</item>
/// </list>
/// Circular boundaries are an adapter around the same kernels: a map is wrap-padded to (H+s−1)×(W+s−1) before the
/// valid kernel runs (<see cref="WrapPad"/>), and the adjoint, whose transpose would fold the padded borders back
/// (<see cref="FoldWrapPadding"/>), instead correlates the residual extended by wrap-around, which is the same sum.
/// <see cref="Synthesize"/> and <see cref="FilterGradient"/> read the maps; when at most
/// <see cref="SparseDensityThreshold"/> of their values are nonzero they run from the gathered nonzeros
/// (<see cref="SparseKernels"/>, cost O(nnz · C · s²)) instead of the dense kernels (K · C · Hz · Wz · s²). The choice
/// depends only on the maps' values, so the same input takes the same path and gives the same bits on any engine and
/// at any <see cref="DegreeOfParallelism"/>.
/// One instance holds scratch space and is not thread-safe: use one per worker thread, or give it a
/// <see cref="DegreeOfParallelism"/> to spread each call over several.
/// </summary>
public sealed class LayerOperator
{
    /// <summary>
    /// The largest fraction of nonzero map values at which the sparse kernels run. Measured (bench/README.md, "Sparse
    /// maps") for 128², K = 64, s = 8, C = 1, circular, one thread, gather included: sparse synthesis is 1.3–1.8× faster
    /// than dense at 20 % and slower from about 30 %; the sparse filter gradient still wins at 50 %. One threshold
    /// serves both, set by the synthesis. Dense maps pay a partial scan that stops at the limit (~0.1 ms, 2–3 % of a
    /// dense call, on that shape).
    /// </summary>
    public const double SparseDensityThreshold = 0.2;

    private readonly Tensor3? _padded;   // circular only: wrap-padded maps [K, H+s−1, W+s−1]
    private readonly Tensor3 _residual;  // valid: r framed by s−1 zeros [C, H+2s−2, W+2s−2]; circular: r wrap-extended [C, H+s−1, W+s−1]; also the sparse synthesis' full-convolution frame
    private readonly bool[] _mask;       // g as [K, C]
    private readonly SparseMaps _sparse = new();   // grows on first sparse call, up to _sparseLimit nonzeros
    private readonly int _sparseLimit;
    private readonly double[] _gradientTotals;     // the sparse filter gradient's double sums, s² per worker

    public LayerOperator(LayerGeometry geometry, Connectivity connectivity)
        : this(geometry, connectivity, degreeOfParallelism: 1)
    {
    }

    /// <param name="geometry">The layer's shapes.</param>
    /// <param name="connectivity">Which maps reconstruct which input planes.</param>
    /// <param name="degreeOfParallelism">
    /// Threads one call may use (1: the calling thread only, no allocation per call). Larger values split the work
    /// across output planes and row bands with <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>; the
    /// result is bitwise identical to the serial one, since each output value is summed in the same order either way.
    /// </param>
    public LayerOperator(LayerGeometry geometry, Connectivity connectivity, int degreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        ArgumentNullException.ThrowIfNull(connectivity);
        if (connectivity.Maps != geometry.Maps || connectivity.Inputs != geometry.Inputs)
            throw new ArgumentException($"connectivity is [{connectivity.Maps}, {connectivity.Inputs}]; the layer has {geometry.Maps} maps and {geometry.Inputs} inputs.", nameof(connectivity));
        if (geometry.FilterSize > geometry.Rows || geometry.FilterSize > geometry.Cols)
            throw new ArgumentException($"filter size {geometry.FilterSize} is larger than the input {geometry.Rows}×{geometry.Cols}.", nameof(geometry));
        Geometry = geometry;
        Connectivity = connectivity;
        DegreeOfParallelism = degreeOfParallelism;
        _mask = connectivity.ToArray();
        _sparseLimit = (int)Math.Floor(SparseDensityThreshold * geometry.Maps * geometry.MapRows * (double)geometry.MapCols);
        _gradientTotals = new double[Math.Min(degreeOfParallelism, geometry.Maps * geometry.Inputs) * geometry.FilterSize * geometry.FilterSize];
        int m = geometry.FilterSize - 1;
        if (geometry.Boundary == Boundary.Circular)
        {
            _padded = new Tensor3(geometry.Maps, geometry.Rows + m, geometry.Cols + m);
            _residual = new Tensor3(geometry.Inputs, geometry.Rows + m, geometry.Cols + m);
        }
        else
        {
            _residual = new Tensor3(geometry.Inputs, geometry.Rows + 2 * m, geometry.Cols + 2 * m);
        }
    }

    public LayerGeometry Geometry { get; }
    public Connectivity Connectivity { get; }

    /// <summary>Threads one operator call may use; 1 runs on the caller's thread.</summary>
    public int DegreeOfParallelism { get; }

    /// <summary>Tests and benchmarks pin a path here; <see cref="MapsPath.Auto"/> (the default) chooses by density.</summary>
    internal MapsPath Path { get; set; }

    /// <summary>The path the last <see cref="Synthesize"/> or <see cref="FilterGradient"/> took.</summary>
    internal MapsPath LastPath { get; private set; }

    /// <summary>Nonzeros the last sparse call gathered.</summary>
    internal int LastSparseCount => _sparse.Count;

    /// <summary>Effectively computes <c>destination = F(f) z</c>: destination[c] = Σ_k g_{k,c} valid(z_k ∗ f_{k,c}).</summary>
    public void Synthesize(Tensor3 z, FilterBank f, Tensor3 destination)
    {
        Geometry.CheckMaps(z, nameof(z));
        Geometry.CheckFilters(f, nameof(f));
        Geometry.CheckImage(destination, nameof(destination));
        CheckDistinct(z.Data, destination.Data, nameof(destination));
        if (GatherSparse(z))
        {
            SparseKernels.Synthesize(_sparse, f, _mask, Geometry.Boundary, _residual, destination, DegreeOfParallelism);
            return;
        }
        Tensor3 zv = ValidMaps(z);
        LayerKernels.Synthesize(zv, f, _mask, destination, DegreeOfParallelism);
    }

    /// <summary>Effectively computes <c>destination = F(f)ᵀ r</c>: destination[k] = Σ_c g_{k,c} fullcorr(r_c, f_{k,c}).</summary>
    public void Adjoint(Tensor3 r, FilterBank f, Tensor3 destination)
    {
        Geometry.CheckImage(r, nameof(r));
        Geometry.CheckFilters(f, nameof(f));
        Geometry.CheckMaps(destination, nameof(destination));
        CheckDistinct(r.Data, destination.Data, nameof(destination));
        ExtendResidual(r);
        LayerKernels.Adjoint(_residual, f, _mask, destination, DegreeOfParallelism);
    }

    /// <summary>
    /// Effectively computes <c>destination[k,c,u,v] = g_{k,c} Σ_{i,j} r_c[i,j] z_k[i+s−1−u, j+s−1−v]</c>: the gradient in f
    /// of ⟨F(z) f, r⟩, so with r = F f − y it is the gradient of ½‖F f − y‖². Unconnected planes are zero.
    /// </summary>
    public void FilterGradient(Tensor3 z, Tensor3 r, FilterBank destination)
    {
        Geometry.CheckMaps(z, nameof(z));
        Geometry.CheckImage(r, nameof(r));
        Geometry.CheckFilters(destination, nameof(destination));
        CheckDistinct(z.Data, destination.Data, nameof(destination));
        CheckDistinct(r.Data, destination.Data, nameof(destination));
        if (GatherSparse(z))
        {
            ExtendResidual(r);
            SparseKernels.FilterGradient(_sparse, _residual, _mask, _gradientTotals, destination, DegreeOfParallelism);
            return;
        }
        Tensor3 zv = ValidMaps(z);
        LayerKernels.FilterGradient(zv, r, _mask, destination, accumulate: false, DegreeOfParallelism);
    }

    /// <summary>
    /// The nonzeros of <paramref name="z"/> in a new <see cref="SparseMaps"/> when the sparse kernels would run on it (at
    /// most <see cref="SparseDensityThreshold"/> nonzero), else null. A caller that applies the operator to the same maps
    /// many times (the matrix-free filter update) gathers once and passes the result to the overloads below.
    /// </summary>
    public SparseMaps? TryGather(Tensor3 z)
    {
        Geometry.CheckMaps(z, nameof(z));
        var sparse = new SparseMaps();
        return sparse.TryGather(z, _sparseLimit) ? sparse : null;
    }

    /// <summary><see cref="Synthesize(Tensor3, FilterBank, Tensor3)"/> from maps already gathered by <see cref="TryGather"/>.</summary>
    public void Synthesize(SparseMaps z, FilterBank f, Tensor3 destination)
    {
        CheckGathered(z);
        Geometry.CheckFilters(f, nameof(f));
        Geometry.CheckImage(destination, nameof(destination));
        SparseKernels.Synthesize(z, f, _mask, Geometry.Boundary, _residual, destination, DegreeOfParallelism);
    }

    /// <summary><see cref="FilterGradient(Tensor3, Tensor3, FilterBank)"/> from maps already gathered by <see cref="TryGather"/>.</summary>
    public void FilterGradient(SparseMaps z, Tensor3 r, FilterBank destination)
    {
        CheckGathered(z);
        Geometry.CheckImage(r, nameof(r));
        Geometry.CheckFilters(destination, nameof(destination));
        CheckDistinct(r.Data, destination.Data, nameof(destination));
        ExtendResidual(r);
        SparseKernels.FilterGradient(z, _residual, _mask, _gradientTotals, destination, DegreeOfParallelism);
    }

    private void CheckGathered(SparseMaps z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.Planes != Geometry.Maps || z.Rows != Geometry.MapRows || z.Cols != Geometry.MapCols)
            throw new ArgumentException($"gathered maps are [{z.Planes}, {z.Rows}, {z.Cols}]; this layer's are [{Geometry.Maps}, {Geometry.MapRows}, {Geometry.MapCols}].", nameof(z));
    }

    /// <summary>Gathers z's nonzeros when the sparse path is taken: by density under <see cref="MapsPath.Auto"/>.</summary>
    private bool GatherSparse(Tensor3 z)
    {
        bool sparse;
        if (Path == MapsPath.Dense) sparse = false;
        else if (Path == MapsPath.Sparse)
        {
            _sparse.Gather(z);
            sparse = true;
        }
        else sparse = _sparse.TryGather(z, _sparseLimit);
        LastPath = sparse ? MapsPath.Sparse : MapsPath.Dense;
        return sparse;
    }

    /// <summary>r framed by s−1 zeros (valid) or extended by wrap-around (circular), into the residual buffer.</summary>
    private void ExtendResidual(Tensor3 r)
    {
        int m = Geometry.FilterSize - 1;
        if (Geometry.Boundary == Boundary.Valid) LayerKernels.ZeroPad(r, _residual, m);
        else LayerKernels.WrapExtend(r, _residual, m);
    }

    /// <summary>The [K, C] connectivity mask the kernels take.</summary>
    internal bool[] Mask => _mask;

    /// <summary>The maps as the valid kernels see them: z itself, or its wrap-padded copy for circular boundaries.</summary>
    internal Tensor3 ValidMaps(Tensor3 z)
    {
        if (_padded is null) return z;
        WrapPad(z, _padded, Geometry.FilterSize - 1);
        return _padded;
    }

    /// <summary>padded[p, i, j] = z[p, (i − m) mod H, (j − m) mod W] for a margin m = s − 1 on the top and left.</summary>
    internal static void WrapPad(Tensor3 z, Tensor3 padded, int margin)
    {
        int h = z.Rows, w = z.Cols, pw = padded.Cols;
        for (int p = 0; p < z.Planes; p++)
        {
            ReadOnlySpan<float> src = z.ReadPlane(p);
            Span<float> dst = padded.Plane(p);
            for (int i = 0; i < padded.Rows; i++)
            {
                int si = Mod(i - margin, h);
                ReadOnlySpan<float> row = src.Slice(si * w, w);
                Span<float> drow = dst.Slice(i * pw, pw);
                // drow[j] = row[(j − margin) mod w]: the last `margin` columns first, then the row itself.
                int head = Math.Min(margin, pw);
                for (int j = 0; j < head; j++) drow[j] = row[Mod(j - margin, w)];
                int tail = pw - head;
                for (int start = 0; start < tail; start += w)
                    row.Slice(0, Math.Min(w, tail - start)).CopyTo(drow.Slice(head + start));
            }
        }
    }

    /// <summary>The adjoint of <see cref="WrapPad"/>: z[p, i, j] = Σ over padded cells that map to (i, j).</summary>
    internal static void FoldWrapPadding(Tensor3 padded, Tensor3 z, int margin)
    {
        int h = z.Rows, w = z.Cols, pw = padded.Cols;
        z.Clear();
        for (int p = 0; p < z.Planes; p++)
        {
            ReadOnlySpan<float> src = padded.ReadPlane(p);
            Span<float> dst = z.Plane(p);
            for (int i = 0; i < padded.Rows; i++)
            {
                Span<float> drow = dst.Slice(Mod(i - margin, h) * w, w);
                ReadOnlySpan<float> srow = src.Slice(i * pw, pw);
                for (int j = 0; j < pw; j++) drow[Mod(j - margin, w)] += srow[j];
            }
        }
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;

    private static void CheckDistinct(float[] a, float[] b, string name)
    {
        if (ReferenceEquals(a, b)) throw new ArgumentException("destination must not alias an input.", name);
    }
}

/// <summary>Which kernels read the maps: chosen by density, or pinned (tests and benchmarks only).</summary>
internal enum MapsPath
{
    Auto,
    Dense,
    Sparse,
}
