using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;

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

/// <summary>Image preprocessing before layer 1.</summary>
public enum Preprocessing
{
    /// <summary>Per-plane mean removal, local contrast normalisation (5×5 Gaussian, σ = 1.591, std floor 1).</summary>
    Lcn,

    /// <summary>SPORCO: image minus its Tikhonov low-pass (λ = 5).</summary>
    Highpass,

    /// <summary>Scale to [0, 1] only.</summary>
    None,
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
        if (Maps < 1 || Maps > 4096) throw new SpecException($"{at}: maps = {Maps}; allowed 1..4096.", "maps");
        if (FilterSize < 1 || FilterSize > 64) throw new SpecException($"{at}: filter size = {FilterSize}; allowed 1..64.", "filter");
        if (!(Lambda > 0) || double.IsInfinity(Lambda)) throw new SpecException($"{at}: lambda = {Lambda}; allowed: a finite number > 0.", "lambda");
        if (!(P > 0 && P <= 1)) throw new SpecException($"{at}: p = {P}; allowed (0, 1].", "p");
        if (Epochs < 0 || Epochs > 100_000) throw new SpecException($"{at}: epochs = {Epochs}; allowed 0..100000 (0: keep the random initial filters).", "epochs");
        Pool?.Validate(at);
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

    /// <summary>Zeiler mode: β0 of the continuation β_t = β0 · β_inc^t.</summary>
    public double Beta0 { get; init; } = 1.0;

    /// <summary>Zeiler mode: β_inc.</summary>
    public double BetaIncrease { get; init; } = 10.0;

    /// <summary>Zeiler mode: number of β values.</summary>
    public int BetaSteps { get; init; } = 6;

    /// <summary>Zeiler mode: (x-step, z-step) rounds per β.</summary>
    public int RoundsPerBeta { get; init; } = 1;

    /// <summary>Zeiler mode: CG steps of each z-step.</summary>
    public int ZCgSteps { get; init; } = 2;

    /// <summary>FISTA: most iterations per inference.</summary>
    public int FistaIterations { get; init; } = 50;

    /// <summary>FISTA: stop when ‖z_t − z_{t−1}‖ ≤ tol · ‖z_t‖.</summary>
    public double FistaTolerance { get; init; } = 1e-4;

    /// <summary>Coordinate descent: most sweeps over the map segments per inference.</summary>
    public int CdSweeps { get; init; } = 100;

    /// <summary>Coordinate descent: stop after a sweep in which no coefficient would move by more than tol · max|z|.</summary>
    public double CdTolerance { get; init; } = 1e-3;

    /// <summary>
    /// Coordinate descent: the side of the spatial tiles one image's maps are cut into (DiCoDiLe), 0 for the default
    /// (<see cref="Inference.TilePlan.DefaultTile"/>: 256). A tile is at least 2(2s−1) for the layers' largest filter s;
    /// an image under twice the tile on both sides is solved whole. The tiles, not the threads, fix the result: spare
    /// threads (fewer images than threads) run an image's tiles at once.
    /// </summary>
    public int Tile { get; init; }

    /// <summary>Adaptive model: FISTA iterations between refreshes of the lower layers' switches (0: keep them fixed).</summary>
    public int SwitchRefreshInterval { get; init; } = 10;

    /// <summary>
    /// Stop a layer once its objective's mean relative decrease per epoch over the last <see cref="ToleranceWindow"/>
    /// epochs is below this (<see cref="ConvergenceRule"/>); 0 runs every one of the layer's epochs.
    /// </summary>
    public double Tolerance { get; init; }

    /// <summary>Epochs the relative change of <see cref="Tolerance"/> is averaged over.</summary>
    public int ToleranceWindow { get; init; } = 2;

    /// <summary>Filter update: CG steps (CG + normalise) or projected-gradient iterations.</summary>
    public int FilterSteps { get; init; } = 3;

    /// <summary>Projected-gradient filter update: constrain each filter to zero mean as well (SPORCO's problem).</summary>
    public bool ZeroMeanFilters { get; init; }

    /// <summary>
    /// Explicit A (shipped once an epoch) or matrix-free A·d products (a round trip per solver step). The adaptive
    /// model's layers above the first are always matrix-free: their A runs through the layers below.
    /// </summary>
    public FilterSystemKind FilterSystem { get; init; } = FilterSystemKind.Auto;

    /// <summary>Auto: the largest A shipped explicitly (16 MiB: 9 maps of 7×7 need 0.8 MB, 64 of 8×8 need 34 MB).</summary>
    public const long ExplicitGramLimitBytes = 16L << 20;

    private string SolverName => Solver == InferenceSolver.CoordinateDescent ? "cd" : Solver.ToString().ToLowerInvariant();

    public void Validate()
    {
        if (Layers is null || Layers.Count == 0) throw new SpecException("the network has no layers; give at least one (--maps).", "maps");
        if (Layers.Count > 8) throw new SpecException($"{Layers.Count} layers; allowed 1..8.", "maps");
        for (int i = 0; i < Layers.Count; i++) Layers[i].Validate(i);
        if (Solver is InferenceSolver.Fista or InferenceSolver.CoordinateDescent)
            for (int i = 0; i < Layers.Count; i++)
                if (Layers[i].P != 1) throw new SpecException($"layer {i + 1}: p = {Layers[i].P}; the {SolverName} solver needs p = 1 (use --solver zeiler for p < 1).", "p");
        if (CdSweeps < 1 || CdSweeps > 100_000) throw new SpecException($"cd-sweeps = {CdSweeps}; allowed 1..100000.", "cd-sweeps");
        if (!(CdTolerance >= 0) || double.IsInfinity(CdTolerance)) throw new SpecException($"cd-tolerance = {CdTolerance}; allowed: a finite number ≥ 0.", "cd-tolerance");
        if (Tile != 0)
        {
            if (Solver != InferenceSolver.CoordinateDescent)
                throw new SpecException($"tile = {Tile}: spatial tiles split coordinate descent; add --solver cd (or leave --tile out).", "tile");
            int s = Layers.Max(l => l.FilterSize), minimum = Inference.TilePlan.MinimumTile(s);
            if (Tile < minimum || Tile > Inference.TilePlan.MaximumTile)
                throw new SpecException($"tile = {Tile}; allowed {minimum}..{Inference.TilePlan.MaximumTile} (at least 2(2s−1) for filter size {s}), or 0 to choose.", "tile");
        }
        if (!(Beta0 > 0) || double.IsInfinity(Beta0)) throw new SpecException($"beta0 = {Beta0}; allowed: a finite number > 0.", "beta0");
        if (!(BetaIncrease >= 1) || double.IsInfinity(BetaIncrease)) throw new SpecException($"beta-increase = {BetaIncrease}; allowed: a finite number ≥ 1.", "beta-increase");
        if (BetaSteps < 1 || BetaSteps > 50) throw new SpecException($"beta-steps = {BetaSteps}; allowed 1..50.", "beta-steps");
        if (RoundsPerBeta < 1 || RoundsPerBeta > 1000) throw new SpecException($"rounds-per-beta = {RoundsPerBeta}; allowed 1..1000.", "rounds-per-beta");
        if (ZCgSteps < 1 || ZCgSteps > 1000) throw new SpecException($"z-cg-steps = {ZCgSteps}; allowed 1..1000.", "z-cg-steps");
        if (FistaIterations < 1 || FistaIterations > 100_000) throw new SpecException($"fista-iterations = {FistaIterations}; allowed 1..100000.", "fista-iterations");
        if (!(FistaTolerance >= 0) || double.IsInfinity(FistaTolerance)) throw new SpecException($"fista-tolerance = {FistaTolerance}; allowed: a finite number ≥ 0.", "fista-tolerance");
        if (!(Tolerance >= 0 && Tolerance < 1)) throw new SpecException($"tolerance = {Tolerance}; allowed [0, 1) (0: run every epoch).", "tolerance");
        if (ToleranceWindow is < 1 or > 1000) throw new SpecException($"tolerance-window = {ToleranceWindow}; allowed 1..1000.", "tolerance-window");
        if (FilterSteps < 1 || FilterSteps > 10_000) throw new SpecException($"filter-steps = {FilterSteps}; allowed 1..10000.", "filter-steps");
        if (ZeroMeanFilters && FilterSolver != FilterSolver.ProjectedGradient)
            throw new SpecException("zero-mean filters need --filter-solver projected.", "zero-mean");
        if (!Enum.IsDefined(Solver)) throw new SpecException($"solver = {Solver}; allowed zeiler, fista, cd.", "solver");
        if (!Enum.IsDefined(Update)) throw new SpecException($"update = {Update}; allowed batch, online.", "update");
        if (!Enum.IsDefined(Boundary)) throw new SpecException($"boundary = {Boundary}; allowed valid, circular.", "boundary");
        if (!Enum.IsDefined(FilterSystem)) throw new SpecException($"filter-system = {FilterSystem}; allowed auto, explicit, matrix-free.", "filter-system");
        if (!Enum.IsDefined(Preprocessing)) throw new SpecException($"preprocess = {Preprocessing}; allowed lcn, highpass, none.", "preprocess");
        if (!Enum.IsDefined(Model)) throw new SpecException($"model = {Model}; allowed deconv, adaptive.", "model");
        if (SwitchRefreshInterval < 0 || SwitchRefreshInterval > 100_000) throw new SpecException($"switch-refresh = {SwitchRefreshInterval}; allowed 0..100000 (0: fixed switches).", "switch-refresh");
        for (int i = 0; i < Layers.Count; i++)
        {
            if (Layers[i].Pool is not { } pool) continue;
            if (Model != NetworkModel.Adaptive)
                throw new SpecException($"layer {i + 1}: pool = {pool}, but the deconv model has no pooling; use --model adaptive.", "pool");
            if (i == Layers.Count - 1)
                throw new SpecException($"layer {i + 1}: pool = {pool}, but it is the top layer: its pooled maps would feed no layer.", "pool");
        }
        if (Model == NetworkModel.Adaptive)
        {
            if (Solver != InferenceSolver.Fista)
                throw new SpecException("the adaptive model infers every layer by ISTA/FISTA in pixel space; use --solver fista (and p = 1).", "solver");
            if (Update != FilterUpdateSchedule.Batch)
                throw new SpecException("the adaptive model learns filters from every image at once; use --update batch.", "update");
        }
        for (int i = 1; i < Layers.Count; i++)
            if (Layers[i].Connectivity == ConnectivityKind.SinglesAndAllDoubles)
            {
                int inputs = InputPlanes(i, 1), need = inputs + inputs * (inputs - 1) / 2;
                if (Layers[i].Maps != need)
                    throw new SpecException($"layer {i + 1}: singles-and-all-doubles over {inputs} input planes makes {need} maps, but maps = {Layers[i].Maps}.", "maps");
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
            _ => throw new SpecException($"layer {layer + 1}: unknown connectivity {l.Connectivity}.", "connectivity"),
        };
    }

    private static Connectivity CheckedSinglesAndDoubles(int layer, int maps, int inputs)
    {
        int need = inputs + inputs * (inputs - 1) / 2;
        if (maps != need)
            throw new SpecException($"layer {layer + 1}: singles-and-all-doubles over {inputs} input planes makes {need} maps, but maps = {maps}.", "maps");
        return Connectivity.SinglesAndAllDoubles(inputs);
    }
}

/// <summary>An invalid training spec or input; <see cref="Field"/> names the offending field or flag.</summary>
public sealed class SpecException(string message, string field) : ArgumentException(message)
{
    public string Field { get; } = field;
}
