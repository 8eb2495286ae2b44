using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Adaptive;

/// <summary>
/// The reconstruction of layer l's maps down to pixels and its adjoints (Zeiler, Taylor, Fergus 2011):
/// <c>R_l = F_1 U_1 F_2 U_2 … U_{l−1} F_l</c>. Legend: F_j layer j's synthesis (<see cref="LayerOperator"/>) with filters
/// f_j; U_j the unpooling of layer j's maps by its switches s_j (identity where a layer is not pooled); P_j = U_jᵀ the
/// pooling by those switches. Layer j+1's input planes are layer j's pooled maps, so F_{j+1} writes into the pooled
/// shape and U_j lifts it back to layer j's maps. With no pooling anywhere this is the 2010 model's F_1 F_2 … F_l.
/// <list type="bullet">
/// <item><see cref="Synthesize"/>: ŷ = R_l z.</item>
/// <item><see cref="Adjoint"/>: R_lᵀ r = F_lᵀ P_{l−1} F_{l−1}ᵀ … P_1 F_1ᵀ r.</item>
/// <item><see cref="FilterGradient"/>: with z and every switch fixed, R_l z = J f_l is linear in the top filters,
/// J f = R_{l−1} U_{l−1} (F_l(z) f); this returns Jᵀ r, the gradient in f_l of ⟨R_l z, r⟩.</item>
/// </list>
/// The intermediate maps of the last calls stay readable (<see cref="TopDownMaps"/>, <see cref="UpwardGradient"/>):
/// the switch refresh of <see cref="AdaptiveInference"/> reads them. One instance owns scratch space for one image
/// size and is not thread-safe.
/// </summary>
public sealed class PixelOperator
{
    private readonly LayerOperator[] _layers;
    private readonly MaxPool3D?[] _pools;
    private readonly Tensor3[] _layerOutput;   // [j ≥ 1]: F_j x, shaped like layer j's input (layer j−1's pooled maps)
    private readonly Tensor3[] _topDown;       // [j < l−1]: layer j's maps carried down from the top, U_j F_{j+1} …
    private readonly Tensor3[] _upward;        // [j < l−1]: R_jᵀ r, shaped like layer j's maps
    private readonly Tensor3[] _upwardInput;   // [j ≥ 1]: P_{j−1} R_{j−1}ᵀ r, shaped like layer j's input

    /// <param name="layers">Layer 1 first; layer j+1's input is layer j's maps, pooled by <paramref name="pools"/>[j].</param>
    /// <param name="pools">One entry between each pair of layers (Count = layers − 1); null where maps are not pooled.</param>
    public PixelOperator(IReadOnlyList<LayerOperator> layers, IReadOnlyList<MaxPool3D?> pools)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(pools);
        if (layers.Count == 0) throw new ArgumentException("a reconstruction path needs at least one layer.", nameof(layers));
        if (pools.Count != layers.Count - 1) throw new ArgumentException($"{layers.Count} layers need {layers.Count - 1} pooling entries; got {pools.Count}.", nameof(pools));
        _layers = layers.ToArray();
        _pools = pools.ToArray();
        int depth = _layers.Length;
        _layerOutput = new Tensor3[depth];
        _topDown = new Tensor3[depth];
        _upward = new Tensor3[depth];
        _upwardInput = new Tensor3[depth];
        for (int j = 0; j + 1 < depth; j++)
        {
            LayerGeometry below = _layers[j].Geometry, above = _layers[j + 1].Geometry;
            MaxPool3D? pool = _pools[j];
            (int planes, int rows, int cols) = pool is null
                ? (below.Maps, below.MapRows, below.MapCols)
                : (pool.PooledMaps, pool.PooledRows, pool.PooledCols);
            if (pool is not null && (pool.Maps != below.Maps || pool.Rows != below.MapRows || pool.Cols != below.MapCols))
                throw new ArgumentException($"pooling {j + 1} is {pool}; layer {j + 1}'s maps are [{below.Maps}, {below.MapRows}, {below.MapCols}].", nameof(pools));
            if (above.Inputs != planes || above.Rows != rows || above.Cols != cols)
                throw new ArgumentException($"layer {j + 2} reads [{above.Inputs}, {above.Rows}, {above.Cols}]; layer {j + 1}'s {(pool is null ? "maps" : "pooled maps")} are [{planes}, {rows}, {cols}].", nameof(layers));
            _layerOutput[j + 1] = above.NewImage();
            _upward[j] = below.NewMaps();
            // Without pooling layer j's maps are layer j+1's input: share the buffers instead of copying.
            _topDown[j] = pool is null ? _layerOutput[j + 1] : below.NewMaps();
            _upwardInput[j + 1] = pool is null ? _upward[j] : above.NewImage();
        }
    }

    /// <summary>Layers in the path, l.</summary>
    public int Depth => _layers.Length;

    public IReadOnlyList<LayerOperator> Layers => _layers;
    public IReadOnlyList<MaxPool3D?> Pools => _pools;

    /// <summary>The top layer's geometry: z is [K_l, MapRows, MapCols].</summary>
    public LayerGeometry Top => _layers[^1].Geometry;

    /// <summary>Layer 1's geometry: the reconstruction is [C, Rows, Cols], the image's shape.</summary>
    public LayerGeometry Bottom => _layers[0].Geometry;

    public Tensor3 NewMaps() => Top.NewMaps();
    public Tensor3 NewImage() => Bottom.NewImage();

    /// <summary>Layer j's maps (0-based, j &lt; l−1) as the last <see cref="Synthesize"/> carried them down: U_j F_{j+1} … F_l z.</summary>
    public Tensor3 TopDownMaps(int j) => _topDown[CheckBelowTop(j)];

    /// <summary>R_{j+1}ᵀ r for 0-based j &lt; l−1, left by the last <see cref="Adjoint"/> or <see cref="FilterGradient"/>.</summary>
    public Tensor3 UpwardGradient(int j) => _upward[CheckBelowTop(j)];

    /// <summary>Effectively computes <c>destination = F_1 U_1 F_2 U_2 … F_l z</c>.</summary>
    public void Synthesize(Tensor3 z, IReadOnlyList<FilterBank> f, IReadOnlyList<int[]?> switches, Tensor3 destination)
    {
        Check(f, switches);
        Tensor3 x = z;
        for (int j = Depth - 1; j >= 1; j--)
        {
            _layers[j].Synthesize(x, f[j], _layerOutput[j]);
            if (_pools[j - 1] is { } pool) pool.Unpool(_layerOutput[j], switches[j - 1]!, _topDown[j - 1]);
            x = _topDown[j - 1];
        }
        _layers[0].Synthesize(x, f[0], destination);
    }

    /// <summary>
    /// R_l with every unpooling replaced by its mean over switch settings (<see cref="MaxPool3D.UnpoolMean"/>): the
    /// expected reconstruction when each block's switch is drawn uniformly. Needs no switches, so it shows what a unit
    /// of layer l draws without an image.
    /// </summary>
    public void SynthesizeMean(Tensor3 z, IReadOnlyList<FilterBank> f, Tensor3 destination)
    {
        ArgumentNullException.ThrowIfNull(f);
        if (f.Count != Depth) throw new ArgumentException($"{f.Count} filter banks for a path of {Depth} layers.", nameof(f));
        Tensor3 x = z;
        for (int j = Depth - 1; j >= 1; j--)
        {
            _layers[j].Synthesize(x, f[j], _layerOutput[j]);
            _pools[j - 1]?.UnpoolMean(_layerOutput[j], _topDown[j - 1]);
            x = _topDown[j - 1];
        }
        _layers[0].Synthesize(x, f[0], destination);
    }

    /// <summary>Effectively computes <c>destination = R_lᵀ r = F_lᵀ P_{l−1} F_{l−1}ᵀ … P_1 F_1ᵀ r</c>.</summary>
    public void Adjoint(Tensor3 r, IReadOnlyList<FilterBank> f, IReadOnlyList<int[]?> switches, Tensor3 destination)
    {
        Check(f, switches);
        _layers[^1].Adjoint(UpToTopInput(r, f, switches), f[^1], destination);
    }

    /// <summary>
    /// Effectively computes <c>destination = Jᵀ r</c> for <c>J f_l = R_l z</c> (every switch and lower filter fixed):
    /// <c>destination[k,c,u,v] = g_{k,c} Σ_{i,j} x_c[i,j] z_k[i+s−1−u, j+s−1−v]</c> with
    /// <c>x = P_{l−1} F_{l−1}ᵀ … P_1 F_1ᵀ r</c>, the residual carried up to the top layer's input.
    /// <paramref name="f"/>[l−1] is not read: J does not depend on the top filters.
    /// </summary>
    public void FilterGradient(Tensor3 z, Tensor3 r, IReadOnlyList<FilterBank> f, IReadOnlyList<int[]?> switches, FilterBank destination)
    {
        Check(f, switches);
        _layers[^1].FilterGradient(z, UpToTopInput(r, f, switches), destination);
    }

    private Tensor3 UpToTopInput(Tensor3 r, IReadOnlyList<FilterBank> f, IReadOnlyList<int[]?> switches)
    {
        Tensor3 x = r;
        for (int j = 0; j + 1 < Depth; j++)
        {
            _layers[j].Adjoint(x, f[j], _upward[j]);
            if (_pools[j] is { } pool) pool.Gather(_upward[j], switches[j]!, _upwardInput[j + 1]);
            x = _upwardInput[j + 1];
        }
        return x;
    }

    private void Check(IReadOnlyList<FilterBank> f, IReadOnlyList<int[]?> switches)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(switches);
        if (f.Count != Depth) throw new ArgumentException($"{f.Count} filter banks for a path of {Depth} layers.", nameof(f));
        if (switches.Count != Depth - 1) throw new ArgumentException($"{switches.Count} switch arrays for a path of {Depth} layers (needs {Depth - 1}).", nameof(switches));
        for (int j = 0; j + 1 < Depth; j++)
            if (_pools[j] is { } pool && (switches[j] is not { } s || s.Length != pool.PooledLength))
                throw new ArgumentException($"layer {j + 1} is pooled {pool.Size}: it needs {pool.PooledLength} switches; got {switches[j]?.Length.ToString() ?? "none"}.", nameof(switches));
    }

    private int CheckBelowTop(int j)
    {
        if (j < 0 || j >= Depth - 1) throw new ArgumentOutOfRangeException(nameof(j), j, $"layers below the top of a {Depth}-layer path are 0..{Depth - 2}.");
        return j;
    }
}
