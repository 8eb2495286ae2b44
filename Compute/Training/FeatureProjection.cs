using System.Numerics.Tensors;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Adaptive;

namespace Distributed.Compute.Training;

/// <summary>One unit of a layer's maps: map k at (row, col) of image <see cref="Image"/>'s z, and its value.</summary>
public readonly record struct Activation(int Image, int Map, int Row, int Col, float Value);

/// <summary>A box of pixels [Row, Row+Rows) × [Col, Col+Cols); it may reach outside the image (see <see cref="FeatureProjection.Crop"/>).</summary>
public readonly record struct PixelWindow(int Row, int Col, int Rows, int Cols);

/// <summary>
/// Projects single units of layer L down to pixel space, alone, through R_L = F_1 U_1 … F_L (Zeiler, Taylor, Fergus
/// 2011; Zeiler and Fergus 2014): every other activation is zero, so the picture is what that one unit contributes to
/// the image. An image's unit is unpooled by that image's switches; a filter (a one-hot unit with no image) by the
/// mean over switch settings. Results are in preprocessed-image units: R_L e divided by the image scale (adaptive
/// model) or by every layer's input scale (2010 model, whose layers each reconstruct a rescaled input).
/// One instance serves one image size and is not thread-safe.
/// <para>Footprint arithmetic (<see cref="Window"/>): layer j's synthesis spreads map rows [a, b] over input rows
/// [a − s_j + 1, b] (valid boundary) or [a, b + s_j − 1] (circular, mod the image); unpooling by pr rows spreads pooled
/// rows [a, b] over [a·pr, b·pr + pr − 1]; columns likewise. One unit of layer 2 over pooling p and filters s1, s2 so
/// spans at most s2·p + s1 − 1 pixels a side, and exactly (s2 − 1)·p + s1 when every switch sits at the same offset of
/// its block and no tap is zero.</para>
/// </summary>
public sealed class FeatureProjection
{
    private readonly TrainingSpec _spec;
    private readonly FilterBank[] _filters;
    private readonly float _gain;
    private readonly Tensor3 _unit;

    /// <param name="layer">The layer whose units are projected, 0-based; the model must hold it and every layer below.</param>
    /// <param name="planes">The image's planes, rows and cols.</param>
    public FeatureProjection(TrainingSpec spec, IReadOnlyList<FrozenLayer> model, int layer, int planes, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(model);
        if (layer < 0 || layer >= model.Count || layer >= spec.Layers.Count)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has {model.Count} layers.");
        _spec = spec;
        Layer = layer;
        Operator = ModelGeometry.PixelOperator(spec, planes, rows, cols, layer + 1);
        _filters = model.Take(layer + 1).Select(l => l.Filters).ToArray();
        for (int j = 0; j <= layer; j++) Operator.Layers[j].Geometry.CheckFilters(_filters[j], $"layer {j + 1} filters");
        _gain = spec.Model == NetworkModel.Adaptive
            ? 1 / model[layer].InputScale
            : model.Take(layer + 1).Aggregate(1f, (g, l) => g / l.InputScale);
        _unit = Operator.NewMaps();
    }

    public int Layer { get; }
    public PixelOperator Operator { get; }

    /// <summary>Layer <see cref="Layer"/>'s maps shape for this image size: [K, MapRows, MapCols].</summary>
    public LayerGeometry Top => Operator.Top;

    /// <summary>The pixels of one unit alone: <c>R_L(value · e_{map,row,col}) / scale</c>, unpooled by <paramref name="switches"/>.</summary>
    /// <param name="switches">The image's switches under layer L (<see cref="ImageReport.Switches"/>[L]); ignored entries where unpooled.</param>
    public Tensor3 Project(Activation unit, IReadOnlyList<PoolSwitches?> switches)
    {
        ArgumentNullException.ThrowIfNull(switches);
        if (switches.Count != Operator.Pools.Count)
            throw new ArgumentException($"layer {Layer + 1} sits on {Operator.Pools.Count} poolings; got {switches.Count} switch sets.", nameof(switches));
        var indices = new int[]?[switches.Count];
        for (int j = 0; j < switches.Count; j++)
        {
            if (Operator.Pools[j] is not { } pool) continue;
            PoolSwitches s = switches[j] ?? throw new ArgumentException($"layer {j + 1} is pooled but no switches were given for it.", nameof(switches));
            if (s.Size != pool.Size || s.Maps != pool.Maps || s.Rows != pool.Rows || s.Cols != pool.Cols)
                throw new ArgumentException($"switches of layer {j + 1} were recorded for {s.Size} over [{s.Maps}, {s.Rows}, {s.Cols}]; this image needs {pool}.", nameof(switches));
            pool.CheckSwitches(s.Indices, nameof(switches));
            indices[j] = s.Indices;
        }
        SetUnit(unit);
        var pixels = Operator.NewImage();
        Operator.Synthesize(_unit, _filters, indices, pixels);
        TensorPrimitives.Multiply(pixels.Data, _gain, pixels.Data);
        return pixels;
    }

    /// <summary>The pixels of one unit with no image: unpooled by the mean over switch settings.</summary>
    public Tensor3 ProjectMean(Activation unit)
    {
        SetUnit(unit);
        var pixels = Operator.NewImage();
        Operator.SynthesizeMean(_unit, _filters, pixels);
        TensorPrimitives.Multiply(pixels.Data, _gain, pixels.Data);
        return pixels;
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s filter for <paramref name="map"/> seen in pixels: a one-hot unit at the centre of
    /// a blank canvas just large enough, projected with mean unpooling and cropped to its footprint <see cref="Window"/>.
    /// </summary>
    public static Tensor3 ProjectFilter(TrainingSpec spec, IReadOnlyList<FrozenLayer> model, int layer, int planes, int map)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (rows, cols) = Extent(spec, layer);
        // Room for the footprint on either side of the centre, and for every filter to fit its pooled input.
        int canvasRows = 2 * rows + 2 * MaxFilter(spec, layer), canvasCols = 2 * cols + 2 * MaxFilter(spec, layer);
        var projection = new FeatureProjection(spec, model, layer, planes, canvasRows, canvasCols);
        if (map < 0 || map >= projection.Top.Maps) throw new ArgumentOutOfRangeException(nameof(map), map, $"layer {layer + 1} has {projection.Top.Maps} maps.");
        var unit = new Activation(0, map, projection.Top.MapRows / 2, projection.Top.MapCols / 2, 1);
        Tensor3 pixels = projection.ProjectMean(unit);
        return Crop(pixels, Window(spec, layer, unit.Row, unit.Col), spec.Boundary);
    }

    /// <summary>
    /// The pixels a unit of layer <paramref name="layer"/> at map position (row, col) can touch, by the footprint
    /// arithmetic in the class summary. Rows and cols depend on the layer only (see <see cref="Extent"/>).
    /// </summary>
    public static PixelWindow Window(TrainingSpec spec, int layer, int row, int col)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (layer < 0 || layer >= spec.Layers.Count) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the spec has {spec.Layers.Count} layers.");
        var (r0, r1) = Span(spec, layer, row, static p => p.Rows);
        var (c0, c1) = Span(spec, layer, col, static p => p.Cols);
        return new PixelWindow(r0, c0, r1 - r0 + 1, c1 - c0 + 1);
    }

    /// <summary>The footprint size of one unit of layer <paramref name="layer"/>: rows and cols of <see cref="Window"/>.</summary>
    public static (int Rows, int Cols) Extent(TrainingSpec spec, int layer)
    {
        PixelWindow w = Window(spec, layer, 0, 0);
        return (w.Rows, w.Cols);
    }

    /// <summary>
    /// The window's pixels, [C, rows, cols]: positions outside the image are 0 (valid boundary) or wrap around
    /// (circular boundary, where the maps are periodic).
    /// </summary>
    public static Tensor3 Crop(Tensor3 pixels, PixelWindow window, Boundary boundary)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        var crop = new Tensor3(pixels.Planes, window.Rows, window.Cols);
        for (int p = 0; p < pixels.Planes; p++)
            for (int i = 0; i < window.Rows; i++)
                for (int j = 0; j < window.Cols; j++)
                {
                    int r = window.Row + i, c = window.Col + j;
                    if (boundary == Boundary.Circular)
                    {
                        r = ((r % pixels.Rows) + pixels.Rows) % pixels.Rows;
                        c = ((c % pixels.Cols) + pixels.Cols) % pixels.Cols;
                    }
                    else if (r < 0 || r >= pixels.Rows || c < 0 || c >= pixels.Cols) continue;
                    crop[p, i, j] = pixels[p, r, c];
                }
        return crop;
    }

    /// <summary>
    /// The <paramref name="count"/> strongest units (largest |value|) of map <paramref name="map"/> over the given
    /// images' maps, strongest first; ties go to the lower image, then the earlier position. Zeros never count.
    /// </summary>
    public static IReadOnlyList<Activation> Strongest(IEnumerable<(int Image, Tensor3 Maps)> images, int map, int count)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        // Min-heap of the best so far, keyed so the weakest (then the latest) is on top to be replaced.
        var heap = new PriorityQueue<Activation, (float Abs, int Image, int Index)>(Comparer<(float Abs, int Image, int Index)>.Create(
            (a, b) => a.Abs != b.Abs ? a.Abs.CompareTo(b.Abs) : a.Image != b.Image ? b.Image.CompareTo(a.Image) : b.Index.CompareTo(a.Index)));
        foreach (var (image, maps) in images)
        {
            if (map < 0 || map >= maps.Planes) throw new ArgumentOutOfRangeException(nameof(map), map, $"image {image}'s maps are {maps}.");
            ReadOnlySpan<float> plane = maps.ReadPlane(map);
            for (int q = 0; q < plane.Length; q++)
            {
                float v = plane[q];
                if (v == 0 || count == 0) continue;
                var key = (MathF.Abs(v), image, q);
                if (heap.Count < count) heap.Enqueue(new Activation(image, map, q / maps.Cols, q % maps.Cols, v), key);
                else if (heap.Comparer.Compare(key, PeekKey(heap)) > 0)
                    heap.EnqueueDequeue(new Activation(image, map, q / maps.Cols, q % maps.Cols, v), key);
            }
        }
        var result = new List<Activation>(heap.Count);
        while (heap.TryDequeue(out Activation a, out _)) result.Add(a);
        result.Reverse();
        return result;
    }

    private static (float, int, int) PeekKey(PriorityQueue<Activation, (float Abs, int Image, int Index)> heap)
    {
        heap.TryPeek(out _, out var key);
        return key;
    }

    private void SetUnit(Activation unit)
    {
        LayerGeometry g = Top;
        if (unit.Map < 0 || unit.Map >= g.Maps || unit.Row < 0 || unit.Row >= g.MapRows || unit.Col < 0 || unit.Col >= g.MapCols)
            throw new ArgumentOutOfRangeException(nameof(unit), unit, $"layer {Layer + 1}'s maps are [{g.Maps}, {g.MapRows}, {g.MapCols}] for this image size.");
        _unit.Clear();
        _unit[unit.Map, unit.Row, unit.Col] = unit.Value;
    }

    /// <summary>Pixel rows [lo, hi] reached from map rows [x, x] of layer <paramref name="layer"/> (cols with the other selector).</summary>
    private static (int Lo, int Hi) Span(TrainingSpec spec, int layer, int x, Func<PoolSize, int> extent)
    {
        int lo = x, hi = x;
        for (int j = layer; j >= 0; j--)
        {
            int s = spec.Layers[j].FilterSize;
            if (spec.Boundary == Boundary.Valid) lo -= s - 1;
            else hi += s - 1;
            if (j > 0 && spec.Layers[j - 1].Pool is { } pool)
            {
                int p = extent(pool);
                lo *= p;
                hi = hi * p + p - 1;
            }
        }
        return (lo, hi);
    }

    private static int MaxFilter(TrainingSpec spec, int layer) => spec.Layers.Take(layer + 1).Max(l => l.FilterSize);
}
