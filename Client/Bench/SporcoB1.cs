using System.Diagnostics;
using System.Globalization;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Compute.Imaging;
using Distributed.Compute.Inference;
using Distributed.Compute.Learning;

namespace Distributed.Client.Bench;

/// <summary>
/// SPORCO's standard dictionary-learning problem ("B1", bench/data/sporco-b1 in the repository): five 128×128 high-pass images,
/// 64 filters 8×8 from SPORCO's normalised random start, λ = 0.2, circular boundary, ℓ1, zero-mean unit-norm filters.
/// Posed here as the equivalent Zeiler-form problem λ_Z/2‖Fz − y‖² + ‖z‖₁ with λ_Z = 1/λ (so E_SPORCO = E / λ_Z),
/// learned with coordinate-descent (or FISTA) inference and projected-gradient filter updates, timed to SPORCO's final
/// objective.
/// </summary>
internal static class SporcoB1
{
    public const double SporcoLambda = 0.2;

    public sealed record Anchor(IReadOnlyList<Tensor3> Images, FilterBank Initial, double TargetObjective, double SporcoSeconds);

    public sealed record Outcome(double Reached, double Seconds, int Epochs, bool HitTarget, IReadOnlyList<(double Seconds, double Objective)> Trace);

    /// <summary>Where the problem's inputs live in the repository, relative to its root.</summary>
    public static readonly string RepositoryFolder = Path.Combine("bench", "data", "sporco-b1");

    /// <summary>
    /// The default <c>--data</c>: <see cref="RepositoryFolder"/> under the first folder, from the working directory and
    /// then from the program's own folder upwards, that holds it (so it resolves from the repository root, a
    /// subfolder, or a built Client run from anywhere inside the checkout).
    /// </summary>
    public static string DefaultFolder()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, RepositoryFolder))) return Path.Combine(dir.FullName, RepositoryFolder);
        return RepositoryFolder;
    }

    public static Anchor Load(string folder)
    {
        string images = Path.Combine(folder, "b128_highpass_128x128x5.bin");
        string filters = Path.Combine(folder, "b_D0_normalised_8x8x64.bin");
        string csv = Path.Combine(folder, "b128_cbpdndl_objective.csv");
        foreach (string file in new[] { images, filters, csv })
            if (!File.Exists(file)) throw new FileNotFoundException($"{file}: not found; --data must be the sporco-b1 anchor folder.", file);

        float[] s = ReadFloats(images, 128 * 128 * 5);      // [row, col, image]
        var list = new List<Tensor3>();
        for (int i = 0; i < 5; i++)
        {
            var t = new Tensor3(1, 128, 128);
            for (int r = 0; r < 128; r++)
                for (int c = 0; c < 128; c++) t[0, r, c] = s[(r * 128 + c) * 5 + i];
            list.Add(t);
        }
        float[] d = ReadFloats(filters, 8 * 8 * 64);         // [row, col, filter]
        var f = new FilterBank(64, 1, 8);
        for (int u = 0; u < 8; u++)
            for (int v = 0; v < 8; v++)
                for (int k = 0; k < 64; k++) f[k, 0, u, v] = d[(u * 8 + v) * 64 + k];

        string[] last = File.ReadLines(csv).Last(l => l.Length > 0).Split(',');
        double target = double.Parse(last[1], CultureInfo.InvariantCulture);
        double seconds = double.Parse(last[^1], CultureInfo.InvariantCulture);
        return new Anchor(list, f, target, seconds);
    }

    /// <summary>How each epoch is spent: the inference solver and its budget, and the projected-gradient filter steps.</summary>
    public sealed record Settings(InferenceSolver Solver, int FistaIterations, int FilterSteps, int CdSweeps, double CdTolerance);

    public static TrainingSpec Spec(int epochs, Settings settings) => new()
    {
        Layers = [new LayerSpec { Maps = 64, FilterSize = 8, Lambda = 1 / SporcoLambda, P = 1, Epochs = epochs }],
        Solver = settings.Solver,
        Fista = new FistaOptions { MaxIterations = settings.FistaIterations, Tolerance = 0 },
        CoordinateDescent = new CoordinateDescentOptions { MaxSweeps = settings.CdSweeps, Tolerance = settings.CdTolerance },
        FilterSolver = FilterSolver.ProjectedGradient,
        FilterUpdate = new FilterUpdateOptions { Steps = settings.FilterSteps, ZeroMean = true },
        FilterSystem = FilterSystemKind.MatrixFree,
        Boundary = Boundary.Circular,
        Preprocessing = Preprocessing.None,
    };

    /// <summary>Learns from SPORCO's start until the SPORCO-scaled objective reaches the target or time runs out.</summary>
    public static async Task<Outcome> RunAsync(Anchor anchor, Settings settings, double maxSeconds, int parallelism, CancellationToken cancellationToken)
    {
        var spec = Spec(100_000, settings);
        var clock = Stopwatch.StartNew();
        var workers = new LocalImageWorkers(spec, anchor.Images.Select((t, i) => ($"b128-{i}", t)).ToArray(), shards: 1, maxParallelism: parallelism);
        using var observer = new TargetObserver(anchor.TargetObjective * (1 + 1e-9), clock, maxSeconds);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, observer.Stop);
        // SPORCO's normalised D0 as epoch 0 of layer 1, input scale 1: exactly SPORCO's problem and starting point.
        var start = new TrainingCheckpoint(0, 0, anchor.Initial.Clone(), new FilterVersion(0, 0), 1f, [], []);
        try
        {
            await new Trainer(spec, workers, observer).RunAsync(start, stop.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        var trace = observer.Trace;
        double reached = trace.Count == 0 ? double.NaN : trace.Min(t => t.Objective);
        double seconds = observer.HitAt ?? clock.Elapsed.TotalSeconds;
        return new Outcome(reached, seconds, trace.Count, observer.HitAt is not null, trace);
    }

    private static float[] ReadFloats(string path, int count)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length != count * sizeof(float))
            throw new InvalidDataException($"{path}: {bytes.Length} bytes; expected {count} float32 values ({count * sizeof(float)} bytes).");
        var values = new float[count];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the anchor files are little-endian float32.");
        return values;
    }

    /// <summary>Records (time, SPORCO-scaled objective) per epoch and stops the run at the target or the time limit.</summary>
    private sealed class TargetObserver(double target, Stopwatch clock, double maxSeconds) : ITrainingObserver, IDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        public void Dispose() => _stop.Dispose();

        public CancellationToken Stop => _stop.Token;
        public List<(double Seconds, double Objective)> Trace { get; } = [];
        public double? HitAt { get; private set; }

        public void OnProgress(TrainingProgress progress)
        {
        }

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken)
        {
            double objective = checkpoint.Metrics[^1].Objective * SporcoLambda;
            double now = clock.Elapsed.TotalSeconds;
            Trace.Add((now, objective));
            if (objective <= target && HitAt is null)
            {
                HitAt = now;
                _stop.Cancel();
            }
            else if (now > maxSeconds) _stop.Cancel();
            return ValueTask.CompletedTask;
        }
    }
}
