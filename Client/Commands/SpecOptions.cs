using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Distributed.Compute;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Imaging;
using Distributed.Compute.Inference;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Training;

namespace Distributed.Client.Commands;

/// <summary>
/// The flags that make a <see cref="TrainingSpec"/>. Per-layer flags take a comma-separated list, one value per layer
/// (a single value applies to every layer). Defaults all come from Compute's records: <see cref="LearningPreset"/> (the
/// toolbox's network with the solver settings measured to learn edges; README, "Why these defaults"), the solvers'
/// option records and <see cref="AdaptivePreset"/>;
/// <see cref="Fields"/> is the one table from the spec's field names, as Compute's errors name them, to the flags.
/// </summary>
internal sealed partial class SpecOptions
{
    private static readonly TrainingSpec Defaults = LearningPreset.Spec;
    private static readonly AdaptivePreset Adaptive = AdaptivePreset.Default;

    private static readonly (string Name, InferenceSolver Value)[] Solvers = [("zeiler", InferenceSolver.Zeiler), ("fista", InferenceSolver.Fista), ("cd", InferenceSolver.CoordinateDescent)];
    private static readonly (string Name, FilterUpdateSchedule Value)[] Updates = [("batch", FilterUpdateSchedule.Batch), ("online", FilterUpdateSchedule.Online), ("minibatch", FilterUpdateSchedule.Minibatch)];
    private static readonly (string Name, FilterSolver Value)[] FilterSolvers = [("cg", Compute.Training.FilterSolver.ConjugateGradientNormalize), ("projected", Compute.Training.FilterSolver.ProjectedGradient)];
    private static readonly (string Name, Boundary Value)[] Boundaries = [("valid", Compute.Operators.Boundary.Valid), ("circular", Compute.Operators.Boundary.Circular)];
    private static readonly (string Name, Preprocessing Value)[] Preprocessings = [("lcn", Preprocessing.Lcn), ("highpass", Preprocessing.Highpass), ("none", Preprocessing.None)];
    private static readonly (string Name, NetworkModel Value)[] Models = [("deconv", NetworkModel.Deconv), ("adaptive", NetworkModel.Adaptive)];
    private static readonly (string Name, ConnectivityKind Value)[] Connectivities =
        [("full", ConnectivityKind.Full), ("sad", ConnectivityKind.SinglesAndAllDoubles), ("random", ConnectivityKind.RandomDoubles)];

    /// <summary>The flags' field → flag table, built once (the options are stateless descriptions).</summary>
    private static readonly Lazy<IReadOnlyDictionary<string, string>> FlagOfField =
        new(() => new SpecOptions().Fields.ToDictionary(f => f.Field, f => f.Option.Name));

    private static readonly Lazy<IReadOnlyDictionary<string, string>> FieldOfFlag =
        new(() => new SpecOptions().Fields.GroupBy(f => f.Option.Name).ToDictionary(g => g.Key, g => g.First().Field));

    public Option<string> Maps { get; } = new("--maps") { Description = "Feature maps per layer, e.g. 9,45.", DefaultValueFactory = _ => PerLayerDefault(l => l.Maps) };
    public Option<string> Filter { get; } = new("--filter") { Description = "Filter size s (s×s) per layer, e.g. 7,7.", DefaultValueFactory = _ => PerLayerDefault(l => l.FilterSize) };
    public Option<string> Lambda { get; } = new("--lambda") { Description = "λ, weight of the reconstruction term (inputs scaled to unit RMS), per layer.", DefaultValueFactory = _ => PerLayerDefault(l => l.Lambda) };
    public Option<string> P { get; } = new("--p") { Description = "p of the sparsity term Σ|z|^p, in (0, 1], per layer.", DefaultValueFactory = _ => PerLayerDefault(l => l.P) };
    public Option<string> Epochs { get; } = new("--epochs") { Description = $"Epochs per layer: a number (0: keep the random initial filters), or auto: until the objective levels off (--tolerance), at most {LearningPreset.AutoEpochCap}.", DefaultValueFactory = _ => Auto };
    public Option<double?> Tolerance { get; } = new("--tolerance") { Description = $"Stop a layer when its objective falls by less than this fraction per epoch, averaged over --tolerance-window epochs. Default with --epochs auto: {LearningPreset.AutoTolerance.ToString(CultureInfo.InvariantCulture)}; otherwise off." };
    public Option<int> ToleranceWindow { get; } = new("--tolerance-window") { Description = "Epochs the --tolerance change is averaged over.", DefaultValueFactory = _ => Defaults.ToleranceWindow };
    public Option<string> Connectivity { get; } = new("--connectivity")
    {
        Description = $"Per layer: full, sad (singles and all doubles), random (random doubles). Unset: {NameOf(Connectivities, Defaults.Layers[0].Connectivity)} for layer 1, {NameOf(Connectivities, Defaults.Layers[^1].Connectivity)} above.",
        DefaultValueFactory = _ => string.Join(",", Defaults.Layers.Select(l => NameOf(Connectivities, l.Connectivity))),
    };
    public Option<string> Solver { get; } = new("--solver") { Description = "Inference: zeiler (any p), fista (p = 1) or cd (coordinate descent, p = 1; fastest on sparse maps).", DefaultValueFactory = _ => NameOf(Solvers, Defaults.Solver) };
    public Option<string> Update { get; } = new("--update") { Description = "Filter updates: batch (once per epoch), online (after every image) or minibatch (after every --batch-size images, from running statistics).", DefaultValueFactory = _ => NameOf(Updates, Defaults.Update) };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Minibatch: images per filter update.", DefaultValueFactory = _ => Defaults.BatchSize };
    public Option<double> Forget { get; } = new("--forget") { Description = "Minibatch: forgetting factor ρ in [0, 1] of the running statistics, A ← ρA + A_batch (0: each batch alone; 1: no forgetting).", DefaultValueFactory = _ => Defaults.Forget };
    public Option<string> FilterSolver { get; } = new("--filter-solver") { Description = "cg (CG then normalise, Zeiler) or projected (exact ‖f‖ ≤ 1, SPORCO).", DefaultValueFactory = _ => NameOf(FilterSolvers, Defaults.FilterSolver) };
    public Option<string> Boundary { get; } = new("--boundary") { Description = "valid (maps larger than the image, Zeiler) or circular (wrap-around, SPORCO).", DefaultValueFactory = _ => NameOf(Boundaries, Defaults.Boundary) };
    public Option<string> Preprocess { get; } = new("--preprocess") { Description = "lcn (local contrast normalisation), highpass (SPORCO) or none.", DefaultValueFactory = _ => NameOf(Preprocessings, Defaults.Preprocessing) };
    public Option<bool> Rgb { get; } = new("--rgb") { Description = "Keep three colour planes instead of converting to grey.", DefaultValueFactory = _ => !Defaults.Grey };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the filter initialisation and image order.", DefaultValueFactory = _ => Defaults.Seed };
    public Option<double> Beta0 { get; } = new("--beta0") { Description = "Zeiler: β0.", DefaultValueFactory = _ => Defaults.Zeiler.Beta0 };
    public Option<double> BetaIncrease { get; } = new("--beta-increase") { Description = "Zeiler: β_inc.", DefaultValueFactory = _ => Defaults.Zeiler.BetaIncrease };
    public Option<int> BetaSteps { get; } = new("--beta-steps") { Description = "Zeiler: number of β values.", DefaultValueFactory = _ => Defaults.Zeiler.BetaSteps };
    public Option<int> ZCgSteps { get; } = new("--z-cg-steps") { Description = "Zeiler: CG steps per z-step.", DefaultValueFactory = _ => Defaults.Zeiler.CgSteps };
    public Option<int> FistaIterations { get; } = new("--fista-iterations") { Description = "FISTA: most iterations per image.", DefaultValueFactory = _ => Defaults.Fista.MaxIterations };
    public Option<double> FistaTolerance { get; } = new("--fista-tolerance") { Description = "FISTA: relative-change stopping tolerance.", DefaultValueFactory = _ => Defaults.Fista.Tolerance };
    public Option<int> CdSweeps { get; } = new("--cd-sweeps") { Description = "Coordinate descent: most sweeps per image.", DefaultValueFactory = _ => Defaults.CoordinateDescent.MaxSweeps };
    public Option<double> CdTolerance { get; } = new("--cd-tolerance") { Description = "Coordinate descent: stop when no coefficient moves by more than this times max|z|.", DefaultValueFactory = _ => Defaults.CoordinateDescent.Tolerance };
    public Option<int> Tile { get; } = new("--tile") { Description = "Coordinate descent: side of the spatial tiles a large image is solved in (their phases run on spare threads), at least 2(2s−1); 0: 256.", DefaultValueFactory = _ => Defaults.CoordinateDescent.Tile };
    public Option<int> FilterSteps { get; } = new("--filter-steps") { Description = "CG steps (cg) or iterations (projected) per filter update.", DefaultValueFactory = _ => Defaults.FilterUpdate.Steps };
    public Option<bool> ZeroMean { get; } = new("--zero-mean") { Description = "Projected filter update: zero-mean filters too.", DefaultValueFactory = _ => Defaults.FilterUpdate.ZeroMean };
    public Option<string> Model { get; } = new("--model")
    {
        Description = string.Create(CultureInfo.InvariantCulture,
            $"deconv (Zeiler 2010) or adaptive (2011: 3-D max pooling between layers, every layer inferred against the pixels; defaults then {NameOf(Solvers, Adaptive.Solver)}, p {Adaptive.P}, λ {Adaptive.Lambda}, {NameOf(Connectivities, Adaptive.UpperConnectivity)} above layer 1)."),
        DefaultValueFactory = _ => NameOf(Models, Defaults.Model),
    };
    public Option<string> Pool { get; } = new("--pool") { Description = "Adaptive: 3-D max pooling of each layer's maps for the next, rows x cols x maps or none; one value, or one per pair of layers.", DefaultValueFactory = _ => Adaptive.Pool.ToString() };

    /// <summary>Each spec field a flag sets, by the name Compute's <see cref="SpecException"/>s give it.</summary>
    private IEnumerable<(string Field, Option Option)> Fields =>
    [
        ($"{LayerSpec.Field}.maps", Maps), (LayerSpec.Field, Maps), ($"{LayerSpec.Field}.filterSize", Filter), ($"{LayerSpec.Field}.lambda", Lambda),
        ($"{LayerSpec.Field}.p", P), ($"{LayerSpec.Field}.epochs", Epochs), ("tolerance", Tolerance), ("toleranceWindow", ToleranceWindow), ($"{LayerSpec.Field}.connectivity", Connectivity), ($"{LayerSpec.Field}.pool", Pool),
        ("solver", Solver), ("update", Update), ("batchSize", BatchSize), ("forget", Forget), ("filterSolver", FilterSolver), ("boundary", Boundary), ("preprocessing", Preprocess), ("grey", Rgb),
        ("seed", Seed), ("model", Model),
        ($"{ZeilerOptions.Field}.beta0", Beta0), ($"{ZeilerOptions.Field}.betaIncrease", BetaIncrease), ($"{ZeilerOptions.Field}.betaSteps", BetaSteps),
        ($"{ZeilerOptions.Field}.cgSteps", ZCgSteps),
        ($"{FistaOptions.Field}.maxIterations", FistaIterations), ($"{FistaOptions.Field}.tolerance", FistaTolerance),
        ($"{CoordinateDescentOptions.Field}.maxSweeps", CdSweeps), ($"{CoordinateDescentOptions.Field}.tolerance", CdTolerance), ($"{CoordinateDescentOptions.Field}.tile", Tile),
        ($"{FilterUpdateOptions.Field}.steps", FilterSteps), ($"{FilterUpdateOptions.Field}.zeroMean", ZeroMean),
    ];

    public IEnumerable<Option> All => Fields.Select(f => f.Option).Distinct();

    public void AddTo(Command command)
    {
        foreach (Option option in All) command.Options.Add(option);
    }

    /// <summary>The flag that sets spec field <paramref name="field"/>, or null when no flag does.</summary>
    public static string? FlagFor(string field) => FlagOfField.Value.GetValueOrDefault(field);

    /// <summary>
    /// <paramref name="e"/>'s first line in the user's terms: its field's name, where the message writes it
    /// ("fista.maxIterations = 0" or "layers.pool: …"), becomes the flag ("--fista-iterations = 0").
    /// </summary>
    public static string Describe(SpecException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string first = e.Message.Split('\n', 2)[0].Trim();
        return FlagFor(e.Field) is { } flag
            ? Regex.Replace(first, $@"(?<![\w.-]){Regex.Escape(e.Field)}(?=( =|:))", flag.Replace("$", "$$", StringComparison.Ordinal))
            : first;
    }

    /// <summary>Builds and validates the spec; a bad value is a <see cref="SpecException"/> naming the field.</summary>
    public TrainingSpec Build(ParseResult r)
    {
        int[] maps = Ints(r, Maps);
        int layers = maps.Length;
        int[] filter = PerLayer(r, Filter, Ints, layers, l => l.FilterSize);
        double[] lambda = PerLayer(r, Lambda, Doubles, layers, l => l.Lambda);
        double[] p = PerLayer(r, P, Doubles, layers, l => l.P);
        // "auto" is the preset's cap, stopped by the tolerance; unset means auto.
        bool auto = !Given(r, Epochs) || Words(r.GetValue(Epochs)!).Contains(Auto);
        int[] epochs = PerLayer(r, Epochs, (res, o) => Words(res.GetValue(o)!).Select(w => w == Auto ? LearningPreset.AutoEpochCap
            : int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new SpecException($"{o.Name}: '{w}' is not a whole number or auto.", Field(o))).ToArray(), layers, l => l.Epochs);
        ConnectivityKind[] connectivity = PerLayer(r, Connectivity, (res, o) => Words(res.GetValue(Connectivity)!).Select(w => w switch
        {
            "singles-and-all-doubles" => ConnectivityKind.SinglesAndAllDoubles,
            "random-doubles" => ConnectivityKind.RandomDoubles,
            _ => Choice(w, o, Connectivities),
        }).ToArray(), layers, l => l.Connectivity);
        var spec = new TrainingSpec
        {
            Layers = Enumerable.Range(0, layers).Select(l => new LayerSpec
            {
                Maps = maps[l],
                FilterSize = filter[l],
                Lambda = lambda[l],
                P = p[l],
                Epochs = epochs[l],
                Connectivity = connectivity[l],
            }).ToArray(),
            Solver = Choice(r.GetValue(Solver)!, Solver, Solvers),
            Update = Choice(r.GetValue(Update)!, Update, Updates),
            BatchSize = r.GetValue(BatchSize),
            Forget = r.GetValue(Forget),
            FilterSolver = Choice(r.GetValue(FilterSolver)!, FilterSolver, FilterSolvers),
            Boundary = Choice(r.GetValue(Boundary)!, Boundary, Boundaries),
            Preprocessing = Choice(r.GetValue(Preprocess)!, Preprocess, Preprocessings),
            Grey = !r.GetValue(Rgb),
            Seed = r.GetValue(Seed),
            Zeiler = Defaults.Zeiler with
            {
                Beta0 = r.GetValue(Beta0),
                BetaIncrease = r.GetValue(BetaIncrease),
                BetaSteps = r.GetValue(BetaSteps),
                CgSteps = r.GetValue(ZCgSteps),
            },
            Fista = new FistaOptions { MaxIterations = r.GetValue(FistaIterations), Tolerance = r.GetValue(FistaTolerance) },
            CoordinateDescent = new CoordinateDescentOptions { MaxSweeps = r.GetValue(CdSweeps), Tolerance = r.GetValue(CdTolerance), Tile = r.GetValue(Tile) },
            FilterUpdate = new FilterUpdateOptions { Steps = r.GetValue(FilterSteps), ZeroMean = r.GetValue(ZeroMean) },
            Tolerance = r.GetValue(Tolerance) ?? (auto ? LearningPreset.AutoTolerance : 0),
            ToleranceWindow = r.GetValue(ToleranceWindow),
        };
        spec = WithModel(r, spec);
        spec.Validate();
        return spec;
    }

    /// <summary>--model and --pool: the adaptive model's preset (Compute's) fills the fields the user gave no value.</summary>
    private TrainingSpec WithModel(ParseResult r, TrainingSpec spec)
    {
        NetworkModel model = Choice(r.GetValue(Model)!, Model, Models);
        if (model == NetworkModel.Deconv)
            return Given(r, Pool) ? throw new SpecException("--pool: the deconv model has no pooling; add --model adaptive.", $"{LayerSpec.Field}.pool") : spec;
        int boundaries = spec.Layers.Count - 1;
        PoolSize?[] pools = Words(r.GetValue(Pool)!).Select(PoolSize.Parse).ToArray();
        if (pools.Length == 1) pools = Enumerable.Repeat(pools[0], boundaries).ToArray();
        if (pools.Length != boundaries)
            throw new SpecException($"--pool: {pools.Length} values for the {boundaries} pairs of layers of --maps; give one value or one per pair.", $"{LayerSpec.Field}.pool");
        var given = Fields.Where(f => Given(r, f.Option)).Select(f => f.Field).ToHashSet();
        return Adaptive.Apply(spec, given, pools);
    }

    private const string Auto = "auto";

    private static bool Given(ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };

    /// <summary>The field a flag's own parse errors name (the first the flag sets).</summary>
    private static string Field(Option option) => FieldOfFlag.Value[option.Name];

    /// <summary>The default layers' values of one field, as the flag's shown default ("9,45"; "7" when they agree).</summary>
    private static string PerLayerDefault<T>(Func<LayerSpec, T> value) where T : IFormattable
    {
        string[] values = Defaults.Layers.Select(l => value(l).ToString(null, CultureInfo.InvariantCulture)).ToArray();
        return values.Distinct().Count() == 1 ? values[0] : string.Join(",", values);
    }

    private static string[] Words(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToLowerInvariant()).ToArray();

    private static int[] Ints(ParseResult r, Option<string> option) => Words(r.GetValue(option)!).Select(w =>
        int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new SpecException($"{option.Name}: '{w}' is not a whole number.", Field(option))).ToArray() is { Length: > 0 } a ? a
        : throw new SpecException($"{option.Name}: give at least one value.", Field(option));

    private static double[] Doubles(ParseResult r, Option<string> option) => Words(r.GetValue(option)!).Select(w =>
        double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new SpecException($"{option.Name}: '{w}' is not a number.", Field(option))).ToArray() is { Length: > 0 } a ? a
        : throw new SpecException($"{option.Name}: give at least one value.", Field(option));

    /// <summary>
    /// One value per layer: the user's list (one value applies to every layer), or, when the flag is not given, each
    /// layer's default: the default spec's layer at that index, or its last layer beyond.
    /// </summary>
    private static T[] PerLayer<T>(ParseResult r, Option<string> option, Func<ParseResult, Option<string>, T[]> parse, int layers, Func<LayerSpec, T> fallback)
    {
        if (!Given(r, option)) return Enumerable.Range(0, layers).Select(l => fallback(Defaults.Layers[Math.Min(l, Defaults.Layers.Count - 1)])).ToArray();
        T[] values = parse(r, option);
        if (values.Length == layers) return values;
        if (values.Length == 1) return Enumerable.Repeat(values[0], layers).ToArray();
        throw new SpecException($"{option.Name}: {values.Length} values for {layers} layers (--maps has {layers}); give one value or one per layer.", Field(option));
    }

    private static T Choice<T>(string text, Option option, (string Name, T Value)[] choices)
    {
        string word = text.Trim().ToLowerInvariant();
        foreach (var (name, value) in choices)
            if (name == word) return value;
        throw new SpecException($"{option.Name}: '{text}'; allowed {string.Join(", ", choices.Select(c => c.Name))}.", Field(option));
    }

    private static string NameOf<T>((string Name, T Value)[] choices, T value) =>
        choices.First(c => EqualityComparer<T>.Default.Equals(c.Value, value)).Name;
}
