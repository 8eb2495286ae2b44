using System.Diagnostics;
using System.Globalization;
using Distributed.Compute;
using Distributed.Compute.Imaging;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Bench;

/// <summary>
/// How training scales with the number of images: N square crops of one size cut at seeded positions from a few
/// photos, 64 maps of 8×8 (cd, p = 1, high-pass, circular, projected zero-mean filters, SPORCO's λ = 0.2 as λ_Z = 5), one
/// shard under a fixed memory budget. Per N: the process's peak resident memory, the bytes the shard keeps per image,
/// seconds per image and pass, and the objective; and batch against minibatch updates in time to batch mode's objective.
/// </summary>
internal static class ScaleBench
{
    public sealed record Settings(int Size, int Passes, int Threads, long ShardMemory, int BatchSize, double Forget, double Lambda, int Seed);

    public sealed record Row(int Images, string Update, double PeakMiB, long ResidentPerImage, long DenseMapsPerImage, double NonzeroFraction,
        double SecondsPerImagePass, double Objective, long Loads, long Evictions);

    /// <summary>Seconds are the passes' wall time; CPU seconds the process's CPU time over the same passes (on a shared machine the fairer ratio).</summary>
    public sealed record Race(double Target, double BatchSeconds, double BatchCpuSeconds, int BatchPasses,
        double? MinibatchSeconds, double? MinibatchCpuSeconds, int MinibatchPasses, double MinibatchBest);

    public static TrainingSpec Spec(Settings s, FilterUpdateSchedule update, int passes) => new()
    {
        Layers = [new LayerSpec { Maps = 64, FilterSize = 8, Lambda = s.Lambda, P = 1, Epochs = passes }],
        Solver = InferenceSolver.CoordinateDescent,
        FilterSolver = FilterSolver.ProjectedGradient,
        FilterUpdate = new Compute.Learning.FilterUpdateOptions { Steps = 10, ZeroMean = true },
        Boundary = Boundary.Circular,
        Preprocessing = Preprocessing.Highpass,
        Update = update,
        BatchSize = s.BatchSize,
        Forget = s.Forget,
        Seed = s.Seed,
    };

    /// <summary>N crop sources over the grey photos: positions from a generator seeded by <paramref name="seed"/>; each load cuts and high-passes anew.</summary>
    public static IReadOnlyList<IImageSource> Crops(IReadOnlyList<Tensor3> photos, int count, int size, int seed)
    {
        var rng = new Random(seed);
        var crops = new IImageSource[count];
        for (int i = 0; i < count; i++)
        {
            Tensor3 photo = photos[i % photos.Count];
            if (photo.Rows < size || photo.Cols < size)
                throw new SpecException($"photo {i % photos.Count + 1} of {photos.Count} is {photo.Cols}×{photo.Rows}, smaller than the {size}×{size} crops; give --images with larger photos (the bundled ones are at most 128×128) or a smaller size.", "images");
            crops[i] = new CropSource($"crop-{i:D5}", photo, rng.Next(photo.Rows - size + 1), rng.Next(photo.Cols - size + 1), size);
        }
        return crops;
    }

    public static async Task<(Row Row, TrainingResult Result)> RunAsync(IReadOnlyList<Tensor3> photos, int count, FilterUpdateSchedule update, Settings s, CancellationToken ct)
    {
        TrainingSpec spec = Spec(s, update, s.Passes);
        IReadOnlyList<IImageSource> crops = Crops(photos, count, s.Size, s.Seed);
        PeakMemory.Reset();
        var workers = new LocalImageWorkers(spec, crops, shards: 1, maxParallelism: s.Threads, shardMemory: s.ShardMemory);
        TrainingResult result = await new Trainer(spec, workers).RunAsync(null, ct);
        double peak = PeakMemory.ReadMiB();
        ImageCache cache = workers.Local[0].Cache;
        double seconds = result.Metrics.Sum(m => m.Seconds);
        var row = new Row(count, update.ToString().ToLowerInvariant(), peak,
            result.Metrics[^1].ResidentBytesPerImage, 4L * 64 * s.Size * s.Size,
            result.Layers[0].Final.NonzeroFraction, seconds / (count * (double)result.Metrics.Count),
            result.Layers[0].Final.Objective / count, cache.Loads, cache.Evictions);
        return (row, result);
    }

    /// <summary>
    /// Batch mode for <see cref="Settings.Passes"/> passes, then minibatch until its pass objective (Σ over images of
    /// each one's objective when inferred) reaches batch mode's last one, or the same number of passes is spent. With
    /// <paramref name="target"/> the batch leg is skipped and minibatch races to that objective (a rerun of the
    /// minibatch leg against a batch run already made). Each pass is reported to <paramref name="log"/> as it ends.
    /// </summary>
    public static async Task<Race> RaceAsync(IReadOnlyList<Tensor3> photos, int count, Settings s, Action<string> log, CancellationToken ct, double? target = null)
    {
        IReadOnlyList<IImageSource> crops = Crops(photos, count, s.Size, s.Seed);
        double batchSeconds = double.NaN, batchCpu = double.NaN;
        int batchPasses = 0;
        if (target is null)
        {
            TrainingSpec batch = Spec(s, FilterUpdateSchedule.Batch, s.Passes);
            using var batchWatch = new TargetWatch(double.NegativeInfinity, "batch", log);
            TrainingResult b = await new Trainer(batch, new LocalImageWorkers(batch, crops, 1, s.Threads, s.ShardMemory), batchWatch).RunAsync(null, ct);
            target = b.Metrics[^1].Objective;
            (batchSeconds, batchCpu, batchPasses) = (b.Metrics.Sum(m => m.Seconds), batchWatch.CpuSeconds, b.Metrics.Count);
        }

        TrainingSpec minibatch = Spec(s, FilterUpdateSchedule.Minibatch, s.Passes);
        using var watch = new TargetWatch(target.Value, "minibatch", log);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, watch.Stop);
        try
        {
            await new Trainer(minibatch, new LocalImageWorkers(minibatch, crops, 1, s.Threads, s.ShardMemory), watch).RunAsync(null, stop.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
        return new Race(target.Value, batchSeconds, batchCpu, batchPasses, watch.ReachedAfter, watch.ReachedAfterCpu, watch.Rows.Count,
            watch.Rows.Count == 0 ? double.NaN : watch.Rows.Min(m => m.Objective));
    }

    /// <summary>
    /// Collects the pass rows and the process's CPU time over the training passes (not the layer's preparation or its
    /// final pass, which the rows' seconds leave out too), reports each pass, and stops the run once a pass's objective
    /// reaches the target.
    /// </summary>
    private sealed class TargetWatch(double target, string leg, Action<string> log) : ITrainingObserver, IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private TimeSpan _epochCpu;

        public void Dispose() => _stop.Dispose();

        public CancellationToken Stop => _stop.Token;
        public List<EpochMetrics> Rows { get; } = [];
        public double? ReachedAfter { get; private set; }
        public double? ReachedAfterCpu { get; private set; }
        public double CpuSeconds { get; private set; }

        public void OnProgress(TrainingProgress progress)
        {
        }

        public void OnEpochStarted(EpochPhase epoch)
        {
            if (!epoch.Final) _epochCpu = ProcessCpu();
        }

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken)
        {
            CpuSeconds += (ProcessCpu() - _epochCpu).TotalSeconds;
            EpochMetrics last = checkpoint.Metrics[^1];
            Rows.Add(last);
            log(string.Create(CultureInfo.InvariantCulture,
                $"  {leg} pass {Rows.Count}: objective {last.Objective:G7}, {last.NonzeroFraction:P2} nonzero, {Rows.Sum(r => r.Seconds):F1} s wall, {CpuSeconds:F1} s CPU so far"));
            if (last.Objective <= target && ReachedAfter is null)
            {
                ReachedAfter = Rows.Sum(r => r.Seconds);
                ReachedAfterCpu = CpuSeconds;
                _stop.Cancel();
            }
            return ValueTask.CompletedTask;
        }

        private static TimeSpan ProcessCpu()
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }
    }

    /// <summary>A square crop of a decoded photo, high-passed on every load (deterministic, so re-reads are bit-identical).</summary>
    private sealed class CropSource(string name, Tensor3 photo, int row, int col, int size) : IImageSource
    {
        public string Name { get; } = name;

        public Tensor3 Load()
        {
            var crop = new Tensor3(photo.Planes, size, size);
            for (int p = 0; p < photo.Planes; p++)
                for (int r = 0; r < size; r++)
                    photo.ReadPlane(p).Slice((row + r) * photo.Cols + col, size).CopyTo(crop.Plane(p).Slice(r * size, size));
            return Preprocessor.ApplyToImage(crop, Preprocessing.Highpass);
        }
    }

    /// <summary>
    /// The process's peak resident set: Linux's VmHWM, which writing 5 to /proc/self/clear_refs resets (after a full
    /// compacting collection, so one run's garbage does not count against the next); elsewhere the lifetime peak.
    /// </summary>
    public static class PeakMemory
    {
        public static bool Resettable { get; private set; }

        public static void Reset()
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                Resettable = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Resettable = false;
            }
        }

        public static double ReadMiB()
        {
            if (Resettable && File.Exists("/proc/self/status"))
                foreach (string line in File.ReadLines("/proc/self/status"))
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            using var self = Process.GetCurrentProcess();
            return self.PeakWorkingSet64 / (1024.0 * 1024);
        }
    }
}
