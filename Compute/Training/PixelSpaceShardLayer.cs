using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics.Tensors;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// The adaptive model's layers above the first (Zeiler, Taylor, Fergus 2011). Layer l's input planes are layer l−1's
/// pooled maps, but its maps are inferred against the image through R_l = F_1 U_1 … F_l (<see cref="AdaptiveInference"/>),
/// and its filters are learned from the pixel-space error: with the maps and switches fixed, R_l z = J f_l is linear
/// in f_l, so an inference pass returns b = Σ_i J_iᵀ y_i and A·d = Σ_i J_iᵀ J_i d comes on request, for the trainer's
/// matrix-free CG. Per image it keeps, for each layer l ≥ 1, the switches its inference starts from cold (the lower
/// layers' switches as layer l−1's last inference left them, plus the pooling of layer l−1's maps), the switches its
/// last inference refreshed them to, and its power-iteration vector (map-sized, dense, counted in the shard's resident
/// bytes: dropping it would change the Lipschitz estimates and so the results). Like the maps they are soft state,
/// rebuilt from the frozen layers. The adaptive model's between-layer pooling and its reports (every layer through
/// R_l, the first included) live here too.
/// </summary>
internal sealed class PixelSpaceShardLayer(ImageShard shard) : IShardLayer, IShardReporter
{
    private readonly ConcurrentDictionary<int, AdaptiveImageState> _states = new();
    private readonly ConcurrentDictionary<(int Layer, int Rows, int Cols), ConcurrentBag<AdaptiveWorkspace>> _workspaces = new();
    private readonly Dictionary<int, FilterBank[]> _lowerFilters = new();

    /// <summary>Bytes of the switches and power vectors kept for every image.</summary>
    public long ResidentBytes => _states.Values.Sum(s => s.Bytes);

    public void Forget() => _states.Clear();

    /// <summary>Drops one image's switches and power vectors (rebuilt from its maps on demand).</summary>
    public void Forget(int image) => _states.TryRemove(image, out _);

    public ImageResult Infer(ShardImage image, InferRequest request, Connectivity g)
    {
        if (request.Statistics == FilterStatistics.NormalEquations)
            throw new InvalidOperationException($"layer {request.Layer + 1} of the adaptive model is learned matrix-free (b and A·d); explicit normal equations do not exist for it.");
        int layer = request.Layer;
        FilterBank[] lower = request.Frozen.Take(layer).Select(l => l.Filters).ToArray();
        lock (_lowerFilters) _lowerFilters[layer] = lower;
        FilterBank[] f = [.. lower, request.Filters];
        Tensor3 y = shard.RentScaledInput(image, 0, request.InputScale);
        AdaptiveImageState state = _states[image.Index];
        AdaptiveWorkspace ws = Rent(layer, image);
        LayerGeometry top = ws.Operator.Top;
        Tensor3 z = shard.Buffers.Rent(top.Maps, top.MapRows, top.MapCols);
        try
        {
            if (!request.ColdStart && image.MapsOf(layer) is { } kept) kept.CopyTo(z);
            else z.Clear();
            if (request.ColdStart || !state.Working.ContainsKey(layer))
                state.Working[layer] = state.Base[layer].Select(s => (int[]?)s?.Clone()).ToArray();
            Tensor3 power = state.Power.TryGetValue(layer, out Tensor3? v) ? v : state.Power[layer] = ws.Operator.NewMaps();
            if (request.ColdStart) power.Clear();
            int[]?[] switches = state.Working[layer];
            long started = Stopwatch.GetTimestamp();
            LayerSpec spec = shard.Spec.Layers[layer];
            AdaptiveStats result = AdaptiveInference.Run(ws, f, y, z, switches, power, spec.Lambda, shard.Spec.Fista, shard.Spec.Adaptive);
            FilterBank? rhs = null;
            if (request.Statistics == FilterStatistics.RightHandSide)
            {
                rhs = new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size);
                ws.Operator.FilterGradient(z, y, f, switches, rhs);   // Jᵀy
            }
            image.SetMaps(layer, ResidentMaps.Keep(z));
            return new ImageResult(result.Stats.ToTotals(Stopwatch.GetElapsedTime(started).TotalSeconds), null, rhs);
        }
        finally
        {
            shard.Buffers.Return(z);
            Return(layer, image, ws);
            shard.Buffers.Return(y);
        }
    }

    public IReadOnlyList<ShardImage> LackingGram(int layer, IReadOnlyList<ShardImage> images)
    {
        lock (_lowerFilters)
            if (!_lowerFilters.ContainsKey(layer)) return images;
        return [.. images.Where(i => i.MapsOf(layer) is null || !_states.TryGetValue(i.Index, out var s) || !s.Working.ContainsKey(layer))];
    }

    public void CheckGram(int layer, IReadOnlyList<ShardImage> images)
    {
        lock (_lowerFilters)
            if (!_lowerFilters.ContainsKey(layer))
                throw new InvalidOperationException($"shard {shard.Index} has not inferred layer {layer + 1}; run an inference pass first.");
        foreach (ShardImage image in images)
            if (image.MapsOf(layer) is null || !_states.TryGetValue(image.Index, out var s) || !s.Working.ContainsKey(layer))
                throw new InvalidOperationException($"shard {shard.Index} holds no layer-{layer + 1} maps for {image.Name}; run an inference pass first.");
    }

    /// <summary>Pixel-space workspaces are large (five maps-sized buffers), so only as many images as threads at a time.</summary>
    public int GramBatch(int images) => shard.MaxParallelism;

    /// <summary>J_iᵀ J_i d, J_i from the maps and switches of the layer's last inference.</summary>
    public FilterBank ApplyGram(ShardImage image, int layer, FilterBank d)
    {
        FilterBank[] lower;
        lock (_lowerFilters) lower = _lowerFilters[layer];
        FilterBank[] f = [.. lower, d];
        AdaptiveWorkspace ws = Rent(layer, image);
        ResidentMaps kept = image.MapsOf(layer)!;
        Tensor3 z = shard.Buffers.Rent(kept.Planes, kept.Rows, kept.Cols);
        try
        {
            kept.CopyTo(z);
            int[]?[] switches = _states[image.Index].Working[layer];
            ws.Operator.Synthesize(z, f, switches, ws.Residual);                 // J d
            var product = new FilterBank(d.Maps, d.Inputs, d.Size);
            ws.Operator.FilterGradient(z, ws.Residual, f, switches, product);    // Jᵀ J d
            return product;
        }
        finally
        {
            shard.Buffers.Return(z);
            Return(layer, image, ws);
        }
    }

    /// <summary>Pixel-space layers are rescaled against the image.</summary>
    public int ScaleReferenceLayer(int layer) => 0;

    /// <summary>
    /// Layer <paramref name="below"/>+1's input: layer <paramref name="below"/>'s maps, 3-D max pooled when that layer is
    /// pooled; the pooling's switches join the stack layer below+1 starts from.
    /// </summary>
    public ResidentMaps NextLayerInput(ShardImage image, int below)
    {
        Tensor3 z = image.MapsOf(below)!.ToDense();
        Tensor3 input;
        int[]? switches = null;
        if (shard.Spec.Layers[below].Pool is { } size)
        {
            var pool = new MaxPool3D(size, z.Planes, z.Rows, z.Cols);
            input = pool.NewPooled();
            switches = pool.NewSwitches();
            pool.Pool(z, input, switches);
        }
        else input = z;
        AdaptiveImageState state = _states.GetOrAdd(image.Index, _ => new AdaptiveImageState());
        int[]?[] lower = below == 0 ? [] : state.Working[below];
        state.Base[below + 1] = [.. lower.Select(s => (int[]?)s?.Clone()), switches];
        return ResidentMaps.Keep(input);
    }

    /// <summary>
    /// Each layer's reconstruction is R_l z_l under the switches its inference left, divided by the layer's input scale
    /// (the image's), so it is in preprocessed-image units; the switches come along.
    /// </summary>
    public ImageReport Report(ShardImage image, ReportRequest request)
    {
        int layers = request.Frozen.Count;
        FilterBank[] filters = request.Frozen.Select(l => l.Filters).ToArray();
        var recon = new List<Tensor3>();
        var stacks = new List<IReadOnlyList<PoolSwitches?>>();
        for (int top = 0; top < layers; top++)
        {
            AdaptiveWorkspace ws = Rent(top, image);
            try
            {
                int[]?[] switches = top == 0 ? [] : _states[image.Index].Working[top];
                var pixels = ws.Operator.NewImage();
                ws.Operator.Synthesize(image.MapsOf(top)!.ToDense(), filters[..(top + 1)], switches, pixels);
                TensorPrimitives.Multiply(pixels.Data, 1 / request.Frozen[top].InputScale, pixels.Data);
                recon.Add(pixels);
                stacks.Add(ws.Operator.Pools.Select((p, j) => p is null ? null : new PoolSwitches(p.Size, p.Maps, p.Rows, p.Cols, (int[])switches[j]!.Clone())).ToArray());
            }
            finally
            {
                Return(top, image, ws);
            }
        }
        IReadOnlyList<Tensor3>? maps = request.IncludeMaps ? Enumerable.Range(0, layers).Select(l => image.MapsOf(l)!.ToDense()).ToArray() : null;
        Tensor3 input = shard.RentInput(image, 0, out ImageCache.Lease? lease);
        Tensor3 copy = input.Clone();
        shard.ReturnInput(input, lease);
        return new ImageReport(image.Index, image.Name, copy, recon, maps, stacks);
    }

    private AdaptiveWorkspace Rent(int layer, ShardImage image)
    {
        var bag = _workspaces.GetOrAdd((layer, image.Rows, image.Cols), _ => new ConcurrentBag<AdaptiveWorkspace>());
        if (bag.TryTake(out AdaptiveWorkspace? ws)) return ws;
        return new AdaptiveWorkspace(ModelGeometry.PixelOperator(shard.Spec, image.Planes, image.Rows, image.Cols, layer + 1));
    }

    private void Return(int layer, ShardImage image, AdaptiveWorkspace ws) => _workspaces[(layer, image.Rows, image.Cols)].Add(ws);

    /// <summary>One image's switch stacks (cold start and last inference) and power vectors, per layer l ≥ 1.</summary>
    private sealed class AdaptiveImageState
    {
        public ConcurrentDictionary<int, int[]?[]> Base { get; } = new();
        public ConcurrentDictionary<int, int[]?[]> Working { get; } = new();
        public ConcurrentDictionary<int, Tensor3> Power { get; } = new();

        public long Bytes =>
            Base.Values.Concat(Working.Values).Sum(stack => stack.Sum(s => 4L * (s?.Length ?? 0)))
            + Power.Values.Sum(p => 4L * p.Length);
    }
}
