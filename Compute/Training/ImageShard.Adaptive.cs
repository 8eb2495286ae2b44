using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics.Tensors;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Training;

/// <summary>
/// The adaptive model's side of a shard (Zeiler, Taylor, Fergus 2011). Layer 1 is the 2010 layer. Above it, layer l's
/// input planes are layer l−1's pooled maps, but its maps are inferred against the image through
/// R_l = F_1 U_1 … F_l (<see cref="AdaptiveInference"/>), and its filters are learned from the pixel-space error: with
/// the maps and switches fixed, R_l z = J f_l is linear in f_l, so the shard returns b = Σ_i J_iᵀ y_i from an inference
/// pass and A·d = Σ_i J_iᵀ J_i d on request, and the trainer's matrix-free CG does the rest.
/// Per image it keeps, for each layer l ≥ 1, the switches its inference starts from cold (the lower layers' switches
/// as layer l−1's last inference left them, plus the pooling of layer l−1's maps) and the switches its last inference
/// refreshed them to. Like the maps they are soft state, rebuilt from the frozen layers.
/// </summary>
public sealed partial class ImageShard
{
    private readonly ConcurrentDictionary<int, AdaptiveImageState> _adaptive = new();
    private readonly ConcurrentDictionary<(int Layer, int Rows, int Cols), ConcurrentBag<AdaptiveWorkspace>> _adaptiveWorkspaces = new();
    private readonly Dictionary<int, FilterBank[]> _lowerFilters = new();

    /// <summary>Layers inferred and learned against pixels: every layer above the first of the adaptive model.</summary>
    private bool IsPixelSpace(int layer) => _spec.Model == NetworkModel.Adaptive && layer > 0;

    /// <summary>What a layer's input scale is measured on: its input planes, or for pixel-space layers the image.</summary>
    private Tensor3 ScaleReference(ShardImage image, int layer) => IsPixelSpace(layer) ? image.Inputs[0] : image.Inputs[layer];

    /// <summary>
    /// Layer <paramref name="below"/>+1's input from layer <paramref name="below"/>'s maps: the maps themselves, or (adaptive
    /// model, pooled layer) their 3-D max pooling, whose switches join the stack layer below+1 starts from.
    /// </summary>
    private Tensor3 NextLayerInput(int index, int below)
    {
        Tensor3 z = _images[index].MapsOf(below)!;
        if (_spec.Model != NetworkModel.Adaptive) return z.Clone();
        Tensor3 input;
        int[]? switches = null;
        if (_spec.Layers[below].Pool is { } size)
        {
            var pool = new MaxPool3D(size, z.Planes, z.Rows, z.Cols);
            input = pool.NewPooled();
            switches = pool.NewSwitches();
            pool.Pool(z, input, switches);
        }
        else input = z.Clone();
        AdaptiveImageState state = _adaptive.GetOrAdd(index, _ => new AdaptiveImageState());
        int[]?[] lower = below == 0 ? [] : state.Working[below];
        state.Base[below + 1] = [.. lower.Select(s => (int[]?)s?.Clone()), switches];
        return input;
    }

    private (InferenceTotals, FilterNormalEquations?, FilterBank?) InferOnePixelSpace(int index, InferRequest request)
    {
        if (request.Statistics == FilterStatistics.NormalEquations)
            throw new InvalidOperationException($"layer {request.Layer + 1} of the adaptive model is learned matrix-free (b and A·d); explicit normal equations do not exist for it.");
        ShardImage image = _images[index];
        int layer = request.Layer;
        FilterBank[] lower = request.Frozen.Take(layer).Select(l => l.Filters).ToArray();
        lock (_lowerFilters) _lowerFilters[layer] = lower;
        FilterBank[] f = [.. lower, request.Filters];
        Tensor3 y = image.ScaledInput(0, request.InputScale);
        AdaptiveImageState state = _adaptive[index];
        AdaptiveWorkspace ws = RentPixelSpace(layer, image);
        try
        {
            Tensor3 z = image.EnsureMaps(layer, ws.Operator.NewMaps);
            if (request.ColdStart || !state.Working.ContainsKey(layer))
                state.Working[layer] = state.Base[layer].Select(s => (int[]?)s?.Clone()).ToArray();
            Tensor3 power = state.Power.TryGetValue(layer, out Tensor3? v) ? v : state.Power[layer] = ws.Operator.NewMaps();
            if (request.ColdStart)
            {
                z.Clear();
                power.Clear();
            }
            int[]?[] switches = state.Working[layer];
            long started = Stopwatch.GetTimestamp();
            LayerSpec spec = _spec.Layers[layer];
            AdaptiveStats result = AdaptiveInference.Run(ws, f, y, z, switches, power, spec.Lambda, _spec.Fista, _spec.Adaptive);
            FilterBank? rhs = null;
            if (request.Statistics == FilterStatistics.RightHandSide)
            {
                rhs = new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size);
                ws.Operator.FilterGradient(z, y, f, switches, rhs);   // Jᵀy
            }
            return (result.Stats.ToTotals(Stopwatch.GetElapsedTime(started).TotalSeconds), null, rhs);
        }
        finally
        {
            ReturnPixelSpace(layer, image, ws);
        }
    }

    /// <summary>Σ_i J_iᵀ J_i d over this shard's images (ascending index), J_i from the maps and switches of the layer's last inference.</summary>
    private FilterProduct ApplyGramPixelSpace(GramRequest request, CancellationToken cancellationToken)
    {
        FilterBank d = request.Direction;
        FilterBank[] lower;
        lock (_lowerFilters)
            if (!_lowerFilters.TryGetValue(request.Layer, out lower!))
                throw new InvalidOperationException($"shard {Index} has not inferred layer {request.Layer + 1}; run an inference pass first.");
        int[] mine = _images.Keys.ToArray();
        foreach (int i in mine)
            if (_images[i].MapsOf(request.Layer) is null || !_adaptive.TryGetValue(i, out var s) || !s.Working.ContainsKey(request.Layer))
                throw new InvalidOperationException($"shard {Index} holds no layer-{request.Layer + 1} maps for {_images[i].Name}; run an inference pass first.");
        FilterBank[] f = [.. lower, d];
        var total = new FilterBank(d.Maps, d.Inputs, d.Size);
        for (int start = 0; start < mine.Length; start += MaxParallelism)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(MaxParallelism, mine.Length - start);
            var products = new FilterBank[count];
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken }, i =>
            {
                int index = mine[start + i];
                ShardImage image = _images[index];
                AdaptiveWorkspace ws = RentPixelSpace(request.Layer, image);
                try
                {
                    Tensor3 z = image.MapsOf(request.Layer)!;
                    int[]?[] switches = _adaptive[index].Working[request.Layer];
                    ws.Operator.Synthesize(z, f, switches, ws.Residual);                 // J d
                    products[i] = new FilterBank(d.Maps, d.Inputs, d.Size);
                    ws.Operator.FilterGradient(z, ws.Residual, f, switches, products[i]); // Jᵀ J d
                }
                finally
                {
                    ReturnPixelSpace(request.Layer, image, ws);
                }
            });
            foreach (FilterBank product in products) TensorPrimitives.Add(total.Data, product.Data, total.Data);
        }
        return new FilterProduct(Index, total);
    }

    /// <summary>
    /// The adaptive model's reports: each layer's reconstruction is R_l z_l under the switches its inference left,
    /// divided by the layer's input scale (the image's), so it is in preprocessed-image units; the switches come along.
    /// </summary>
    private IReadOnlyList<ImageReport> ReportPixelSpace(ReportRequest request, CancellationToken cancellationToken)
    {
        int layers = request.Frozen.Count;
        EnsureInputs(layers, request.Frozen, cancellationToken);
        FilterBank[] filters = request.Frozen.Select(l => l.Filters).ToArray();
        var reports = new List<ImageReport>();
        foreach (int index in request.Images.Where(_images.ContainsKey).Order())
        {
            cancellationToken.ThrowIfCancellationRequested();
            ShardImage image = _images[index];
            var recon = new List<Tensor3>();
            var stacks = new List<IReadOnlyList<PoolSwitches?>>();
            for (int top = 0; top < layers; top++)
            {
                AdaptiveWorkspace ws = RentPixelSpace(top, image);
                try
                {
                    int[]?[] switches = top == 0 ? [] : _adaptive[index].Working[top];
                    var pixels = ws.Operator.NewImage();
                    ws.Operator.Synthesize(image.MapsOf(top)!, filters[..(top + 1)], switches, pixels);
                    TensorPrimitives.Multiply(pixels.Data, 1 / request.Frozen[top].InputScale, pixels.Data);
                    recon.Add(pixels);
                    stacks.Add(ws.Operator.Pools.Select((p, j) => p is null ? null : new PoolSwitches(p.Size, p.Maps, p.Rows, p.Cols, (int[])switches[j]!.Clone())).ToArray());
                }
                finally
                {
                    ReturnPixelSpace(top, image, ws);
                }
            }
            IReadOnlyList<Tensor3>? maps = request.IncludeMaps ? Enumerable.Range(0, layers).Select(l => image.MapsOf(l)!.Clone()).ToArray() : null;
            reports.Add(new ImageReport(index, image.Name, image.Input.Clone(), recon, maps, stacks));
        }
        return reports;
    }

    private AdaptiveWorkspace RentPixelSpace(int layer, ShardImage image)
    {
        Tensor3 x = image.Input;
        var bag = _adaptiveWorkspaces.GetOrAdd((layer, x.Rows, x.Cols), _ => new ConcurrentBag<AdaptiveWorkspace>());
        if (bag.TryTake(out AdaptiveWorkspace? ws)) return ws;
        return new AdaptiveWorkspace(ModelGeometry.PixelOperator(_spec, x.Planes, x.Rows, x.Cols, layer + 1));
    }

    private void ReturnPixelSpace(int layer, ShardImage image, AdaptiveWorkspace ws) =>
        _adaptiveWorkspaces[(layer, image.Input.Rows, image.Input.Cols)].Add(ws);

    /// <summary>
    /// One image's state per layer l ≥ 1: the switch stack its inference starts from cold, the stack its last inference
    /// left, and its power-iteration vector for ‖R_lᵀR_l‖ (per image, so results do not depend on the shard plan).
    /// </summary>
    private sealed class AdaptiveImageState
    {
        public Dictionary<int, int[]?[]> Base { get; } = new();
        public Dictionary<int, int[]?[]> Working { get; } = new();
        public Dictionary<int, Tensor3> Power { get; } = new();
    }
}
