using System.Text.Json.Serialization;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;
using Distributed.Compute.Imaging;
using Distributed.Compute.Inference;
using Distributed.Compute.Learning;

namespace Distributed.Compute.Training;

/// <summary>Which network is trained.</summary>
public enum NetworkModel
{
    /// <summary>Zeiler et al. 2010: each layer reconstructs the layer below (its input planes).</summary>
    Deconv,

    /// <summary>
    /// Zeiler, Taylor, Fergus 2011: layers alternate with 3-D max pooling (<see cref="LayerSpec.Pool"/>), and every layer
    /// above the first is inferred and learned against the image itself, through the fixed layers and switches below.
    /// </summary>
    Adaptive,
}

/// <summary>How z is inferred with the filters fixed.</summary>
public enum InferenceSolver
{
    /// <summary>Zeiler 2010: auxiliary x, β continuation, exact x-step, CG z-step. Any p in (0, 1].</summary>
    Zeiler,

    /// <summary>Accelerated proximal gradient for p = 1 (ℓ1), step from a power-iteration bound on ‖FᵀF‖.</summary>
    Fista,

    /// <summary>
    /// Locally greedy coordinate descent for p = 1 (DiCoDiLe's inner solver): exact 1-D moves kept current through the
    /// FᵀF stencil; much cheaper than FISTA once the maps are sparse.
    /// </summary>
    CoordinateDescent,
}

/// <summary>When the filters are updated.</summary>
public enum FilterUpdateSchedule
{
    /// <summary>Once per epoch from A = ΣZᵀZ, b = ΣZᵀy over every image (the distributed default).</summary>
    Batch,

    /// <summary>After every image, in the epoch's shuffled order (the 2010 toolbox's default).</summary>
    Online,

    /// <summary>
    /// Online dictionary learning (Mairal et al. 2010; alphacsc's online mode): after every <see cref="TrainingSpec.BatchSize"/>
    /// images of a seeded order, their A and b are folded into running statistics with forgetting factor
    /// <see cref="TrainingSpec.Forget"/>, then the filters take the usual few solver steps.
    /// </summary>
    Minibatch,
}

/// <summary>How the filter subproblem is solved from A and b.</summary>
public enum FilterSolver
{
    /// <summary>A few warm-started CG steps on A f = b, then each plane f_{k,c} normalised to unit ℓ2 norm (Zeiler).</summary>
    ConjugateGradientNormalize,

    /// <summary>Exact solution of min ½fᵀAf − bᵀf s.t. ‖f_k‖ ≤ 1 (optionally zero mean) by projected FISTA (SPORCO's problem).</summary>
    ProjectedGradient,
}

/// <summary>How the filter solver gets products with A = ΣZᵀZ.</summary>
public enum FilterSystemKind
{
    /// <summary>Explicit when A is at most <see cref="TrainingSpec.ExplicitGramLimitBytes"/>, matrix-free above.</summary>
    Auto,

    /// <summary>Shards ship their exact s²×s² blocks of A once per epoch; solver steps cost no round trips.</summary>
    Explicit,

    /// <summary>Shards ship b only; each solver step asks them for A·d from their maps (one round trip a step).</summary>
    MatrixFree,
}

/// <summary>Which maps connect to which input planes.</summary>
public enum ConnectivityKind
{
    Full,
    SinglesAndAllDoubles,
    RandomDoubles,
}

/// <summary>One layer of the network. Defaults are the 2010 toolbox's layer 1.</summary>
public sealed record LayerSpec
{
    /// <summary>The layers' name in the spec; a layer's fields are reported as <c>layers.lambda</c> etc.</summary>
    public const string Field = "layers";

    /// <summary>Feature maps K (9 for layer 1, 45 for layer 2).</summary>
    public int Maps { get; init; } = 9;

    /// <summary>Filter size s (s×s).</summary>
    public int FilterSize { get; init; } = 7;

    /// <summary>Map-to-input connectivity g.</summary>
    public ConnectivityKind Connectivity { get; init; } = ConnectivityKind.Full;

    /// <summary>
    /// λ: weight of the reconstruction term, λ/2 ‖F z − y‖², relative to the set's unit-RMS scaling (see
    /// <see cref="Trainer"/>). With the toolbox's λ = 1 and p = 0.8 the maps of LCN photos are ~40% nonzero; smaller λ
    /// gives sparser maps and more edge-like filters, but Zeiler's β schedule (tuned for λ ≈ β0) then no longer lowers
    /// the objective every epoch; use FISTA (p = 1) for sparse runs.
    /// </summary>
    public double Lambda { get; init; } = 1.0;

    /// <summary>p of the sparsity term Σ|z|^p, in (0, 1].</summary>
    public double P { get; init; } = 0.8;

    /// <summary>
    /// Epochs (passes over the image set) for this layer; with <see cref="TrainingSpec.Tolerance"/> the most it runs.
    /// 0 learns nothing: the layer keeps its seeded random filters (a baseline for the learned ones).
    /// </summary>
    public int Epochs { get; init; } = 5;

    /// <summary>
    /// Adaptive model: the 3-D max pooling of this layer's maps that makes the next layer's input (e.g. 3x3x2 = rows ×
    /// cols × maps); null: the next layer reads the maps unpooled. The top layer has none.
    /// </summary>
    public PoolSize? Pool { get; init; }

    public void Validate(int index)
    {
        string at = $"layer {index + 1}";
        if (Maps is < 1 or > 4096) throw Range("maps", Maps, "1..4096");
        if (FilterSize is < 1 or > 64) throw Range("filterSize", FilterSize, "1..64");
        if (!(Lambda > 0) || double.IsInfinity(Lambda)) throw Range("lambda", Lambda, "a finite number > 0");
        if (!(P > 0 && P <= 1)) throw Range("p", P, "(0, 1]");
        if (Epochs is < 0 or > 100_000) throw Range("epochs", Epochs, "0..100000 (0: keep the random initial filters)");
        Pool?.Validate(at);

        SpecException Range(string field, IFormattable value, string allowed)
        {
            SpecException e = SpecException.OutOfRange($"{Field}.{field}", value, allowed);
            return new SpecException($"{at}: {e.Message}", e.Field);
        }
    }
}

/// <summary>
/// Everything that defines a training run, with the 2010 toolbox's defaults (docs/model.md). The same spec and seed
/// give the same filters, bit for bit on one machine, on the serial and (within tolerance) the distributed engine.
/// </summary>
public sealed record TrainingSpec
{
    /// <summary>The layers, bottom first. Default: 9 maps 7×7 Full, then 45 maps 7×7 singles and all doubles.</summary>
    public IReadOnlyList<LayerSpec> Layers { get; init; } =
    [
        new LayerSpec(),
        new LayerSpec { Maps = 45, Connectivity = ConnectivityKind.SinglesAndAllDoubles },
    ];

    /// <summary>The 2010 network or the 2011 adaptive one (pooling between layers, every layer inferred against pixels).</summary>
    public NetworkModel Model { get; init; } = NetworkModel.Deconv;

    public InferenceSolver Solver { get; init; } = InferenceSolver.Zeiler;
    public FilterUpdateSchedule Update { get; init; } = FilterUpdateSchedule.Batch;
    public FilterSolver FilterSolver { get; init; } = FilterSolver.ConjugateGradientNormalize;
    public Boundary Boundary { get; init; } = Boundary.Valid;
    public Preprocessing Preprocessing { get; init; } = Preprocessing.Lcn;

    /// <summary>Use one grey plane (luma) instead of RGB planes.</summary>
    public bool Grey { get; init; } = true;

    /// <summary>Seeds the filter initialisation, the epoch order and random connectivity.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Zeiler-mode inference (<see cref="InferenceSolver.Zeiler"/>).</summary>
    public ZeilerOptions Zeiler { get; init; } = new();

    /// <summary>FISTA inference (<see cref="InferenceSolver.Fista"/>, and every layer of the adaptive model).</summary>
    public FistaOptions Fista { get; init; } = new();

    /// <summary>Coordinate-descent inference (<see cref="InferenceSolver.CoordinateDescent"/>).</summary>
    public CoordinateDescentOptions CoordinateDescent { get; init; } = new();

    /// <summary>The adaptive model's switch refreshes (<see cref="NetworkModel.Adaptive"/>).</summary>
    public AdaptiveOptions Adaptive { get; init; } = new();

    /// <summary>Minibatch updates: images per step (the last step of an epoch may have fewer).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// Minibatch updates: ρ in A ← ρ A + A_batch (and b likewise). 0 forgets every earlier batch; 1 weighs all batches
    /// seen alike, even those inferred with older filters (alphacsc's "alpha", default 0.8).
    /// </summary>
    public double Forget { get; init; } = 0.8;

    /// <summary>
    /// Stop a layer once its objective's mean relative decrease per epoch over the last <see cref="ToleranceWindow"/>
    /// epochs is below this (<see cref="ConvergenceRule"/>); 0 runs every one of the layer's epochs.
    /// </summary>
    public double Tolerance { get; init; }

    /// <summary>Epochs the relative change of <see cref="Tolerance"/> is averaged over.</summary>
    public int ToleranceWindow { get; init; } = 2;

    /// <summary>The filter subproblem's solver, either <see cref="Training.FilterSolver"/>.</summary>
    public FilterUpdateOptions FilterUpdate { get; init; } = new();

    /// <summary>
    /// Explicit A (shipped once an epoch) or matrix-free A·d products (a round trip per solver step). The adaptive
    /// model's layers above the first are always matrix-free: their A runs through the layers below.
    /// </summary>
    public FilterSystemKind FilterSystem { get; init; } = FilterSystemKind.Auto;

    // The flat fields of specs written before the options became records (model.json files, persisted jobs): read
    // into the records, never written. Each overrides one field of its record's current value, so a document that has
    // both shapes keeps whichever comes last.
    [JsonInclude] private double Beta0 { init => Zeiler = Zeiler with { Beta0 = value }; }
    [JsonInclude] private double BetaIncrease { init => Zeiler = Zeiler with { BetaIncrease = value }; }
    [JsonInclude] private int BetaSteps { init => Zeiler = Zeiler with { BetaSteps = value }; }
    [JsonInclude] private int RoundsPerBeta { init => Zeiler = Zeiler with { RoundsPerBeta = value }; }
    [JsonInclude] private int ZCgSteps { init => Zeiler = Zeiler with { CgSteps = value }; }
    [JsonInclude] private int FistaIterations { init => Fista = Fista with { MaxIterations = value }; }
    [JsonInclude] private double FistaTolerance { init => Fista = Fista with { Tolerance = value }; }
    [JsonInclude] private int CdSweeps { init => CoordinateDescent = CoordinateDescent with { MaxSweeps = value }; }
    [JsonInclude] private double CdTolerance { init => CoordinateDescent = CoordinateDescent with { Tolerance = value }; }
    [JsonInclude] private int SwitchRefreshInterval { init => Adaptive = Adaptive with { SwitchRefreshInterval = value }; }
    [JsonInclude] private int FilterSteps { init => FilterUpdate = FilterUpdate with { Steps = value }; }
    [JsonInclude] private bool ZeroMeanFilters { init => FilterUpdate = FilterUpdate with { ZeroMean = value }; }

    /// <summary>Auto: the largest A shipped explicitly (16 MiB: 9 maps of 7×7 need 0.8 MB, 64 of 8×8 need 34 MB).</summary>
    public const long ExplicitGramLimitBytes = 16L << 20;

    private string SolverName => Solver == InferenceSolver.CoordinateDescent ? "cd" : Solver.ToString().ToLowerInvariant();

    public void Validate()
    {
        if (Layers is null || Layers.Count == 0) throw new SpecException($"the network has no layers; {LayerSpec.Field}: give at least one.", LayerSpec.Field);
        if (Layers.Count > 8) throw new SpecException($"{LayerSpec.Field}: {Layers.Count} layers; allowed 1..8.", LayerSpec.Field);
        for (int i = 0; i < Layers.Count; i++) Layers[i].Validate(i);
        if (Solver is InferenceSolver.Fista or InferenceSolver.CoordinateDescent)
            for (int i = 0; i < Layers.Count; i++)
                if (Layers[i].P != 1) throw new SpecException($"layer {i + 1}: {LayerSpec.Field}.p = {Layers[i].P}; the {SolverName} solver needs p = 1 (the zeiler solver takes p < 1).", $"{LayerSpec.Field}.p");
        Zeiler.Validate();
        Fista.Validate();
        CoordinateDescent.Validate();
        if (CoordinateDescent.Tile != 0)
        {
            string field = $"{CoordinateDescentOptions.Field}.tile";
            if (Solver != InferenceSolver.CoordinateDescent)
                throw new SpecException($"{field} = {CoordinateDescent.Tile}: spatial tiles split coordinate descent; use the cd solver (or leave the tile at 0).", field);
            int s = Layers.Max(l => l.FilterSize), minimum = Inference.TilePlan.MinimumTile(s);
            if (CoordinateDescent.Tile < minimum)
                throw new SpecException($"{field} = {CoordinateDescent.Tile}; allowed {minimum}..{Inference.TilePlan.MaximumTile} (at least 2(2s−1) for filter size {s}), or 0 for the default.", field);
        }
        Adaptive.Validate();
        FilterUpdate.Validate();
        if (!(Tolerance >= 0 && Tolerance < 1)) throw SpecException.OutOfRange("tolerance", Tolerance, "[0, 1) (0: run every epoch)");
        if (ToleranceWindow is < 1 or > 1000) throw SpecException.OutOfRange("toleranceWindow", ToleranceWindow, "1..1000");
        if (FilterUpdate.ZeroMean && FilterSolver != FilterSolver.ProjectedGradient)
            throw new SpecException($"{FilterUpdateOptions.Field}.zeroMean: zero-mean filters need the projected filter solver.", $"{FilterUpdateOptions.Field}.zeroMean");
        if (!Enum.IsDefined(Solver)) throw SpecException.OutOfRange("solver", Solver, "zeiler, fista, cd");
        if (!Enum.IsDefined(Update)) throw SpecException.OutOfRange("update", Update, "batch, online, minibatch");
        if (BatchSize is < 1 or > 1_000_000) throw SpecException.OutOfRange("batchSize", BatchSize, "1..1000000 images per step");
        if (!(Forget >= 0 && Forget <= 1)) throw SpecException.OutOfRange("forget", Forget, "[0, 1] (0: each step uses its batch alone; 1: no forgetting)");
        if (Update == FilterUpdateSchedule.Minibatch && FilterSystem == FilterSystemKind.MatrixFree)
            throw new SpecException("filterSystem: minibatch updates keep running A and b, so A must be explicit; use auto or explicit.", "filterSystem");
        if (!Enum.IsDefined(Boundary)) throw SpecException.OutOfRange("boundary", Boundary, "valid, circular");
        if (!Enum.IsDefined(FilterSystem)) throw SpecException.OutOfRange("filterSystem", FilterSystem, "auto, explicit, matrix-free");
        if (!Enum.IsDefined(Preprocessing)) throw SpecException.OutOfRange("preprocessing", Preprocessing, "lcn, highpass, none");
        if (!Enum.IsDefined(Model)) throw SpecException.OutOfRange("model", Model, "deconv, adaptive");
        for (int i = 0; i < Layers.Count; i++)
        {
            if (Layers[i].Pool is not { } pool) continue;
            if (Model != NetworkModel.Adaptive)
                throw new SpecException($"layer {i + 1}: {LayerSpec.Field}.pool = {pool}, but the deconv model has no pooling (the adaptive model has).", $"{LayerSpec.Field}.pool");
            if (i == Layers.Count - 1)
                throw new SpecException($"layer {i + 1}: {LayerSpec.Field}.pool = {pool}, but it is the top layer: its pooled maps would feed no layer.", $"{LayerSpec.Field}.pool");
        }
        if (Model == NetworkModel.Adaptive)
        {
            if (Solver != InferenceSolver.Fista)
                throw new SpecException($"solver = {SolverName}; the adaptive model infers every layer by ISTA/FISTA in pixel space: it needs the fista solver (and p = 1).", "solver");
            if (Update != FilterUpdateSchedule.Batch)
                throw new SpecException("update = online; the adaptive model learns filters from every image at once: it needs batch updates.", "update");
        }
        for (int i = 1; i < Layers.Count; i++)
            if (Layers[i].Connectivity == ConnectivityKind.SinglesAndAllDoubles)
            {
                int inputs = InputPlanes(i, 1), need = inputs + inputs * (inputs - 1) / 2;
                if (Layers[i].Maps != need)
                    throw new SpecException($"layer {i + 1}: singles-and-all-doubles over {inputs} input planes makes {need} maps, but {LayerSpec.Field}.maps = {Layers[i].Maps}.", $"{LayerSpec.Field}.maps");
            }
    }

    /// <summary>
    /// Input planes of layer <paramref name="layer"/> (0-based): the image's planes for layer 0; above, the maps of the
    /// layer below, or ⌈K/pk⌉ when that layer is pooled over pk maps.
    /// </summary>
    public int InputPlanes(int layer, int imagePlanes)
    {
        if (layer == 0) return imagePlanes;
        LayerSpec below = Layers[layer - 1];
        return below.Pool is { } pool ? (below.Maps + pool.Maps - 1) / pool.Maps : below.Maps;
    }

    /// <summary>Layer l's connectivity for C input planes (the previous layer's maps, or the image planes).</summary>
    public Connectivity ConnectivityFor(int layer, int inputs)
    {
        LayerSpec l = Layers[layer];
        return l.Connectivity switch
        {
            ConnectivityKind.Full => Connectivity.Full(l.Maps, inputs),
            ConnectivityKind.SinglesAndAllDoubles => CheckedSinglesAndDoubles(layer, l.Maps, inputs),
            ConnectivityKind.RandomDoubles => Connectivity.RandomDoubles(l.Maps, inputs, Seed * 7919 + layer),
            _ => throw SpecException.OutOfRange($"{LayerSpec.Field}.connectivity", l.Connectivity, "full, singles-and-all-doubles, random-doubles"),
        };
    }

    private static Connectivity CheckedSinglesAndDoubles(int layer, int maps, int inputs)
    {
        int need = inputs + inputs * (inputs - 1) / 2;
        if (maps != need)
            throw new SpecException($"layer {layer + 1}: singles-and-all-doubles over {inputs} input planes makes {need} maps, but {LayerSpec.Field}.maps = {maps}.", $"{LayerSpec.Field}.maps");
        return Connectivity.SinglesAndAllDoubles(inputs);
    }
}
