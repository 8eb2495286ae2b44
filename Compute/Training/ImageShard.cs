using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics.Tensors;
using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// The numerics of one shard: it owns some images (already preprocessed, unscaled) and, per layer, each image's input
/// planes and feature maps, kept between epochs as the warm start. It answers the three requests of
/// <see cref="IImageWorkers"/>; <see cref="LocalImageWorkers"/> and the shard grain both wrap one.
/// Maps are soft state: a shard that lost them (a fresh activation) rebuilds them from the frozen layers.
/// Calls must not overlap; within a call, images run in parallel up to <see cref="MaxParallelism"/>.
/// </summary>
public sealed partial class ImageShard
{
    private readonly TrainingSpec _spec;
    private readonly SortedDictionary<int, ShardImage> _images = new();
    private readonly ConcurrentDictionary<(int Layer, int Rows, int Cols, int Threads), ConcurrentBag<InferenceWorkspace>> _workspaces = new();
    private readonly Dictionary<int, Connectivity> _connectivity = new();

    public ImageShard(int index, TrainingSpec spec, int maxParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxParallelism);
        Index = index;
        _spec = spec;
        MaxParallelism = maxParallelism;
    }

    public int Index { get; }
    public int MaxParallelism { get; }
    public int Count => _images.Count;
    public IEnumerable<int> ImageIndices => _images.Keys;

    /// <summary>Planes of the images (0 while empty).</summary>
    public int Planes => _images.Count == 0 ? 0 : _images.Values.First().Input.Planes;

    /// <summary>Adds a preprocessed image under its global index; every image of a shard must have the same planes.</summary>
    public void Add(int globalIndex, string name, Tensor3 preprocessed)
    {
        ArgumentNullException.ThrowIfNull(preprocessed);
        if (_images.ContainsKey(globalIndex)) throw new ArgumentException($"image {globalIndex} ({name}) is already in shard {Index}.");
        if (_images.Count > 0 && preprocessed.Planes != Planes)
            throw new SpecException($"{name} has {preprocessed.Planes} planes but the other images have {Planes}; convert all to grey or all to RGB.", "images");
        if (ImageSizeRequirement.Check(_spec, preprocessed.Rows, preprocessed.Cols) is { } small)
            throw new SpecException($"{name}: {small.Problem}", small.Field);
        _images.Add(globalIndex, new ShardImage(name, preprocessed));
    }

    public LayerInputSummary PrepareLayer(PrepareLayerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureInputs(request.Layer, request.Frozen, cancellationToken);
        double sumSquares = 0;
        long values = 0;
        int planes = 0;
        foreach (ShardImage image in _images.Values)
        {
            Tensor3 input = ScaleReference(image, request.Layer);   // the adaptive model rescales against pixels
            planes = image.Inputs[request.Layer].Planes;
            double sq = SparseCodingObjective.SumOfSquares(input.Data);
            if (!double.IsFinite(sq)) throw new InvalidOperationException($"{image.Name}: layer {request.Layer + 1} input is not finite.");
            sumSquares += sq;
            values += input.Length;
        }
        return new LayerInputSummary(Index, _images.Count, sumSquares, values, planes);
    }

    /// <summary>Infers the requested images (ascending global index) and sums their totals and, if asked, A and b in that order.</summary>
    public ShardPartial Infer(InferRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureInputs(request.Layer, request.Frozen, cancellationToken);
        int[] mine = request.Images is null
            ? _images.Keys.ToArray()
            : request.Images.Where(_images.ContainsKey).Distinct().Order().ToArray();
        Connectivity g = ConnectivityFor(request.Layer, request.Filters.Inputs);
        FilterNormalEquations? sum = request.Statistics == FilterStatistics.NormalEquations ? new FilterNormalEquations(g, request.Filters.Size) : null;
        FilterBank? rhs = request.Statistics == FilterStatistics.RightHandSide ? new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size) : null;
        var totals = default(InferenceTotals);
        // Images run in parallel and their results are then added in image order, so the sums do not depend on
        // scheduling. Per-image A blocks are large, so with those only MaxParallelism images are in flight at a time;
        // otherwise the whole shard is one batch, which keeps every core busy to the end.
        int batch = request.Statistics == FilterStatistics.NormalEquations ? MaxParallelism : Math.Max(1, mine.Length);
        for (int start = 0; start < mine.Length; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batch, mine.Length - start);
            var results = new (InferenceTotals Totals, FilterNormalEquations? Stats, FilterBank? Rhs)[count];
            int inner = ThreadsPerImage(count);
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken }, i =>
                results[i] = InferOne(mine[start + i], request, g, inner));
            foreach (var (t, stats, b) in results)
            {
                totals += t;
                if (stats is not null) sum!.Add(stats);
                if (b is not null) TensorPrimitives.Add(rhs!.Data, b.Data, rhs.Data);
            }
        }
        return new ShardPartial(Index, totals, sum, rhs);
    }

    /// <summary>Σ_i Z_iᵀ Z_i d over this shard's images (ascending index), with the maps of the layer's last inference.</summary>
    public FilterProduct ApplyGram(GramRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (IsPixelSpace(request.Layer)) return ApplyGramPixelSpace(request, cancellationToken);
        FilterBank d = request.Direction;
        int[] mine = _images.Where(p => p.Value.MapsOf(request.Layer) is not null).Select(p => p.Key).ToArray();
        if (mine.Length != _images.Count)
            throw new InvalidOperationException($"shard {Index} holds no layer-{request.Layer + 1} maps for {_images.Count - mine.Length} images; run an inference pass first.");
        cancellationToken.ThrowIfCancellationRequested();
        // One product per image (a filter bank each, small), computed in parallel and added in image order.
        var products = new FilterBank[mine.Length];
        int inner = ThreadsPerImage(mine.Length);
        Parallel.For(0, mine.Length, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken }, i =>
        {
            ShardImage image = _images[mine[i]];
            Tensor3 y = image.Inputs[request.Layer];
            InferenceWorkspace ws = Rent(request.Layer, y, d, inner);
            try
            {
                products[i] = new FilterBank(d.Maps, d.Inputs, d.Size);
                if (image.GatheredOf(request.Layer) is { } gathered)
                {
                    ws.Operator.Synthesize(gathered, d, ws.Residual);
                    ws.Operator.FilterGradient(gathered, ws.Residual, products[i]);
                }
                else
                {
                    Tensor3 z = image.MapsOf(request.Layer)!;
                    ws.Operator.Synthesize(z, d, ws.Residual);
                    ws.Operator.FilterGradient(z, ws.Residual, products[i]);
                }
            }
            finally
            {
                Return(request.Layer, y, ws, inner);
            }
        });
        var total = new FilterBank(d.Maps, d.Inputs, d.Size);
        foreach (FilterBank product in products) TensorPrimitives.Add(total.Data, product.Data, total.Data);
        return new FilterProduct(Index, total);
    }

    /// <summary>Input, per-layer reconstructions carried down to pixels, and optionally the maps, of the requested images.</summary>
    public IReadOnlyList<ImageReport> Report(ReportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_spec.Model == NetworkModel.Adaptive) return ReportPixelSpace(request, cancellationToken);
        int layers = request.Frozen.Count;
        EnsureInputs(layers, request.Frozen, cancellationToken);   // the maps of every frozen layer exist after this
        var reports = new List<ImageReport>();
        foreach (int index in request.Images.Where(_images.ContainsKey).Order())
        {
            ShardImage image = _images[index];
            var recon = new List<Tensor3>();
            for (int top = 0; top < layers; top++)
            {
                Tensor3 current = image.MapsOf(top)!;
                for (int l = top; l >= 0; l--)
                {
                    FrozenLayer frozen = request.Frozen[l];
                    Tensor3 input = image.Inputs[l];
                    InferenceWorkspace ws = Rent(l, input, frozen.Filters);
                    var below = new Tensor3(input.Planes, input.Rows, input.Cols);
                    ws.Operator.Synthesize(current, frozen.Filters, below);
                    Return(l, input, ws);
                    // Layer l reconstructs its scaled input; undo the scale to land in layer l−1's map units.
                    TensorPrimitives.Multiply(below.Data, 1 / frozen.InputScale, below.Data);
                    current = below;
                }
                recon.Add(current);
            }
            IReadOnlyList<Tensor3>? maps = request.IncludeMaps ? Enumerable.Range(0, layers).Select(l => image.MapsOf(l)!.Clone()).ToArray() : null;
            reports.Add(new ImageReport(index, image.Name, image.Input.Clone(), recon, maps));
        }
        return reports;
    }

    /// <summary>Drops the maps and derived inputs (a fresh activation has none): they are rebuilt on demand.</summary>
    public void ForgetMaps()
    {
        foreach (ShardImage image in _images.Values) image.Reset();
        _adaptive.Clear();
    }

    private (InferenceTotals, FilterNormalEquations?, FilterBank?) InferOne(int index, InferRequest request, Connectivity g, int threads = 1)
    {
        if (IsPixelSpace(request.Layer)) return InferOnePixelSpace(index, request);
        ShardImage image = _images[index];
        int layer = request.Layer;
        Tensor3 y = image.ScaledInput(layer, request.InputScale);
        InferenceWorkspace ws = Rent(layer, y, request.Filters, threads);
        try
        {
            Tensor3 z = image.EnsureMaps(layer, ws.Geometry.NewMaps);
            image.SetGathered(layer, null);   // the maps are about to change
            if (request.ColdStart) z.Clear();
            long started = Stopwatch.GetTimestamp();
            InferenceStats stats = InferMaps(ws, request.Filters, request.FilterVersion.Key, y, z, layer);
            FilterNormalEquations? eq = null;
            FilterBank? rhs = null;
            if (request.Statistics == FilterStatistics.NormalEquations)
            {
                eq = new FilterNormalEquations(g, request.Filters.Size);
                eq.Accumulate(ws.Operator, z, y);
            }
            else if (request.Statistics == FilterStatistics.RightHandSide)
            {
                // A·d products follow, each a synthesis and a filter gradient from these same maps: gather them once.
                SparseMaps? gathered = ws.Operator.TryGather(z);
                image.SetGathered(layer, gathered);
                rhs = new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size);
                if (gathered is null) ws.Operator.FilterGradient(z, y, rhs);
                else ws.Operator.FilterGradient(gathered, y, rhs);
            }
            return (stats.ToTotals(Stopwatch.GetElapsedTime(started).TotalSeconds), eq, rhs);
        }
        finally
        {
            Return(layer, y, ws, threads);
        }
    }

    private InferenceStats InferMaps(InferenceWorkspace ws, FilterBank f, long version, Tensor3 y, Tensor3 z, int layer)
    {
        LayerSpec l = _spec.Layers[layer];
        return _spec.Solver switch
        {
            InferenceSolver.Fista => FistaInference.Run(ws, f, version, y, z, l.Lambda, _spec.Fista),
            InferenceSolver.CoordinateDescent => CoordinateDescentInference.Run(ws, f, version, y, z, l.Lambda, _spec.CoordinateDescent),
            _ => ZeilerInference.Run(ws, f, y, z, l.Lambda, l.P, _spec.Zeiler),
        };
    }

    /// <summary>
    /// Makes layer <paramref name="layer"/>'s inputs exist: layer 0's are the images; layer l's are layer l−1's maps
    /// under the frozen filters, re-inferred here (cold start) when this shard does not hold them.
    /// </summary>
    private void EnsureInputs(int layer, IReadOnlyList<FrozenLayer> frozen, CancellationToken cancellationToken)
    {
        if (layer < 0 || layer >= _spec.Layers.Count + 1) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the spec has {_spec.Layers.Count} layers.");
        if (frozen.Count < layer) throw new ArgumentException($"layer {layer + 1} needs the {layer} frozen layers below it; got {frozen.Count}.", nameof(frozen));
        for (int l = 1; l <= layer; l++)
        {
            int below = l - 1;
            int[] missing = _images.Where(p => p.Value.Inputs.Count <= l).Select(p => p.Key).ToArray();
            if (missing.Length == 0) continue;
            FrozenLayer f = frozen[below];
            Connectivity g = ConnectivityFor(below, f.Filters.Inputs);
            var rebuild = missing.Where(i => _images[i].MapsOf(below) is null).ToArray();
            if (rebuild.Length > 0)
            {
                // Frozen filter versions never meet training's in the solvers' caches.
                var request = new InferRequest(below, -1, FilterVersion.Frozen(below), f.Filters, f.InputScale, frozen, rebuild, FilterStatistics.None, ColdStart: true);
                for (int start = 0; start < rebuild.Length; start += MaxParallelism)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int count = Math.Min(MaxParallelism, rebuild.Length - start);
                    int inner = ThreadsPerImage(count);
                    Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism }, i => InferOne(rebuild[start + i], request, g, inner));
                }
            }
            foreach (int i in missing) _images[i].SetInput(l, NextLayerInput(i, below));
        }
    }

    private Connectivity ConnectivityFor(int layer, int inputs)
    {
        lock (_connectivity)
        {
            if (!_connectivity.TryGetValue(layer, out Connectivity? g) || g.Inputs != inputs)
                _connectivity[layer] = g = _spec.ConnectivityFor(layer, inputs);
            return g;
        }
    }

    /// <summary>
    /// Threads each image's operators and solver may use when <paramref name="images"/> run at once: with at least as
    /// many images as threads, one each (images are the cheaper split: no halo, no barrier); with fewer, the spare
    /// threads go inside the images (row bands of the dense operators, spatial tiles of coordinate descent).
    /// </summary>
    private int ThreadsPerImage(int images) => Math.Max(1, MaxParallelism / Math.Clamp(images, 1, MaxParallelism));

    private InferenceWorkspace Rent(int layer, Tensor3 y, FilterBank f, int threads = 1)
    {
        var bag = _workspaces.GetOrAdd((layer, y.Rows, y.Cols, threads), _ => new ConcurrentBag<InferenceWorkspace>());
        if (bag.TryTake(out InferenceWorkspace? ws)) return ws;
        var geometry = new LayerGeometry(y.Planes, f.Maps, f.Size, y.Rows, y.Cols, _spec.Boundary);
        return new InferenceWorkspace(new LayerOperator(geometry, ConnectivityFor(layer, y.Planes), threads));
    }

    private void Return(int layer, Tensor3 y, InferenceWorkspace ws, int threads = 1) => _workspaces[(layer, y.Rows, y.Cols, threads)].Add(ws);

    /// <summary>One image's state: its preprocessed input, each layer's input (layer 0 = the image) and maps.</summary>
    private sealed class ShardImage(string name, Tensor3 input)
    {
        private readonly Dictionary<int, (float Scale, Tensor3 Scaled)> _scaled = new();
        private readonly Dictionary<int, SparseMaps> _gathered = new();

        public string Name { get; } = name;
        public Tensor3 Input { get; } = input;
        public List<Tensor3> Inputs { get; } = [input];
        private List<Tensor3?> Maps { get; } = [];

        public Tensor3? MapsOf(int layer) => layer < Maps.Count ? Maps[layer] : null;

        /// <summary>The nonzeros of the layer's maps as the last inference left them, when it gathered them (else null).</summary>
        public SparseMaps? GatheredOf(int layer) => _gathered.GetValueOrDefault(layer);

        /// <summary>Called by the one thread that works on this image in a pass (passes parallelise across images).</summary>
        public void SetGathered(int layer, SparseMaps? gathered)
        {
            if (gathered is null) _gathered.Remove(layer);
            else _gathered[layer] = gathered;
        }

        public Tensor3 EnsureMaps(int layer, Func<Tensor3> create)
        {
            while (Maps.Count <= layer) Maps.Add(null);
            return Maps[layer] ??= create();
        }

        public Tensor3 ScaledInput(int layer, float scale)
        {
            lock (_scaled)
            {
                if (_scaled.TryGetValue(layer, out var cached) && cached.Scale == scale) return cached.Scaled;
                var scaled = Inputs[layer].Clone();
                TensorPrimitives.Multiply(scaled.Data, scale, scaled.Data);
                _scaled[layer] = (scale, scaled);
                return scaled;
            }
        }

        public void SetInput(int layer, Tensor3 input)
        {
            while (Inputs.Count <= layer) Inputs.Add(input);
            Inputs[layer] = input;
        }

        public void Reset()
        {
            Inputs.RemoveRange(1, Inputs.Count - 1);
            Maps.Clear();
            _scaled.Clear();
            _gathered.Clear();
        }
    }
}
