using System.Diagnostics;
using Distributed.Compute.Imaging;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Bench;

/// <summary>
/// `bench large-image`: one large photo, one layer of coordinate descent, trained on the serial engine with 1 thread
/// (one untiled solve) and with more (the image's maps in spatial tiles, one phase of every tile at a time). The photo
/// is generated from the bundled samples (no large file in the repository): a mosaic of the five 128-pixel photos,
/// grey, each cell mirrored on alternate columns so neighbouring cells differ.
/// </summary>
internal static class LargeImage
{
    /// <param name="Preset">The learning preset's filter update (train's defaults: projected gradient of 50 steps, the
    /// filter system chosen by size) instead of the bench's fixed matrix-free one.</param>
    public sealed record Settings(int Size, int Maps, int FilterSize, double Lambda, int Epochs, int Tile, bool Preset = false);

    /// <summary>Seconds and objective of every epoch of one run, with the process CPU seconds it used.</summary>
    public sealed record Run(int Threads, IReadOnlyList<EpochMetrics> Epochs, double CpuSeconds, double WallSeconds);

    /// <summary>A size × size grey mosaic of the photos in <paramref name="folder"/>, in [0, 1].</summary>
    public static Tensor3 Compose(string folder, int size)
    {
        ImageSet set = ImageSet.LoadFolder(folder, ImageLoadOptions.Default with { Grey = true });
        var image = new Tensor3(1, size, size);
        const int cell = 128;
        int cells = (size + cell - 1) / cell;
        for (int cr = 0; cr < cells; cr++)
            for (int cc = 0; cc < cells; cc++)
            {
                Tensor3 photo = set.Images[(cr * cells + cc) % set.Count].Pixels;
                bool mirror = (cr + cc) % 2 == 1;
                for (int i = 0; i < cell && cr * cell + i < size; i++)
                {
                    int pr = Reflect(i, photo.Rows);
                    for (int j = 0; j < cell && cc * cell + j < size; j++)
                    {
                        int pc = Reflect(mirror ? cell - 1 - j : j, photo.Cols);
                        image[0, cr * cell + i, cc * cell + j] = photo[0, pr, pc];
                    }
                }
            }
        return image;
    }

    public static TrainingSpec Spec(Settings settings) => settings.Preset
        ? LearningPreset.Spec with
        {
            Layers = [new LayerSpec { Maps = settings.Maps, FilterSize = settings.FilterSize, Lambda = settings.Lambda, P = 1, Epochs = settings.Epochs }],
            Tolerance = 0,
            Boundary = Boundary.Valid,
            Preprocessing = Preprocessing.Lcn,
            CoordinateDescent = new() { Tile = settings.Tile },
        }
        : new()
    {
        Layers = [new LayerSpec { Maps = settings.Maps, FilterSize = settings.FilterSize, Lambda = settings.Lambda, P = 1, Epochs = settings.Epochs }],
        Solver = InferenceSolver.CoordinateDescent,
        FilterSolver = FilterSolver.ProjectedGradient,
        FilterSystem = FilterSystemKind.MatrixFree,
        Boundary = Boundary.Valid,
        Preprocessing = Preprocessing.Lcn,
        CoordinateDescent = new() { Tile = settings.Tile },
    };

    /// <summary>Trains the spec's epochs on the one image with <paramref name="threads"/> threads.</summary>
    /// <param name="log">When given, each pass's start and end with the elapsed seconds and the peak memory so far (a long run leaves a trace).</param>
    public static async Task<Run> TrainAsync(TrainingSpec spec, Tensor3 preprocessed, int threads, CancellationToken cancellationToken, TextWriter? log = null)
    {
        var workers = new LocalImageWorkers(spec, [("mosaic", preprocessed)], shards: 1, maxParallelism: threads);
        var process = Process.GetCurrentProcess();
        TimeSpan cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        TrainingResult result = await new Trainer(spec, workers, log is null ? null : new PassLog(log, clock)).RunAsync(null, cancellationToken);
        process.Refresh();
        return new Run(threads, result.Metrics, (process.TotalProcessorTime - cpu).TotalSeconds, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The process's peak resident memory (VmHWM of /proc/self/status, Linux); else the peak working set .NET reports.
    /// </summary>
    public static long PeakMemoryBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
            foreach (string line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                    && long.TryParse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out long kib))
                    return kib * 1024;
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>Writes each pass's start and end, with elapsed seconds and peak memory, as they happen.</summary>
    private sealed class PassLog(TextWriter log, Stopwatch clock) : ITrainingObserver
    {
        public void OnProgress(TrainingProgress progress)
        {
        }

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void OnEpochStarted(EpochPhase epoch) => Write($"{Name(epoch)} started");

        public void OnEpochEnded(EpochPhase epoch, EpochMetrics? metrics) =>
            Write(metrics is null ? $"{Name(epoch)} ended" : $"{Name(epoch)} ended: {metrics.Seconds:F2} s, E = {metrics.Objective:G9}, nonzero {metrics.NonzeroFraction:P3}");

        private static string Name(EpochPhase epoch) => epoch.Final ? "final pass" : $"epoch {epoch.Epoch + 1}";

        private void Write(string what)
        {
            log.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds:F0} s, peak {PeakMemoryBytes() / (double)(1L << 30):F2} GiB] {what}"));
            log.Flush();
        }
    }

    private static int Reflect(int i, int length)
    {
        int period = 2 * length;
        i %= period;
        return i < length ? i : period - 1 - i;
    }
}
