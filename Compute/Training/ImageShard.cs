using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Distributed.Compute.Features;
using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// The numerics of one shard: it owns some images and, per layer, what each image keeps between passes (its maps, the
/// warm start, and its input planes above layer 1). It answers the requests of <see cref="IImageWorkers"/>;
/// <see cref="LocalImageWorkers"/> and the shard grain both wrap one. The work of a layer is done by its
/// <see cref="IShardLayer"/>: a <see cref="DeconvShardLayer"/>, or for the adaptive model's layers above the first a
/// <see cref="PixelSpaceShardLayer"/>.
/// <para>
/// Memory: a shard holds references to its images (<see cref="IImageSource"/>); the decoded, preprocessed inputs live
/// in an <see cref="ImageCache"/> bounded by the shard's memory budget, which also counts the state kept between
/// passes. Maps are kept compact (<see cref="ResidentMaps"/>); dense buffers exist only for the images being worked
/// on, pooled. Maps are soft state: a shard that lost them (a fresh activation) rebuilds them from the frozen layers.
/// </para>
/// Calls must not overlap; within a call, images run in parallel up to <see cref="MaxParallelism"/>.
/// </summary>
public sealed class ImageShard
{
    private readonly SortedDictionary<int, ShardImage> _images = new();
    private readonly ConcurrentDictionary<(int Layer, int Rows, int Cols, int Threads), ConcurrentBag<InferenceWorkspace>> _workspaces = new();
    private readonly Dictionary<int, Connectivity> _connectivity = new();
    private int _threadsPerImage = 1;
    private readonly DeconvShardLayer _deconv;
    private readonly PixelSpaceShardLayer _pixelSpace;

    /// <param name="memoryBudget">Bytes for cached inputs and kept state (0: <see cref="ShardMemory.Default"/> for one shard).</param>
    public ImageShard(int index, TrainingSpec spec, int maxParallelism = 1, long memoryBudget = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxParallelism);
        ArgumentOutOfRangeException.ThrowIfNegative(memoryBudget);
        Index = index;
        Spec = spec;
        MaxParallelism = maxParallelism;
        Cache = new ImageCache(memoryBudget > 0 ? memoryBudget : ShardMemory.Default(1));
        _deconv = new DeconvShardLayer(this);
        _pixelSpace = new PixelSpaceShardLayer(this);
    }

    public int Index { get; }
    public int MaxParallelism { get; }

    /// <summary>
    /// Where the tiles of a large image's coordinate-descent solve run (a cluster's tile grains, set by the shard grain
    /// for each command); null: in this process. Either way the maps are the same bits.
    /// </summary>
    public ITileHost? Tiles { get; set; }
    public int Count => _images.Count;
    public IEnumerable<int> ImageIndices => _images.Keys;

    /// <summary>The decoded images, bounded by the shard's memory budget.</summary>
    public ImageCache Cache { get; }

    /// <summary>Bytes kept between passes for all images (maps, derived inputs, the adaptive model's switches), after the last call.</summary>
    public long ResidentStateBytes { get; private set; }

    /// <summary>Planes of the images (0 while empty).</summary>
    public int Planes => _images.Count == 0 ? 0 : _images.Values.First().Planes;

    internal TrainingSpec Spec { get; }
    internal TensorPool Buffers { get; } = new();
    internal IReadOnlyDictionary<int, ShardImage> Images => _images;

    /// <summary>Adds a preprocessed image under its global index; every image of a shard must have the same planes.</summary>
    public void Add(int globalIndex, string name, Tensor3 preprocessed)
    {
        ArgumentNullException.ThrowIfNull(preprocessed);
        Add(globalIndex, new InMemoryImageSource(name, preprocessed));
    }

    /// <summary>
    /// Adds an image by reference: it is loaded once now (to learn its shape, and kept in the cache while it fits) and
    /// again whenever the cache let it go.
    /// </summary>
    public void Add(int globalIndex, IImageSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        string name = source.Name;
        if (_images.ContainsKey(globalIndex)) throw new ArgumentException($"image {globalIndex} ({name}) is already in shard {Index}.");
        Tensor3 preprocessed = source.Load();
        if (_images.Count > 0 && preprocessed.Planes != Planes)
            throw new SpecException($"{name} has {preprocessed.Planes} planes but the other images have {Planes}; convert all to grey or all to RGB.", "images");
        if (ImageSizeRequirement.Check(Spec, preprocessed.Rows, preprocessed.Cols) is { } small)
            throw new SpecException($"{name}: {small.Problem}", small.Field);
        long bytes = 4L * preprocessed.Length;
        if (bytes > Cache.Budget)
            throw new SpecException($"{name} needs {ShardMemory.Format(bytes)} decoded ({preprocessed.Planes}×{preprocessed.Rows}×{preprocessed.Cols} floats), more than the shard memory budget of {ShardMemory.Format(Cache.Budget)}; raise --shard-memory.", "shard-memory");
        var image = new ShardImage(globalIndex, source, preprocessed.Planes, preprocessed.Rows, preprocessed.Cols);
        _images.Add(globalIndex, image);
        using (Cache.Rent(globalIndex, new InMemoryImageSource(name, preprocessed), bytes)) { }
    }

    public LayerInputSummary PrepareLayer(PrepareLayerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureInputs(request.Layer, request.Frozen, null, cancellationToken);
        double sumSquares = 0;
        long values = 0;
        int planes = 0;
        foreach (ShardImage image in _images.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            planes = image.InputShape(request.Layer).Planes;
            // The adaptive model rescales its pixel-space layers against the image.
            int reference = LayerAt(request.Layer).ScaleReferenceLayer(request.Layer);
            Tensor3 input = RentInput(image, reference, out ImageCache.Lease? lease);
            try
            {
                double sq = SparseCodingObjective.SumOfSquares(input.Data);
                if (!double.IsFinite(sq)) throw new InvalidOperationException($"{image.Name}: layer {request.Layer + 1} input is not finite.");
                sumSquares += sq;
                values += input.Length;
            }
            finally
            {
                ReturnInput(input, lease);
            }
        }
        return new LayerInputSummary(Index, _images.Count, sumSquares, values, planes);
    }

    /// <summary>Infers the requested images (ascending global index) and sums their totals and, if asked, A and b in that order.</summary>
    public ShardPartial Infer(InferRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureInputs(request.Layer, request.Frozen, null, cancellationToken);
        int[] mine = request.Images is null
            ? _images.Keys.ToArray()
            : request.Images.Where(_images.ContainsKey).Distinct().Order().ToArray();
        Connectivity g = ConnectivityFor(request.Layer, request.Filters.Inputs);
        FilterNormalEquations? sum = request.Statistics == FilterStatistics.NormalEquations ? new FilterNormalEquations(g, request.Filters.Size) : null;
        FilterBank? rhs = request.Statistics == FilterStatistics.RightHandSide ? new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size) : null;
        bool optional = MapsOptional(request);
        IShardLayer layer = LayerAt(request.Layer);
        var totals = default(InferenceTotals);
        long kept = optional ? KeptBytes() : 0;
        long limit = optional ? OptionalMapsLimit() : 0;
        // Images run in parallel and their results are added in image order, so the sums do not depend on scheduling:
        // workers claim images in order and whichever finishes the next one in order adds it and every finished one
        // after it. With A requested, at most InFlightResults results wait to be added (a dense image's A is 34 MB for 64
        // maps of 8×8); other results are small and need no bound. So a slow image holds up the adding but not the other
        // workers, and no core waits for a group's slowest image.
        _threadsPerImage = ThreadsPerImage(mine.Length);
        var results = new ImageResult?[mine.Length];
        int added = 0;
        var gate = new object();
        using var window = new SemaphoreSlim(request.Statistics == FilterStatistics.NormalEquations ? InFlightResults : Math.Max(1, mine.Length));
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        IEnumerable<int> Claims()
        {
            for (int i = 0; i < mine.Length; i++)
            {
                window.Wait(failed.Token);
                yield return i;
            }
        }
        void AddInOrder()
        {
            for (; added < mine.Length && results[added] is { } r; added++)
            {
                results[added] = null;
                totals += r.Totals;
                // Optional maps are kept while they fit, decided in image order so that the choice (and with it every
                // later warm start) does not depend on scheduling.
                ShardImage image = _images[mine[added]];
                if (optional)
                {
                    kept += image.ResidentBytes - r.ResidentBefore;
                    if (kept > limit)
                    {
                        long with = image.ResidentBytes;
                        image.SetMaps(request.Layer, null);
                        kept -= with - image.ResidentBytes;
                    }
                }
                if (r.Statistics is not null) sum!.Add(r.Statistics);
                if (r.Gathered is not null) sum!.Add(r.Gathered, MaxParallelism);   // a large image's pairs split over maps, same bits
                if (r.RightHandSide is not null) TensorPrimitives.Add(rhs!.Data, r.RightHandSide.Data, rhs.Data);
                window.Release();
            }
        }
        try
        {
            Parallel.ForEach(Partitioner.Create(Claims(), EnumerablePartitionerOptions.NoBuffering),
                new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken }, i =>
                {
                    try
                    {
                        ShardImage image = _images[mine[i]];
                        long before = optional ? image.ResidentBytes : 0;
                        ImageResult result = layer.Infer(image, request, g) with { ResidentBefore = before };
                        lock (gate)
                        {
                            results[i] = result;
                            AddInOrder();
                        }
                    }
                    catch
                    {
                        failed.Cancel();   // workers waiting for the window would otherwise wait for this image forever
                        throw;
                    }
                });
        }
        catch (AggregateException e)
        {
            // An image's own failure, not the cancellations it caused in the waiting workers.
            Exception[] own = [.. e.InnerExceptions.Where(x => x is not OperationCanceledException)];
            if (own.Length > 0) throw new AggregateException(own);
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }
        UpdateResidentBytes();
        return new ShardPartial(Index, totals with { ResidentBytes = ResidentStateBytes + Cache.Bytes }, sum, rhs);
    }

    /// <summary>Σ_i Z_iᵀ Z_i d over this shard's images (ascending index), with the maps of the layer's last inference.</summary>
    public FilterProduct ApplyGram(GramRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RebuildMissingMaps(request, cancellationToken);
        FilterBank d = request.Direction;
        IShardLayer layer = LayerAt(request.Layer);
        ShardImage[] mine = _images.Values.ToArray();
        layer.CheckGram(request.Layer, mine);
        cancellationToken.ThrowIfCancellationRequested();
        // One product per image (a filter bank each, small), computed in parallel and added in image order.
        var total = new FilterBank(d.Maps, d.Inputs, d.Size);
        int batch = layer.GramBatch(mine.Length);
        for (int start = 0; start < mine.Length; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batch, mine.Length - start);
            var products = new FilterBank[count];
            _threadsPerImage = ThreadsPerImage(count);
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken }, i =>
                products[i] = layer.ApplyGram(mine[start + i], request.Layer, d));
            foreach (FilterBank product in products) TensorPrimitives.Add(total.Data, product.Data, total.Data);
        }
        return new FilterProduct(Index, total);
    }

    /// <summary>True when every image holds maps of <paramref name="layer"/> (from an inference pass of that layer).</summary>
    public bool HoldsMaps(int layer) => LayerAt(layer).LackingGram(layer, [.. _images.Values]).Count == 0;

    /// <summary>
    /// A shard that lost its maps (a fresh activation after its silo died) re-runs the request's source inference for
    /// the images without them, so the product is over every image; without a source it cannot, and ApplyGram says so.
    /// </summary>
    private void RebuildMissingMaps(GramRequest request, CancellationToken cancellationToken)
    {
        if (request.Source is not { } source || HoldsMaps(request.Layer)) return;
        if (source.Layer != request.Layer) throw new ArgumentException($"a layer-{request.Layer + 1} product names a layer-{source.Layer + 1} inference as its source.", nameof(request));
        int[] missing = [.. LayerAt(request.Layer).LackingGram(request.Layer, [.. _images.Values]).Select(i => i.Index)];
        Infer(source with { Images = missing, Statistics = FilterStatistics.None }, cancellationToken);
    }

    /// <summary>Input, per-layer reconstructions carried down to pixels, and optionally the maps, of the requested images.</summary>
    public IReadOnlyList<ImageReport> Report(ReportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        int layers = request.Frozen.Count;
        int[] wanted = request.Images.Where(_images.ContainsKey).Distinct().Order().ToArray();
        EnsureInputs(layers, request.Frozen, wanted, cancellationToken);   // the maps of every frozen layer exist after this
        IShardReporter reporter = Spec.Model == NetworkModel.Adaptive ? _pixelSpace : _deconv;
        var reports = new List<ImageReport>();
        foreach (int index in wanted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reports.Add(reporter.Report(_images[index], request));
        }
        UpdateResidentBytes();
        return reports;
    }

    /// <summary>
    /// `infer` at scale: the requested images (ascending global index) through every layer of the fixed model, then
    /// their feature rows, reports and totals; see <see cref="ExtractRequest"/>. Within a layer the images run in
    /// parallel; each image's numbers do not depend on that (per-image solves, sums added per image), so the results
    /// are those of <see cref="ModelInference"/> on any shard plan. The images' maps are dropped before returning.
    /// </summary>
    public IReadOnlyList<ImageExtraction> Extract(ExtractRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<FrozenLayer> model = request.Model;
        if (model.Count == 0) throw new ArgumentException("the model has no layers.", nameof(request));
        if (model.Count > Spec.Layers.Count) throw new ArgumentException($"the model has {model.Count} layers; the spec {Spec.Layers.Count}.", nameof(request));
        int[] wanted = request.Images.Where(_images.ContainsKey).Distinct().Order().ToArray();
        if (wanted.Length == 0) return [];
        // Whatever an earlier call left (other filters, a warm start) must not leak into a cold, fixed-model pass.
        Forget(wanted);
        var totals = new InferenceTotals[wanted.Length][];
        for (int i = 0; i < wanted.Length; i++) totals[i] = new InferenceTotals[model.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken };
        for (int layer = 0; layer < model.Count; layer++)
        {
            FrozenLayer[] below = [.. model.Take(layer)];
            EnsureInputs(layer, below, wanted, cancellationToken);
            FrozenLayer f = model[layer];
            foreach (int i in wanted)
                if (_images[i].InputShape(layer).Planes is var planes && planes != f.Filters.Inputs)
                    throw new SpecException($"layer {layer + 1} of the model reads {f.Filters.Inputs} planes; {_images[i].Name} gives {planes} (grey vs RGB?).", "images");
            var infer = new InferRequest(layer, -1, FilterVersion.Frozen(layer), f.Filters, f.InputScale, below, wanted, FilterStatistics.None, ColdStart: true);
            Connectivity g = ConnectivityFor(layer, f.Filters.Inputs);
            IShardLayer work = LayerAt(layer);
            _threadsPerImage = ThreadsPerImage(wanted.Length);
            int at = layer;
            Parallel.For(0, wanted.Length, options, i => totals[i][at] = work.Infer(_images[wanted[i]], infer, g).Totals);
        }
        IShardReporter reporter = Spec.Model == NetworkModel.Adaptive ? _pixelSpace : _deconv;
        var reconstruct = request.Reconstruct.ToHashSet();
        var report = new ReportRequest(model, wanted, request.IncludeMaps || request.Readout is not null);
        var results = new ImageExtraction[wanted.Length];
        Parallel.For(0, wanted.Length, options, i =>
        {
            ShardImage image = _images[wanted[i]];
            var shapes = new (int Maps, int Rows, int Cols)[model.Count];
            for (int l = 0; l < model.Count; l++)
            {
                ResidentMaps m = image.MapsOf(l)!;
                shapes[l] = (m.Planes, m.Rows, m.Cols);
            }
            // Reconstructions cost a synthesis per layer and level: only for the images that are shown.
            ImageReport? shown = reconstruct.Contains(image.Index) ? reporter.Report(image, report) : null;
            IReadOnlyList<Tensor3>? maps = shown?.Maps
                ?? (request.IncludeMaps || request.Readout is not null ? [.. Enumerable.Range(0, model.Count).Select(l => image.MapsOf(l)!.ToDense())] : null);
            float[]? row = null;
            if (request.Readout is { } readout)
            {
                row = new float[FeatureReadout.Length(readout, shapes)];
                FeatureReadout.Read(readout, maps!, row);
            }
            results[i] = new ImageExtraction(image.Index, image.Name, totals[i], shapes, row, request.IncludeMaps ? maps : null, shown is null ? null : shown with { Maps = null });
        });
        Forget(wanted);
        return results;
    }

    /// <summary>Drops the kept state of some images (maps, derived inputs, switches); the rest keep theirs.</summary>
    private void Forget(IEnumerable<int> images)
    {
        foreach (int i in images)
        {
            _images[i].Reset();
            _pixelSpace.Forget(i);
        }
        UpdateResidentBytes();
    }

    /// <summary>Drops the maps and derived inputs (a fresh activation has none): they are rebuilt on demand.</summary>
    public void ForgetMaps()
    {
        foreach (ShardImage image in _images.Values) image.Reset();
        _pixelSpace.Forget();
        UpdateResidentBytes();
    }

    /// <summary>
    /// Whether the maps an inference leaves are only a warm start, kept while they fit the memory budget: under
    /// minibatch updates, whose steps need only the statistics and whose top layer's final maps are rebuilt on demand
    /// for outputs. Everywhere else they are needed (A·d products, the next layer's input) and always kept. An image
    /// whose maps do not fit starts its next inference from zero and makes all of the solver's moves again; keeping
    /// them costs a compact copy of 1/11 (32×32) to 1/24 (128×128) of the dense maps at 1–2 % nonzero.
    /// </summary>
    private bool MapsOptional(InferRequest request) =>
        Spec.Update == FilterUpdateSchedule.Minibatch
        && request.Statistics != FilterStatistics.RightHandSide
        && !(request.Statistics == FilterStatistics.None && request.Layer < Spec.Layers.Count - 1);

    private long KeptBytes()
    {
        long bytes = _pixelSpace.ResidentBytes;
        foreach (ShardImage image in _images.Values) bytes += image.ResidentBytes;
        return bytes;
    }

    /// <summary>
    /// Most bytes of kept state with which optional maps are still kept: the budget less room for the decoded inputs
    /// of the images in flight. Maps take precedence over cached inputs (which shrink to make room, see
    /// <see cref="UpdateResidentBytes"/>): re-reading an input costs milliseconds, a cold start a full inference.
    /// </summary>
    private long OptionalMapsLimit()
    {
        long largest = _images.Count == 0 ? 0 : _images.Values.Max(i => i.InputBytes);
        return Math.Max(0, Cache.Budget - MaxParallelism * largest);
    }

    /// <summary>Layer <paramref name="layer"/>'s work: pixel space for the adaptive model's layers above the first.</summary>
    private IShardLayer LayerAt(int layer) => Spec.Model == NetworkModel.Adaptive && layer > 0 ? _pixelSpace : _deconv;

    internal ImageResult InferFrozen(ShardImage image, InferRequest request, Connectivity g) => LayerAt(request.Layer).Infer(image, request, g);

    /// <summary>
    /// Makes layer <paramref name="layer"/>'s inputs exist for <paramref name="only"/> (null: every image): layer 0's
    /// are the images; layer l's come from layer l−1's maps under the frozen filters, re-inferred here (cold start)
    /// when this shard does not hold them.
    /// </summary>
    private void EnsureInputs(int layer, IReadOnlyList<FrozenLayer> frozen, IReadOnlyList<int>? only, CancellationToken cancellationToken)
    {
        if (layer < 0 || layer >= Spec.Layers.Count + 1) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the spec has {Spec.Layers.Count} layers.");
        if (frozen.Count < layer) throw new ArgumentException($"layer {layer + 1} needs the {layer} frozen layers below it; got {frozen.Count}.", nameof(frozen));
        IEnumerable<int> scope = only ?? (IEnumerable<int>)_images.Keys;
        for (int l = 1; l <= layer; l++)
        {
            int below = l - 1;
            int[] missing = scope.Where(i => !_images[i].HasInput(l)).ToArray();
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
                    _threadsPerImage = ThreadsPerImage(count);
                    Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism }, i => InferFrozen(_images[rebuild[start + i]], request, g));
                }
            }
            IShardReporter next = Spec.Model == NetworkModel.Adaptive ? _pixelSpace : _deconv;
            foreach (int i in missing) _images[i].SetInput(l, next.NextLayerInput(_images[i], below));
        }
    }

    internal Connectivity ConnectivityFor(int layer, int inputs)
    {
        lock (_connectivity)
        {
            if (!_connectivity.TryGetValue(layer, out Connectivity? g) || g.Inputs != inputs)
                _connectivity[layer] = g = Spec.ConnectivityFor(layer, inputs);
            return g;
        }
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s input planes of an image as a dense tensor the caller must not write: the
    /// cached image (pinned by <paramref name="lease"/>) for layer 0, else a pooled buffer filled from the kept form.
    /// Give it back with <see cref="ReturnInput"/>.
    /// </summary>
    internal Tensor3 RentInput(ShardImage image, int layer, out ImageCache.Lease? lease)
    {
        if (layer == 0)
        {
            ImageCache.Lease l = Cache.Rent(image.Index, image.Source, image.InputBytes);
            lease = l;
            return l.Image;
        }
        lease = null;
        ResidentMaps input = image.InputOf(layer);
        Tensor3 dense = Buffers.Rent(input.Planes, input.Rows, input.Cols);
        input.CopyTo(dense);
        return dense;
    }

    internal void ReturnInput(Tensor3 input, ImageCache.Lease? lease)
    {
        if (lease is { } l) l.Dispose();
        else Buffers.Return(input);
    }

    /// <summary>The input of layer <paramref name="layer"/> times the set-wide scale, in a pooled buffer (return it to <see cref="Buffers"/>).</summary>
    internal Tensor3 RentScaledInput(ShardImage image, int layer, float scale)
    {
        Tensor3 input = RentInput(image, layer, out ImageCache.Lease? lease);
        try
        {
            Tensor3 scaled = Buffers.Rent(input.Planes, input.Rows, input.Cols);
            TensorPrimitives.Multiply(input.Data, scale, scaled.Data);
            return scaled;
        }
        finally
        {
            ReturnInput(input, lease);
        }
    }

    /// <summary>
    /// Threads each image's operators and solver may use when <paramref name="images"/> run at once: with at least as
    /// many images as threads, one each (images are the cheaper split: no halo, no barrier); with fewer, the spare
    /// threads go inside the images (row bands of the dense operators, spatial tiles of coordinate descent). Results do
    /// not depend on it: the operators split without changing any sum, and coordinate descent's tiles depend on the
    /// image's size alone.
    /// </summary>
    private int ThreadsPerImage(int images) => Math.Max(1, MaxParallelism / Math.Clamp(images, 1, MaxParallelism));

    /// <summary>Inferred images whose A may wait to be added in order: a few per worker, so that a slow image rarely idles the others.</summary>
    private int InFlightResults => 4 * MaxParallelism;

    /// <summary>A workspace whose operator uses the current call's <see cref="ThreadsPerImage"/> (calls do not overlap).</summary>
    internal InferenceWorkspace RentWorkspace(int layer, int planes, int rows, int cols, FilterBank f)
    {
        int threads = _threadsPerImage;
        var bag = _workspaces.GetOrAdd((layer, rows, cols, threads), _ => new ConcurrentBag<InferenceWorkspace>());
        if (!bag.TryTake(out InferenceWorkspace? ws))
        {
            var geometry = new LayerGeometry(planes, f.Maps, f.Size, rows, cols, Spec.Boundary);
            ws = new InferenceWorkspace(new LayerOperator(geometry, ConnectivityFor(layer, planes), threads));
        }
        ws.Tiles = Tiles;
        return ws;
    }

    internal void ReturnWorkspace(int layer, InferenceWorkspace ws) =>
        _workspaces[(layer, ws.Geometry.Rows, ws.Geometry.Cols, ws.Operator.DegreeOfParallelism)].Add(ws);

    /// <summary>Σ kept bytes, and the cache's share of the budget shrunk by them (state counts against the same budget).</summary>
    private void UpdateResidentBytes()
    {
        long bytes = _pixelSpace.ResidentBytes;
        foreach (ShardImage image in _images.Values) bytes += image.ResidentBytes;
        ResidentStateBytes = bytes;
        Cache.Reserved = bytes;
        Cache.Trim();
    }
}

/// <summary>One image's inference: its totals and, on request, its A and b (as a per-image sum, or gathered to be added in order) or b alone.</summary>
/// <param name="ResidentBefore">The image's kept bytes before this inference (set by the shard, for its memory accounting).</param>
internal readonly record struct ImageResult(InferenceTotals Totals, FilterNormalEquations? Statistics, FilterBank? RightHandSide, GatheredImage? Gathered = null,
    long ResidentBefore = 0);

/// <summary>
/// What a shard does for one layer of one image, by the kind of layer: <see cref="DeconvShardLayer"/> reconstructs its
/// input planes (the 2010 model, and the adaptive model's first layer); <see cref="PixelSpaceShardLayer"/> is inferred
/// and learned against the image through the frozen layers and switches below (the adaptive model above layer 1).
/// </summary>
internal interface IShardLayer
{
    /// <summary>Infers the image's maps of <c>request.Layer</c>, warm-started unless cold, and keeps them (the shard may drop optional ones).</summary>
    ImageResult Infer(ShardImage image, InferRequest request, Connectivity g);

    /// <summary>Throws unless every image holds what <see cref="ApplyGram"/> needs from the layer's last inference.</summary>
    void CheckGram(int layer, IReadOnlyList<ShardImage> images);

    /// <summary>The images lacking what <see cref="ApplyGram"/> needs (a shard that lost its maps lacks all).</summary>
    IReadOnlyList<ShardImage> LackingGram(int layer, IReadOnlyList<ShardImage> images);

    /// <summary>Images per parallel batch of A·d products (each holds a filter bank and a workspace).</summary>
    int GramBatch(int images);

    /// <summary>Z_iᵀ Z_i d (or J_iᵀ J_i d) for one image.</summary>
    FilterBank ApplyGram(ShardImage image, int layer, FilterBank d);

    /// <summary>Which layer's input the set-wide scale of <paramref name="layer"/> is measured on.</summary>
    int ScaleReferenceLayer(int layer);
}

/// <summary>What differs by model rather than by layer: the input the next layer reads, and the reports.</summary>
internal interface IShardReporter
{
    /// <summary>Layer <paramref name="below"/>+1's input from layer <paramref name="below"/>'s kept maps.</summary>
    ResidentMaps NextLayerInput(ShardImage image, int below);

    ImageReport Report(ShardImage image, ReportRequest request);
}
