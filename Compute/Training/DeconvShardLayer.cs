using System.Diagnostics;
using System.Numerics.Tensors;
using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// A layer that reconstructs its input planes (Zeiler 2010; also the adaptive model's first layer): z inferred by the
/// spec's solver against the scaled input, A = Σ ZᵀZ and b = Σ Zᵀy from the same maps, and A·d from the kept maps
/// (their compact form feeds the sparse kernels directly when sparse enough for them).
/// </summary>
internal sealed class DeconvShardLayer(ImageShard shard) : IShardLayer, IShardReporter
{
    public ImageResult Infer(ShardImage image, InferRequest request, Connectivity g)
    {
        int layer = request.Layer;
        Tensor3 y = shard.RentScaledInput(image, layer, request.InputScale);
        InferenceWorkspace ws = shard.RentWorkspace(layer, y.Planes, y.Rows, y.Cols, request.Filters);
        LayerGeometry geometry = ws.Geometry;
        if (shard.Spec.Solver == InferenceSolver.CoordinateDescent && CoordinateDescentInference.TilesFor(geometry, shard.Spec.CoordinateDescent) is { } plan)
        {
            try
            {
                return InferTiled(image, request, g, y, ws, plan);
            }
            finally
            {
                shard.ReturnWorkspace(layer, ws);
                shard.Buffers.Return(y);
            }
        }
        Tensor3 z = shard.Buffers.Rent(geometry.Maps, geometry.MapRows, geometry.MapCols);
        try
        {
            if (!request.ColdStart && image.MapsOf(layer) is { } kept) kept.CopyTo(z);
            else z.Clear();
            long started = Stopwatch.GetTimestamp();
            InferenceStats stats = InferMaps(ws, request.Filters, request.FilterVersion.Key, y, z, layer);
            FilterNormalEquations? eq = null;
            FilterBank? rhs = null;
            SparseMaps? gathered = null;
            GatheredImage? prepared = null;
            if (request.Statistics == FilterStatistics.NormalEquations)
            {
                // Sparse maps travel as their nonzeros and are added into the shard's sum in image order; only dense
                // ones pay for a per-image A.
                prepared = FilterNormalEquations.TryPrepare(ws.Operator, z, y);
                if (prepared is null)
                {
                    eq = new FilterNormalEquations(g, request.Filters.Size);
                    eq.Accumulate(ws.Operator, z, y);
                }
            }
            else if (request.Statistics == FilterStatistics.RightHandSide)
            {
                // A·d products follow, each a synthesis and a filter gradient from these same maps: gathered once here,
                // and kept in that form.
                gathered = ws.Operator.TryGather(z);
                rhs = new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size);
                if (gathered is null) ws.Operator.FilterGradient(z, y, rhs);
                else ws.Operator.FilterGradient(gathered, y, rhs);
            }
            image.SetMaps(layer, ResidentMaps.Keep(z, gathered));
            return new ImageResult(stats.ToTotals(Stopwatch.GetElapsedTime(started).TotalSeconds), eq, rhs, prepared);
        }
        finally
        {
            shard.Buffers.Return(z);
            shard.ReturnWorkspace(layer, ws);
            shard.Buffers.Return(y);
        }
    }

    /// <summary>
    /// A large image solved in spatial tiles with its maps compact from end to end: the kept nonzeros warm-start the
    /// tiles, the result comes back as nonzeros, and the filter statistics and the kept maps are made from those. No
    /// dense whole-image z exists unless the maps are too dense for the sparse kernels (then one is rented for them).
    /// </summary>
    private ImageResult InferTiled(ShardImage image, InferRequest request, Connectivity g, Tensor3 y, InferenceWorkspace ws, IReadOnlyList<TileRect> plan)
    {
        int layer = request.Layer;
        SparseMaps? warm = !request.ColdStart && image.MapsOf(layer) is { } kept ? kept.ToSparse() : null;
        long started = Stopwatch.GetTimestamp();
        (SparseMaps z, InferenceStats stats) = CoordinateDescentInference.RunTiled(ws, request.Filters, request.FilterVersion.Key, y, warm, shard.Spec.Layers[layer].Lambda, shard.Spec.CoordinateDescent, plan);
        FilterNormalEquations? eq = null;
        FilterBank? rhs = null;
        GatheredImage? prepared = null;
        bool sparse = z.Count <= SparseLimit(ws.Geometry);
        if (request.Statistics == FilterStatistics.NormalEquations)
        {
            if (sparse && ws.Geometry.Boundary == Boundary.Valid)
            {
                // b = Σ zᵀ y is the filter gradient with r = y; the valid maps are the maps themselves.
                var b = new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size);
                ws.Operator.FilterGradient(z, y, b);
                prepared = new GatheredImage(z, y.Rows, y.Cols, b, SparseCodingObjective.SumOfSquares(y.Data));
            }
            else
            {
                WithDense(z, dense =>
                {
                    prepared = FilterNormalEquations.TryPrepare(ws.Operator, dense, y);
                    if (prepared is null)
                    {
                        eq = new FilterNormalEquations(g, request.Filters.Size);
                        eq.Accumulate(ws.Operator, dense, y);
                    }
                });
            }
        }
        else if (request.Statistics == FilterStatistics.RightHandSide)
        {
            rhs = new FilterBank(request.Filters.Maps, request.Filters.Inputs, request.Filters.Size);
            if (sparse) ws.Operator.FilterGradient(z, y, rhs);
            else WithDense(z, dense => ws.Operator.FilterGradient(dense, y, rhs));
        }
        image.SetMaps(layer, ResidentMaps.Keep(z));
        return new ImageResult(stats.ToTotals(Stopwatch.GetElapsedTime(started).TotalSeconds), eq, rhs, prepared);
    }

    private void WithDense(SparseMaps z, Action<Tensor3> use)
    {
        Tensor3 dense = shard.Buffers.Rent(z.Planes, z.Rows, z.Cols);
        try
        {
            z.Scatter(dense);
            use(dense);
        }
        finally
        {
            shard.Buffers.Return(dense);
        }
    }

    private InferenceStats InferMaps(InferenceWorkspace ws, FilterBank f, long version, Tensor3 y, Tensor3 z, int layer)
    {
        TrainingSpec spec = shard.Spec;
        LayerSpec l = spec.Layers[layer];
        return spec.Solver switch
        {
            InferenceSolver.Fista => FistaInference.Run(ws, f, version, y, z, l.Lambda, spec.Fista),
            InferenceSolver.CoordinateDescent => CoordinateDescentInference.Run(ws, f, version, y, z, l.Lambda, spec.CoordinateDescent),
            _ => ZeilerInference.Run(ws, f, y, z, l.Lambda, l.P, spec.Zeiler),
        };
    }

    public IReadOnlyList<ShardImage> LackingGram(int layer, IReadOnlyList<ShardImage> images) => [.. images.Where(i => i.MapsOf(layer) is null)];

    public void CheckGram(int layer, IReadOnlyList<ShardImage> images)
    {
        int missing = images.Count(i => i.MapsOf(layer) is null);
        if (missing > 0)
            throw new InvalidOperationException($"shard {shard.Index} holds no layer-{layer + 1} maps for {missing} images; run an inference pass first.");
    }

    /// <summary>The products are small filter banks and the workspaces pooled, so the whole shard is one batch.</summary>
    public int GramBatch(int images) => Math.Max(1, images);

    public FilterBank ApplyGram(ShardImage image, int layer, FilterBank d)
    {
        var (planes, rows, cols) = image.InputShape(layer);
        InferenceWorkspace ws = shard.RentWorkspace(layer, planes, rows, cols, d);
        ResidentMaps kept = image.MapsOf(layer)!;
        var product = new FilterBank(d.Maps, d.Inputs, d.Size);
        try
        {
            // The sparse kernels take the compact form as it is when it is sparse enough for them (the operator's own
            // rule); denser maps go through a pooled dense buffer and the dense kernels.
            if (kept.Sparse is { } sparse && sparse.Count <= SparseLimit(ws.Geometry))
            {
                ws.Operator.Synthesize(sparse, d, ws.Residual);
                ws.Operator.FilterGradient(sparse, ws.Residual, product);
            }
            else
            {
                Tensor3 z = shard.Buffers.Rent(kept.Planes, kept.Rows, kept.Cols);
                kept.CopyTo(z);
                ws.Operator.Synthesize(z, d, ws.Residual);
                ws.Operator.FilterGradient(z, ws.Residual, product);
                shard.Buffers.Return(z);
            }
            return product;
        }
        finally
        {
            shard.ReturnWorkspace(layer, ws);
        }
    }

    private static long SparseLimit(LayerGeometry g) => (long)Math.Floor(LayerOperator.SparseDensityThreshold * g.Maps * g.MapRows * (double)g.MapCols);

    public int ScaleReferenceLayer(int layer) => layer;

    /// <summary>The 2010 model's next layer reads the maps themselves: the kept object, shared, not a copy.</summary>
    public ResidentMaps NextLayerInput(ShardImage image, int below) => image.MapsOf(below)!;

    /// <summary>Each layer's maps synthesised down through the layers below, each step undoing that layer's input scale.</summary>
    public ImageReport Report(ShardImage image, ReportRequest request)
    {
        int layers = request.Frozen.Count;
        var recon = new List<Tensor3>();
        for (int top = 0; top < layers; top++)
        {
            Tensor3 current = image.MapsOf(top)!.ToDense();
            for (int l = top; l >= 0; l--)
            {
                FrozenLayer frozen = request.Frozen[l];
                var (planes, rows, cols) = image.InputShape(l);
                InferenceWorkspace ws = shard.RentWorkspace(l, planes, rows, cols, frozen.Filters);
                var below = new Tensor3(planes, rows, cols);
                ws.Operator.Synthesize(current, frozen.Filters, below);
                shard.ReturnWorkspace(l, ws);
                // Layer l reconstructs its scaled input; undo the scale to land in layer l−1's map units.
                TensorPrimitives.Multiply(below.Data, 1 / frozen.InputScale, below.Data);
                current = below;
            }
            recon.Add(current);
        }
        IReadOnlyList<Tensor3>? maps = request.IncludeMaps ? Enumerable.Range(0, layers).Select(l => image.MapsOf(l)!.ToDense()).ToArray() : null;
        Tensor3 input = shard.RentInput(image, 0, out ImageCache.Lease? lease);
        Tensor3 copy = input.Clone();
        shard.ReturnInput(input, lease);
        return new ImageReport(image.Index, image.Name, copy, recon, maps);
    }
}
