using System.Numerics.Tensors;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Training;

/// <summary>
/// The layer → epoch → infer → reduce → update loop, written once for every engine (docs/architecture.md): the workers hold
/// the images (in this process or on shard grains), this class holds the filters. Partials are reduced in shard order,
/// so a fixed seed gives a fixed result on any engine with the same shard plan.
/// </summary>
public sealed class Trainer
{
    private readonly TrainingSpec _spec;
    private readonly IImageWorkers _workers;
    private readonly ITrainingObserver? _observer;
    private readonly TimeProvider _time;
    private readonly Dictionary<int, FilterBank> _eigenvectors = new();
    private readonly Dictionary<int, long> _resident = new();   // per shard: bytes it held after its last reply
    private FilterNormalEquations? _running;                    // minibatch: the layer's running A and b

    /// <summary>
    /// Power iterations for the step size of a minibatch step after the first of its pass. Between steps A changes by
    /// one batch's share (A ← ρA + A_batch), so the kept eigenvector is already close; the pass's first step still
    /// takes the full <see cref="FilterUpdate.WarmPowerIterations"/>, which keeps B = N exactly batch mode's update.
    /// </summary>
    private const int MinibatchPowerIterations = 2;

    public Trainer(TrainingSpec spec, IImageWorkers workers, ITrainingObserver? observer = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(workers);
        spec.Validate();
        _spec = spec;
        _workers = workers;
        _observer = observer;
        _time = time ?? TimeProvider.System;
    }

    public async Task<TrainingResult> RunAsync(TrainingCheckpoint? resume = null, CancellationToken cancellationToken = default)
    {
        long started = _time.GetTimestamp();
        var completed = new List<LayerResult>(resume?.Completed ?? []);
        var metrics = new List<EpochMetrics>(resume?.Metrics ?? []);
        int images = _workers.Shards.Sum(s => s.Count);
        int totalEpochs = _spec.Layers.Sum(l => l.Epochs + 1);
        int doneEpochs = metrics.Count + completed.Count;

        for (int layer = completed.Count; layer < _spec.Layers.Count; layer++)
        {
            LayerSpec spec = _spec.Layers[layer];
            FrozenLayer[] frozen = completed.Select(c => c.Frozen).ToArray();
            _observer?.OnLayerStarted(layer);

            // Build this layer's inputs on every shard and rescale the whole set together to unit RMS, the scale at
            // which λ = 1 and unit-norm filters make sparse coding worthwhile (a patch matching a filter with ℓ2
            // amplitude a is coded once λa²/2 > a^p).
            IReadOnlyList<LayerInputSummary> inputs = await _workers.PrepareLayerAsync(new PrepareLayerRequest(layer, frozen), cancellationToken);
            int planes = inputs.Where(s => s.Images > 0).Select(s => s.Planes).Distinct().Single();
            double sumSquares = 0;
            long values = 0;
            foreach (LayerInputSummary s in inputs) (sumSquares, values) = (sumSquares + s.SumSquares, values + s.Values);
            float scale = sumSquares > 0 ? (float)Math.Sqrt(values / sumSquares) : 1;
            Connectivity g = _spec.ConnectivityFor(layer, planes);

            bool resuming = resume is not null && resume.Layer == layer;
            FilterBank f = resuming ? resume!.Filters.Clone() : InitialFilters(_spec, layer, g);
            FilterVersion version = resuming ? resume!.FilterVersion : new FilterVersion(layer, 0);
            if (resuming) scale = resume!.InputScale;
            int firstEpoch = resuming ? resume!.NextEpoch : 0;
            // Minibatch statistics and the power iteration's state start afresh per layer, or where the checkpoint left them.
            _running = resuming ? resume!.RunningStatistics?.Clone() : null;
            if (resuming && resume!.Eigenvector is { } eigenvector) _eigenvectors[layer] = eigenvector.Clone();
            int epochsRun = firstEpoch;

            for (int epoch = firstEpoch; epoch < spec.Epochs && !ConvergedAt(layer, metrics); epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long epochStart = _time.GetTimestamp();
                var phase = new EpochPhase(layer, epoch, new FilterVersion(layer, epoch), Final: false);
                _observer?.OnEpochStarted(phase);
                InferenceTotals totals = _spec.Update switch
                {
                    FilterUpdateSchedule.Online => await OnlineEpochAsync(layer, epoch, f, g, scale, frozen, cancellationToken),
                    FilterUpdateSchedule.Minibatch => await MinibatchEpochAsync(layer, epoch, f, g, scale, frozen, cancellationToken),
                    _ => await BatchEpochAsync(layer, epoch, f, g, scale, frozen, cancellationToken),
                };
                version = new FilterVersion(layer, epoch + 1);
                epochsRun = epoch + 1;

                var row = Row(layer, epoch, totals, _time.GetElapsedTime(epochStart).TotalSeconds) with { ResidentBytes = _resident.Values.Sum() };
                row = row with { RelativeChange = ConvergenceRule.RelativeChange(ObjectivesOf(layer, metrics.Append(row)), _spec.ToleranceWindow) };
                metrics.Add(row);
                doneEpochs++;
                Report(layer, epoch, row, started, doneEpochs, totalEpochs, images);
                if (_observer is not null)
                {
                    await _observer.OnCheckpointAsync(new TrainingCheckpoint(layer, epoch + 1, f.Clone(), version, scale, completed.ToArray(), metrics.ToArray(),
                        _running?.Clone(), _eigenvectors.TryGetValue(layer, out FilterBank? v) ? v.Clone() : null), cancellationToken);
                    _observer.OnEpochEnded(phase, row);
                }
            }

            // Final pass with the trained filters, from z = 0: the maps it leaves are the next layer's input, a function
            // of the filters alone, so a shard that loses them rebuilds exactly these.
            cancellationToken.ThrowIfCancellationRequested();
            var finalPhase = new EpochPhase(layer, epochsRun, version, Final: true);
            _observer?.OnEpochStarted(finalPhase);
            IReadOnlyList<ShardPartial> final = await _workers.InferAsync(
                new InferRequest(layer, epochsRun, version, f, scale, frozen, null, FilterStatistics.None, ColdStart: true), cancellationToken);
            var trained = new LayerResult(layer, f, g.ToArray(), scale, Sum(final));
            completed.Add(trained);
            doneEpochs += spec.Epochs - epochsRun + 1;
            Report(layer, epochsRun - 1, metrics.LastOrDefault(m => m.Layer == layer + 1), started, doneEpochs, totalEpochs, images);
            _observer?.OnEpochEnded(finalPhase, null);
            _observer?.OnLayerEnded(trained);
        }
        return new TrainingResult(_spec, completed, metrics, _time.GetElapsedTime(started));
    }

    /// <summary>--tolerance: the layer's objectives so far have levelled off (<see cref="ConvergenceRule"/>).</summary>
    private bool ConvergedAt(int layer, IReadOnlyList<EpochMetrics> metrics) =>
        ConvergenceRule.Converged(ObjectivesOf(layer, metrics), _spec.ToleranceWindow, _spec.Tolerance);

    private static double[] ObjectivesOf(int layer, IEnumerable<EpochMetrics> metrics) =>
        metrics.Where(m => m.Layer == layer + 1).Select(m => m.Objective).ToArray();

    /// <summary>One inference pass over every image, A and b (or b alone) reduced in shard order, one filter solve.</summary>
    private async Task<InferenceTotals> BatchEpochAsync(int layer, int epoch, FilterBank f, Connectivity g, float scale, FrozenLayer[] frozen, CancellationToken ct)
    {
        var version = new FilterVersion(layer, epoch);
        // A copy of f: the update changes f in place, and a matrix-free A·d may need this pass's filters to rebuild maps.
        var request = new InferRequest(layer, epoch, version, f.Clone(), scale, frozen, null, StatisticsFor(layer, g, f.Size));
        IReadOnlyList<ShardPartial> partials = await _workers.InferAsync(request, ct);
        await UpdateFiltersAsync(Reduce(partials, g, request), f, g, new FilterUpdatePhase(layer, epoch, version, null), epoch, ct);
        return Sum(partials);
    }

    /// <summary>
    /// Online dictionary learning in minibatches (Mairal et al. 2010, in alphacsc's convolutional form): the images in a
    /// seeded order, B at a time; each step's A = ΣZᵀZ and b = ΣZᵀy (shards in order) are folded into the layer's
    /// running statistics, A ← ρA + A_batch, then the filters take the usual solver steps on them. A is kept as exact
    /// s²×s² blocks per pair of maps, not alphacsc's lag stencil ztz (K²(2s−1)² values): the stencil is exact only for
    /// the circular boundary, the blocks for both, and A's size does not grow with the image count either way (the
    /// shards build it from the maps' nonzeros through that same stencil, see SparseGramKernels).
    /// With B = N (one step an epoch) and ρ = 0 or a first pass, this is batch mode's update exactly.
    /// </summary>
    private async Task<InferenceTotals> MinibatchEpochAsync(int layer, int epoch, FilterBank f, Connectivity g, float scale, FrozenLayer[] frozen, CancellationToken ct)
    {
        var totals = default(InferenceTotals);
        int[] order = Shuffled(_workers.Shards.SelectMany(s => s).ToArray(), Seed(layer, epoch + 1));
        int steps = (order.Length + _spec.BatchSize - 1) / _spec.BatchSize;
        for (int step = 0; step < steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            FilterVersion version = new FilterVersion(layer, epoch).After(step);
            int[] batch = order[(step * _spec.BatchSize)..Math.Min(order.Length, (step + 1) * _spec.BatchSize)];
            IReadOnlyList<ShardPartial> partials = await _workers.InferAsync(
                new InferRequest(layer, epoch, version, f, scale, frozen, batch, FilterStatistics.NormalEquations), ct);
            // Folded straight into the running sums (A is 34 MB for 64 maps of 8×8: no per-step copy), shards in order.
            if (_running is null) _running = new FilterNormalEquations(g, f.Size);
            else _running.Decay(_spec.Forget);
            foreach (ShardPartial partial in partials) _running.Add(partial.Statistics!);
            await UpdateFiltersAsync(_running, f, g, new FilterUpdatePhase(layer, epoch, version, null), unchecked(epoch * steps + step), ct,
                step == 0 ? FilterUpdate.WarmPowerIterations : MinibatchPowerIterations);
            totals += Sum(partials);
        }
        return totals;
    }

    /// <summary>The adaptive model's layers above the first have no explicit A (their J runs through the layers below): always matrix-free.</summary>
    private FilterStatistics StatisticsFor(int layer, Connectivity g, int size) => _spec.FilterSystem switch
    {
        _ when _spec.Model == NetworkModel.Adaptive && layer > 0 => FilterStatistics.RightHandSide,
        FilterSystemKind.Explicit => FilterStatistics.NormalEquations,
        _ when _spec.Update == FilterUpdateSchedule.Minibatch => FilterStatistics.NormalEquations,
        FilterSystemKind.MatrixFree => FilterStatistics.RightHandSide,
        _ => FilterNormalEquations.EstimateGramBytes(g, size) <= TrainingSpec.ExplicitGramLimitBytes
            ? FilterStatistics.NormalEquations : FilterStatistics.RightHandSide,
    };

    /// <summary>The filter system of an inference pass: A and b added in shard order, or b and the workers for A·d.</summary>
    private IFilterSystem Reduce(IReadOnlyList<ShardPartial> partials, Connectivity g, InferRequest request)
    {
        FilterBank f = request.Filters;
        if (partials.All(p => p.Statistics is not null))
        {
            var statistics = new FilterNormalEquations(g, f.Size);
            foreach (ShardPartial partial in partials) statistics.Add(partial.Statistics!);
            return statistics;
        }
        var b = new FilterBank(f.Maps, f.Inputs, f.Size);
        foreach (ShardPartial partial in partials) TensorPrimitives.Add(b.Data, partial.RightHandSide!.Data, b.Data);
        return new WorkerFilterSystem(_workers, request, b);
    }

    /// <summary>The 2010 toolbox's schedule: images in a seeded random order, the filters updated after each one.</summary>
    private async Task<InferenceTotals> OnlineEpochAsync(int layer, int epoch, FilterBank f, Connectivity g, float scale, FrozenLayer[] frozen, CancellationToken ct)
    {
        var totals = default(InferenceTotals);
        int[] order = Shuffled(_workers.Shards.SelectMany(s => s).ToArray(), Seed(layer, epoch + 1));
        for (int i = 0; i < order.Length; i++)
        {
            ct.ThrowIfCancellationRequested();
            FilterVersion version = new FilterVersion(layer, epoch).After(i);
            // An online step uses this one image alone, so its A is shipped explicitly (A·d round trips would sum over every image).
            // Explicit A: no A·d round trips, so the request may hold f itself while the update changes it.
            var request = new InferRequest(layer, epoch, version, f, scale, frozen, [order[i]], FilterStatistics.NormalEquations);
            IReadOnlyList<ShardPartial> partials = await _workers.InferAsync(request, ct);
            await UpdateFiltersAsync(Reduce(partials, g, request), f, g, new FilterUpdatePhase(layer, epoch, version, order[i]), unchecked(epoch * 1_000_003 + i), ct);
            totals += Sum(partials);
        }
        return totals;
    }

    /// <param name="step">Salts the CG restart seed: the epoch (batch) or epoch · 1 000 003 + image (online). A seed
    /// salt only, so its wrapping for huge epochs is harmless; it is not a <see cref="FilterVersion"/>.</param>
    /// <param name="powerIterations">The projected solver's power iterations from the kept eigenvector estimate.</param>
    private async ValueTask UpdateFiltersAsync(IFilterSystem system, FilterBank f, Connectivity g, FilterUpdatePhase phase, int step, CancellationToken ct,
        int powerIterations = FilterUpdate.WarmPowerIterations)
    {
        int layer = phase.Layer;
        _observer?.OnFilterUpdateStarted(phase);
        try
        {
            // The loop never reads the solver's closing objective (the pass's objective comes from the inference), so
            // its A·f is skipped.
            if (_spec.FilterSolver == FilterSolver.ProjectedGradient)
                await FilterUpdate.ProjectedGradientAsync(system, f, g, _spec.FilterUpdate.Steps, _spec.FilterUpdate.ZeroMean, EigenvectorFor(layer, f),
                    powerIterations, evaluateObjective: false, ct);
            else
                await FilterUpdate.ConjugateGradientNormalizeAsync(system, f, g, _spec.FilterUpdate.Steps, Seed(layer, step + 17), ct);
        }
        finally
        {
            _observer?.OnFilterUpdateEnded(phase);
        }
    }

    /// <summary>The power-iteration state of a layer's filter system, kept across its epochs (A changes slowly).</summary>
    private FilterBank EigenvectorFor(int layer, FilterBank shape)
    {
        if (!_eigenvectors.TryGetValue(layer, out FilterBank? v)) _eigenvectors[layer] = v = new FilterBank(shape.Maps, shape.Inputs, shape.Size);
        return v;
    }

    private void Report(int layer, int epoch, EpochMetrics? last, long started, int done, int total, int images)
    {
        if (_observer is null) return;
        TimeSpan elapsed = _time.GetElapsedTime(started);
        double fraction = Math.Clamp(done / (double)total, 0, 1);
        TimeSpan? remaining = done > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (total - done)) : null;
        double rate = elapsed.TotalSeconds > 0 ? done * (double)images / elapsed.TotalSeconds : 0;
        _observer.OnProgress(new TrainingProgress(layer + 1, _spec.Layers.Count, epoch + 1, _spec.Layers[layer].Epochs, fraction, last, elapsed, remaining, rate));
    }

    private static EpochMetrics Row(int layer, int epoch, InferenceTotals t, double seconds) =>
        new(layer + 1, epoch + 1, t.Objective, t.DataTerm, t.SparsityTerm, t.NonzeroFraction, t.MeanPsnr, seconds, t.Images);

    private InferenceTotals Sum(IReadOnlyList<ShardPartial> partials)
    {
        Track(partials);
        var totals = default(InferenceTotals);
        foreach (ShardPartial p in partials) totals += p.Totals;
        return totals;
    }

    /// <summary>Remembers each replying shard's resident bytes: a step touches only some shards, the others hold what they held.</summary>
    private void Track(IReadOnlyList<ShardPartial> partials)
    {
        foreach (ShardPartial p in partials) _resident[p.Shard] = p.Totals.ResidentBytes;
    }

    private int Seed(int layer, int salt) => Seed(_spec, layer, salt);

    private static int Seed(TrainingSpec spec, int layer, int salt) => unchecked(spec.Seed * 1_000_003 + layer * 7_919 + salt * 104_729);

    /// <summary>Layer <paramref name="layer"/>'s seeded random start: what --epochs 0 keeps and what learning is measured against.</summary>
    public static FilterBank InitialFilters(TrainingSpec spec, int layer, Connectivity g)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(g);
        return FilterInitializer.Gaussian(g, spec.Layers[layer].FilterSize, Seed(spec, layer, 0));
    }

    private static int[] Shuffled(int[] items, int seed)
    {
        var rng = new Random(seed);
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
        return items;
    }
}
