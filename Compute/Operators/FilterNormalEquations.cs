using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The sufficient statistics of the filter subproblem <c>min_f ½ Σ_images ‖F(z) f − y‖²</c> (docs/algorithms.md):
/// <c>A = Σ ZᵀZ</c> and <c>b = Σ Zᵀy</c>, so the gradient is <c>A f − b</c> and the data term is
/// <c>½ (fᵀA f − 2 bᵀf + Σ‖y‖²)</c>. Only A·f products are ever needed, never the images.
/// <para>
/// A is stored as one exact s²×s² block per pair of maps (k ≤ k′) that share an input plane:
/// <c>A_{k,k′}[(u,v),(u′,v′)] = Σ_{i,j} z_k[i+s−1−u, j+s−1−v] · z_{k′}[i+s−1−u′, j+s−1−v′]</c> over the image window
/// (for circular boundaries, over the wrap-padded maps, which is the same thing on the torus). Its size is
/// <see cref="GramBytes"/>: 0.8 MB for 9 maps of 7×7, 67 MB for 64 maps of 8×8 — check it before shipping.
/// </para>
/// Sums are accumulated in float per image and added in the caller's order, so a fixed order gives a fixed result.
/// </summary>
public sealed class FilterNormalEquations : IFilterSystem
{
    private readonly int[] _pairIndex; // [K, K] → pair index or −1
    private readonly float[] _gram;
    private double[]? _stencil;        // circular images added since the last read of Gram: their summed lag stencil
    private bool _stencilPending;

    public FilterNormalEquations(Connectivity connectivity, int filterSize)
    {
        ArgumentNullException.ThrowIfNull(connectivity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(filterSize);
        Connectivity = connectivity;
        Size = filterSize;
        int maps = connectivity.Maps;
        _pairIndex = new int[maps * maps];
        Array.Fill(_pairIndex, -1);
        var pairs = new List<(int, int)>();
        for (int k = 0; k < maps; k++)
            for (int k2 = k; k2 < maps; k2++)
            {
                bool share = false;
                for (int c = 0; c < connectivity.Inputs && !share; c++) share = connectivity[k, c] && connectivity[k2, c];
                if (!share) continue;
                _pairIndex[k * maps + k2] = pairs.Count;
                _pairIndex[k2 * maps + k] = pairs.Count;
                pairs.Add((k, k2));
            }
        Pairs = pairs;
        long gramLength = (long)pairs.Count * BlockLength;
        if (gramLength > Array.MaxLength)
            throw new ArgumentException($"A would hold {gramLength} values ({pairs.Count} map pairs of {Size}²×{Size}²), more than one array can; use the matrix-free filter update.");
        _gram = new float[gramLength];
        B = new FilterBank(connectivity.Maps, connectivity.Inputs, filterSize);
    }

    public Connectivity Connectivity { get; }
    public int Size { get; }

    /// <summary>Bytes A would take for this connectivity and filter size, without allocating it.</summary>
    public static long EstimateGramBytes(Connectivity connectivity, int filterSize)
    {
        long pairs = 0;
        for (int k = 0; k < connectivity.Maps; k++)
            for (int k2 = k; k2 < connectivity.Maps; k2++)
                for (int c = 0; c < connectivity.Inputs; c++)
                    if (connectivity[k, c] && connectivity[k2, c])
                    {
                        pairs++;
                        break;
                    }
        return pairs * filterSize * filterSize * filterSize * filterSize * sizeof(float);
    }

    /// <summary>Map pairs (k ≤ k′) sharing an input plane, in the order their blocks appear in <see cref="Gram"/>.</summary>
    public IReadOnlyList<(int K1, int K2)> Pairs { get; }

    /// <summary>s⁴: values in one pair's block.</summary>
    public int BlockLength => Size * Size * Size * Size;

    /// <summary>The blocks of A, [pairs, s², s²], row index (u, v) of map K1, column (u′, v′) of map K2.</summary>
    public float[] Gram
    {
        get
        {
            FlushStencil();
            return _gram;
        }
    }

    /// <summary>b = Σ Zᵀy as filters [K, C, s, s]; unconnected planes stay zero.</summary>
    public FilterBank B { get; }

    /// <summary>Σ ‖y‖² over the accumulated images: with it, the data term is computable from A, b and f alone.</summary>
    public double SumSquaredInputs { get; private set; }

    /// <summary>Images accumulated so far.</summary>
    public long Images { get; private set; }

    public long GramBytes => (long)_gram.Length * sizeof(float);

    /// <summary>Adds one image's ZᵀZ and Zᵀy: z are its maps (shape per <paramref name="op"/>), y its input planes.</summary>
    public void Accumulate(LayerOperator op, Tensor3 z, Tensor3 y)
    {
        ArgumentNullException.ThrowIfNull(op);
        op.Geometry.CheckMaps(z, nameof(z));
        op.Geometry.CheckImage(y, nameof(y));
        if (op.Geometry.FilterSize != Size || op.Connectivity.Maps != Connectivity.Maps || op.Connectivity.Inputs != Connectivity.Inputs)
            throw new ArgumentException("the operator's layer does not match these statistics.", nameof(op));
        Tensor3 zv = op.ValidMaps(z);
        // Sparse maps (at most LayerOperator.SparseDensityThreshold nonzero) take the nonzero-pair kernel, far cheaper
        // at the densities of sparse coding; the rest the dense summed-area one.
        var sparse = new SparseMaps();
        if (sparse.TryGather(zv, SparseLimit(zv)))
            SparseGramKernels.AccumulateGram(sparse, y.Rows, y.Cols, Size, _pairIndex, Gram);
        else
            GramKernels.AccumulateGram(zv, y.Rows, y.Cols, Size, Pairs, Gram, op.DegreeOfParallelism);
        GramKernels.AccumulateRightHandSide(zv, y, op.Mask, B, op.DegreeOfParallelism);
        double sq = 0;
        foreach (float v in y.Data) sq += (double)v * v;
        SumSquaredInputs += sq;
        Images++;
    }

    /// <summary>
    /// One image's terms prepared apart from the statistics, to be added in a fixed order with <see cref="Add(GatheredImage)"/>:
    /// its valid-size maps' nonzeros, its b and Σ y². Null when the maps are too dense for the sparse kernel (then
    /// accumulate a per-image instance with <see cref="Accumulate"/> instead). Costs a few bytes per nonzero and one
    /// small filter bank, where a per-image instance costs all of A (34 MB for 64 maps of 8×8).
    /// </summary>
    public static GatheredImage? TryPrepare(LayerOperator op, Tensor3 z, Tensor3 y)
    {
        ArgumentNullException.ThrowIfNull(op);
        op.Geometry.CheckMaps(z, nameof(z));
        op.Geometry.CheckImage(y, nameof(y));
        // Circular maps are gathered on the torus, where their lag stencil is all of A (SparseGramKernels.AccumulateTorusStencil).
        bool circular = op.Geometry.Boundary == Boundary.Circular;
        Tensor3 gather = circular ? z : op.ValidMaps(z);
        var sparse = new SparseMaps();
        if (!sparse.TryGather(gather, SparseLimit(gather))) return null;
        // b = Zᵀy is the filter gradient at residual y: the operator's sparse kernel for maps this sparse, a few times
        // cheaper than the dense correlation (K·C·s²·h·w multiply-adds, 67 M for 64 maps of 8×8 on 128×128).
        var b = new FilterBank(op.Connectivity.Maps, op.Connectivity.Inputs, op.Geometry.FilterSize);
        op.FilterGradient(z, y, b);
        double sq = 0;
        foreach (float v in y.Data) sq += (double)v * v;
        return new GatheredImage(sparse.Compacted(), y.Rows, y.Cols, b, sq, circular);
    }

    /// <summary>
    /// Adds an image prepared by <see cref="TryPrepare"/>: its A (valid maps: straight into these blocks; circular: into
    /// a lag stencil summed in double and spread into the blocks once, when <see cref="Gram"/> is next read), its b and
    /// Σ y². Spreading once per batch instead of once per image saves K²/2 · s⁴ additions an image (8.5 M for 64
    /// maps of 8×8), which at 64×64 images cost more than the image's own nonzero pairs. A large image's valid-map
    /// products may use <paramref name="degreeOfParallelism"/> threads, with the same bits as one.
    /// </summary>
    public void Add(GatheredImage image, int degreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!image.RightHandSide.SameShape(B)) throw new ArgumentException("an image of a different layer shape.", nameof(image));
        if (image.Circular)
        {
            _stencil ??= new double[SparseGramKernels.StencilLength(Connectivity.Maps, Size)];
            SparseGramKernels.AccumulateTorusStencil(image.Maps, Size, _stencil);
            _stencilPending = true;
        }
        else SparseGramKernels.AccumulateGram(image.Maps, image.Rows, image.Cols, Size, _pairIndex, _gram, degreeOfParallelism);
        System.Numerics.Tensors.TensorPrimitives.Add(B.Data, image.RightHandSide.Data, B.Data);
        SumSquaredInputs += image.SumSquaredInput;
        Images++;
    }

    private void FlushStencil()
    {
        if (!_stencilPending) return;
        SparseGramKernels.SpreadStencil(_stencil!, Connectivity.Maps, Size, _pairIndex, _gram);
        Array.Clear(_stencil!);
        _stencilPending = false;
    }

    private static int SparseLimit(Tensor3 zv) => (int)Math.Min(int.MaxValue - 64, (long)(LayerOperator.SparseDensityThreshold * zv.Length));

    /// <summary>A copy (for a checkpoint of minibatch's running statistics: the next step changes these in place).</summary>
    public FilterNormalEquations Clone()
    {
        var copy = new FilterNormalEquations(Connectivity, Size);
        Gram.CopyTo(copy.Gram, 0);
        B.Data.CopyTo(copy.B.Data, 0);
        copy.SetTotals(SumSquaredInputs, Images);
        return copy;
    }

    /// <summary>this += other (same layer). Call in a fixed order (shard index) for reproducible sums.</summary>
    public void Add(FilterNormalEquations other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Size != Size || other.Gram.Length != Gram.Length || !other.B.SameShape(B))
            throw new ArgumentException("statistics of a different layer shape.", nameof(other));
        System.Numerics.Tensors.TensorPrimitives.Add(Gram, other.Gram, Gram);
        System.Numerics.Tensors.TensorPrimitives.Add(B.Data, other.B.Data, B.Data);
        SumSquaredInputs += other.SumSquaredInputs;
        Images += other.Images;
    }

    /// <summary>
    /// this ← ρ · this: the forgetting of online dictionary learning (A ← ρA + A_batch). ρ = 0 leaves exact zeros, so
    /// adding a batch afterwards reproduces that batch's statistics bit for bit.
    /// </summary>
    public void Decay(double rho)
    {
        if (!(rho >= 0 && rho <= 1)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "the forgetting factor must be in [0, 1].");
        System.Numerics.Tensors.TensorPrimitives.Multiply(Gram, (float)rho, Gram);
        System.Numerics.Tensors.TensorPrimitives.Multiply(B.Data, (float)rho, B.Data);
        SumSquaredInputs *= rho;
    }

    /// <summary>Effectively computes <c>destination_{k,c} = g_{k,c} Σ_{k′} g_{k′,c} A_{k,k′} f_{k′,c}</c>.</summary>
    public void Apply(FilterBank f, FilterBank destination)
    {
        if (!f.SameShape(B) || !destination.SameShape(B))
            throw new ArgumentException($"filters must be {B}; got {f} and {destination}.");
        if (ReferenceEquals(f.Data, destination.Data)) throw new ArgumentException("destination must not alias f.", nameof(destination));
        int s2 = Size * Size, maps = Connectivity.Maps;
        float[] gram = Gram;
        Array.Clear(destination.Data);
        for (int c = 0; c < Connectivity.Inputs; c++)
            for (int k = 0; k < maps; k++)
            {
                if (!Connectivity[k, c]) continue;
                Span<float> dst = destination.Plane(k, c);
                for (int k2 = 0; k2 < maps; k2++)
                {
                    if (!Connectivity[k2, c]) continue;
                    int pair = _pairIndex[k * maps + k2];
                    ReadOnlySpan<float> block = gram.AsSpan(pair * BlockLength, BlockLength);
                    ReadOnlySpan<float> x = f.ReadPlane(k2, c);
                    if (k <= k2)
                        for (int a = 0; a < s2; a++) dst[a] += System.Numerics.Tensors.TensorPrimitives.Dot(block.Slice(a * s2, s2), x);
                    else
                        for (int a = 0; a < s2; a++) // block of (k2, k) transposed
                        {
                            float xa = x[a];
                            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(block.Slice(a * s2, s2), xa, dst, dst);
                        }
                }
            }
    }

    ValueTask IFilterSystem.ApplyAsync(FilterBank f, FilterBank destination, CancellationToken cancellationToken)
    {
        Apply(f, destination);
        return ValueTask.CompletedTask;
    }

    /// <summary>½ (fᵀA f − 2 bᵀf + Σ‖y‖²): the data term ½ Σ‖F(z) f − y‖² without touching the images.</summary>
    public double DataTerm(FilterBank f)
    {
        var af = new FilterBank(f.Maps, f.Inputs, f.Size);
        Apply(f, af);
        double fAf = 0, bf = 0;
        for (int i = 0; i < f.Data.Length; i++)
        {
            fAf += (double)f.Data[i] * af.Data[i];
            bf += (double)f.Data[i] * B.Data[i];
        }
        return 0.5 * (fAf - 2 * bf + SumSquaredInputs);
    }

    public void SetTotals(double sumSquaredInputs, long images)
    {
        SumSquaredInputs = sumSquaredInputs;
        Images = images;
    }
}

/// <summary>One image's share of the filter statistics, kept small: see <see cref="FilterNormalEquations.TryPrepare"/>.</summary>
/// <param name="Maps">The nonzeros of the valid-size maps [K, h+s−1, w+s−1]; for <paramref name="Circular"/> ones, of the maps on the torus [K, h, w].</param>
public sealed record GatheredImage(SparseMaps Maps, int Rows, int Cols, FilterBank RightHandSide, double SumSquaredInput, bool Circular = false);
