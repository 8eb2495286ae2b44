using System.CommandLine;
using System.Globalization;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;
using Distributed.Compute.Training;

namespace Distributed.Client.Commands;

/// <summary>
/// The flags that make a <see cref="TrainingSpec"/>. Per-layer flags take a comma-separated list, one value per layer
/// (a single value applies to every layer). The network's shape is the 2010 toolbox's (9 then 45 maps of 7×7), but
/// the solver defaults are the ones measured to learn edges on the bundled photos within a minute (README, "Defaults"):
/// coordinate descent with p = 1 and λ = 0.5, projected filter updates of 50 iterations, epochs until the objective
/// levels off. <see cref="TrainingSpec"/>'s own defaults stay the toolbox's, the reference the tests pin.
/// </summary>
internal sealed class SpecOptions
{
    private static readonly TrainingSpec Defaults = new();

    public Option<string> Maps { get; } = new("--maps") { Description = "Feature maps per layer, e.g. 9,45.", DefaultValueFactory = _ => "9,45" };
    public Option<string> Filter { get; } = new("--filter") { Description = "Filter size s (s×s) per layer, e.g. 7,7.", DefaultValueFactory = _ => "7" };
    public Option<string> Lambda { get; } = new("--lambda") { Description = "λ, weight of the reconstruction term (inputs scaled to unit RMS), per layer.", DefaultValueFactory = _ => "0.5" };
    public Option<string> P { get; } = new("--p") { Description = "p of the sparsity term Σ|z|^p, in (0, 1], per layer (p < 1 needs --solver zeiler).", DefaultValueFactory = _ => "1" };
    public Option<string> Epochs { get; } = new("--epochs") { Description = $"Epochs per layer: a number (0: keep the random initial filters), or auto: until the objective levels off (--tolerance), at most {AutoEpochCap}.", DefaultValueFactory = _ => "auto" };
    public Option<double?> Tolerance { get; } = new("--tolerance") { Description = $"Stop a layer when its objective falls by less than this fraction per epoch, averaged over --tolerance-window epochs. Default with --epochs auto: {AutoTolerance}; otherwise off." };
    public Option<int> ToleranceWindow { get; } = new("--tolerance-window") { Description = "Epochs the --tolerance change is averaged over.", DefaultValueFactory = _ => Defaults.ToleranceWindow };

    /// <summary>--epochs auto: the most epochs a layer runs before the tolerance stops it.</summary>
    public const int AutoEpochCap = 50;

    /// <summary>--epochs auto: the default tolerance, 1 % an epoch (see README for what it costs on the bundled photos).</summary>
    public const double AutoTolerance = 0.01;
    public Option<string> Connectivity { get; } = new("--connectivity") { Description = "Per layer: full, sad (singles and all doubles), random (random doubles). Default: full, then sad.", DefaultValueFactory = _ => "full,sad" };
    public Option<string> Solver { get; } = new("--solver") { Description = "Inference: cd (coordinate descent, p = 1; fastest on sparse maps), fista (p = 1) or zeiler (any p).", DefaultValueFactory = _ => "cd" };
    public Option<string> Update { get; } = new("--update") { Description = "Filter updates: batch (once per epoch) or online (after every image).", DefaultValueFactory = _ => "batch" };
    public Option<string> FilterSolver { get; } = new("--filter-solver") { Description = "projected (‖f‖ ≤ 1 solved by projected FISTA, SPORCO) or cg (a few CG steps then normalise, Zeiler; leaves the random start's noise in the filters).", DefaultValueFactory = _ => "projected" };
    public Option<string> Boundary { get; } = new("--boundary") { Description = "valid (maps larger than the image, Zeiler) or circular (wrap-around, SPORCO).", DefaultValueFactory = _ => "valid" };
    public Option<string> Preprocess { get; } = new("--preprocess") { Description = "lcn (local contrast normalisation), highpass (SPORCO) or none.", DefaultValueFactory = _ => "lcn" };
    public Option<bool> Rgb { get; } = new("--rgb") { Description = "Keep three colour planes instead of converting to grey." };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the filter initialisation and image order.", DefaultValueFactory = _ => Defaults.Seed };
    public Option<double> Beta0 { get; } = new("--beta0") { Description = "Zeiler: β0.", DefaultValueFactory = _ => Defaults.Beta0 };
    public Option<double> BetaIncrease { get; } = new("--beta-increase") { Description = "Zeiler: β_inc.", DefaultValueFactory = _ => Defaults.BetaIncrease };
    public Option<int> BetaSteps { get; } = new("--beta-steps") { Description = "Zeiler: number of β values.", DefaultValueFactory = _ => Defaults.BetaSteps };
    public Option<int> ZCgSteps { get; } = new("--z-cg-steps") { Description = "Zeiler: CG steps per z-step.", DefaultValueFactory = _ => Defaults.ZCgSteps };
    public Option<int> FistaIterations { get; } = new("--fista-iterations") { Description = "FISTA: most iterations per image.", DefaultValueFactory = _ => Defaults.FistaIterations };
    public Option<double> FistaTolerance { get; } = new("--fista-tolerance") { Description = "FISTA: relative-change stopping tolerance.", DefaultValueFactory = _ => Defaults.FistaTolerance };
    public Option<int> CdSweeps { get; } = new("--cd-sweeps") { Description = "Coordinate descent: most sweeps per image.", DefaultValueFactory = _ => Defaults.CdSweeps };
    public Option<double> CdTolerance { get; } = new("--cd-tolerance") { Description = "Coordinate descent: stop when no coefficient moves by more than this times max|z|.", DefaultValueFactory = _ => Defaults.CdTolerance };
    public Option<int> Tile { get; } = new("--tile") { Description = "Coordinate descent: side of the spatial tiles a large image is solved in (their phases run on spare threads), at least 2(2s−1); 0: 256.", DefaultValueFactory = _ => Defaults.Tile };
    public Option<int> FilterSteps { get; } = new("--filter-steps") { Description = "Iterations (projected) or CG steps (cg) per filter update.", DefaultValueFactory = _ => 50 };
    public Option<bool> ZeroMean { get; } = new("--zero-mean") { Description = "Projected filter update: zero-mean filters too." };
    public Option<string> Model { get; } = new("--model") { Description = "deconv (Zeiler 2010) or adaptive (2011: 3-D max pooling between layers, every layer inferred against the pixels; defaults then fista, p 1, λ 0.3, random doubles above layer 1).", DefaultValueFactory = _ => "deconv" };
    public Option<string> Pool { get; } = new("--pool") { Description = "Adaptive: 3-D max pooling of each layer's maps for the next, rows x cols x maps or none; one value, or one per pair of layers.", DefaultValueFactory = _ => "3x3x2" };

    public IEnumerable<Option> All => [Maps, Filter, Lambda, P, Epochs, Tolerance, ToleranceWindow, Connectivity, Solver, Update, FilterSolver, Boundary, Preprocess, Rgb, Seed,
        Beta0, BetaIncrease, BetaSteps, ZCgSteps, FistaIterations, FistaTolerance, CdSweeps, CdTolerance, Tile, FilterSteps, ZeroMean, Model, Pool];

    public void AddTo(Command command)
    {
        foreach (Option option in All) command.Options.Add(option);
    }

    /// <summary>Builds and validates the spec; a bad value is a <see cref="SpecException"/> naming the flag.</summary>
    public TrainingSpec Build(ParseResult r)
    {
        int[] maps = Ints(r.GetValue(Maps)!, "maps");
        int layers = maps.Length;
        int[] filter = PerLayer(Ints(r.GetValue(Filter)!, "filter"), layers, "filter");
        double[] lambda = PerLayer(Doubles(r.GetValue(Lambda)!, "lambda"), layers, "lambda");
        double[] p = PerLayer(Doubles(r.GetValue(P)!, "p"), layers, "p");
        string[] epochWords = Words(r.GetValue(Epochs)!);
        bool auto = epochWords.Contains("auto");
        int[] epochs = PerLayer(Ints(string.Join(',', epochWords.Select(w => w == "auto" ? AutoEpochCap.ToString(CultureInfo.InvariantCulture) : w)), "epochs"), layers, "epochs");
        string[] connectivity = Words(r.GetValue(Connectivity)!);
        if (r.GetResult(Connectivity) is not { Implicit: false }) connectivity = layers == 1 ? ["full"] : ["full", .. Enumerable.Repeat("sad", layers - 1)];
        connectivity = PerLayer(connectivity, layers, "connectivity");
        var spec = new TrainingSpec
        {
            Layers = Enumerable.Range(0, layers).Select(l => new LayerSpec
            {
                Maps = maps[l],
                FilterSize = filter[l],
                Lambda = lambda[l],
                P = p[l],
                Epochs = epochs[l],
                Connectivity = connectivity[l] switch
                {
                    "full" => ConnectivityKind.Full,
                    "sad" or "singles-and-all-doubles" => ConnectivityKind.SinglesAndAllDoubles,
                    "random" or "random-doubles" => ConnectivityKind.RandomDoubles,
                    var other => throw new SpecException($"--connectivity: '{other}' for layer {l + 1}; allowed full, sad, random.", "connectivity"),
                },
            }).ToArray(),
            Solver = Choice(r.GetValue(Solver)!, "solver", ("zeiler", InferenceSolver.Zeiler), ("fista", InferenceSolver.Fista), ("cd", InferenceSolver.CoordinateDescent)),
            Update = Choice(r.GetValue(Update)!, "update", ("batch", FilterUpdateSchedule.Batch), ("online", FilterUpdateSchedule.Online)),
            FilterSolver = Choice(r.GetValue(FilterSolver)!, "filter-solver", ("cg", Compute.Training.FilterSolver.ConjugateGradientNormalize), ("projected", Compute.Training.FilterSolver.ProjectedGradient)),
            Boundary = Choice(r.GetValue(Boundary)!, "boundary", ("valid", Compute.Operators.Boundary.Valid), ("circular", Compute.Operators.Boundary.Circular)),
            Preprocessing = Choice(r.GetValue(Preprocess)!, "preprocess", ("lcn", Preprocessing.Lcn), ("highpass", Preprocessing.Highpass), ("none", Preprocessing.None)),
            Grey = !r.GetValue(Rgb),
            Seed = r.GetValue(Seed),
            Beta0 = r.GetValue(Beta0),
            BetaIncrease = r.GetValue(BetaIncrease),
            BetaSteps = r.GetValue(BetaSteps),
            ZCgSteps = r.GetValue(ZCgSteps),
            FistaIterations = r.GetValue(FistaIterations),
            FistaTolerance = r.GetValue(FistaTolerance),
            CdSweeps = r.GetValue(CdSweeps),
            CdTolerance = r.GetValue(CdTolerance),
            Tile = r.GetValue(Tile),
            FilterSteps = r.GetValue(FilterSteps),
            Tolerance = r.GetValue(Tolerance) ?? (auto ? AutoTolerance : 0),
            ToleranceWindow = r.GetValue(ToleranceWindow),
            ZeroMeanFilters = r.GetValue(ZeroMean),
        };
        spec = WithModel(r, spec);
        spec.Validate();
        return spec;
    }

    /// <summary>
    /// --model and --pool. The adaptive model infers by FISTA (ℓ1), and pooling changes how many planes layer 2 reads,
    /// so where the user gave no value its defaults are: solver fista, p = 1, random doubles above layer 1, and λ = 0.3:
    /// on the unit-RMS bundled photos ℓ1 at λ = 0.1 codes nothing, at λ = 1 it codes ~4.5% of layer 1 with noisy
    /// filters, at 0.3 ~0.6% with edge-like ones (measured with the defaults, 8 epochs).
    /// </summary>
    private TrainingSpec WithModel(ParseResult r, TrainingSpec spec)
    {
        NetworkModel model = Choice(r.GetValue(Model)!, "model", ("deconv", NetworkModel.Deconv), ("adaptive", NetworkModel.Adaptive));
        if (model == NetworkModel.Deconv)
            return Given(r, Pool) ? throw new SpecException("--pool: the deconv model has no pooling; add --model adaptive.", "pool") : spec;
        int boundaries = spec.Layers.Count - 1;
        PoolSize?[] pools = Words(r.GetValue(Pool)!).Select(PoolSize.Parse).ToArray();
        if (pools.Length == 1) pools = Enumerable.Repeat(pools[0], boundaries).ToArray();
        if (pools.Length != boundaries)
            throw new SpecException($"--pool: {pools.Length} values for the {boundaries} pairs of layers of --maps; give one value or one per pair.", "pool");
        return spec with
        {
            Model = model,
            Solver = Given(r, Solver) ? spec.Solver : InferenceSolver.Fista,
            Layers = spec.Layers.Select((l, i) => l with
            {
                Pool = i < boundaries ? pools[i] : null,
                P = Given(r, P) ? l.P : 1,
                Lambda = Given(r, Lambda) ? l.Lambda : 0.3,
                Connectivity = Given(r, Connectivity) || i == 0 ? l.Connectivity : ConnectivityKind.RandomDoubles,
            }).ToArray(),
        };
    }

    private static bool Given(ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };

    private static string[] Words(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToLowerInvariant()).ToArray();

    private static int[] Ints(string text, string flag) => Words(text).Select(w =>
        int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new SpecException($"--{flag}: '{w}' is not a whole number.", flag)).ToArray() is { Length: > 0 } a ? a
        : throw new SpecException($"--{flag}: give at least one value.", flag);

    private static double[] Doubles(string text, string flag) => Words(text).Select(w =>
        double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new SpecException($"--{flag}: '{w}' is not a number.", flag)).ToArray() is { Length: > 0 } a ? a
        : throw new SpecException($"--{flag}: give at least one value.", flag);

    private static T[] PerLayer<T>(T[] values, int layers, string flag)
    {
        if (values.Length == layers) return values;
        if (values.Length == 1) return Enumerable.Repeat(values[0], layers).ToArray();
        throw new SpecException($"--{flag}: {values.Length} values for {layers} layers (--maps has {layers}); give one value or one per layer.", flag);
    }

    private static T Choice<T>(string text, string flag, params (string Name, T Value)[] choices)
    {
        string word = text.Trim().ToLowerInvariant();
        foreach (var (name, value) in choices)
            if (name == word) return value;
        throw new SpecException($"--{flag}: '{text}'; allowed {string.Join(", ", choices.Select(c => c.Name))}.", flag);
    }
}
