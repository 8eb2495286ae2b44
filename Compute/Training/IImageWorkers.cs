using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Training;

/// <summary>
/// "The workers that hold the images" (docs/architecture.md): the only thing the training loop in <see cref="Trainer"/> needs
/// from where the data lives. <see cref="LocalImageWorkers"/> holds them in this process (the serial engine); the
/// Orleans engine implements it with shard grains. Every list of per-shard results comes back in shard order, so the
/// loop reduces in a fixed order whatever engine runs it.
/// </summary>
public interface IImageWorkers
{
    /// <summary>Shards, and the global image indices each one owns (in ascending order).</summary>
    IReadOnlyList<IReadOnlyList<int>> Shards { get; }

    /// <summary>Image planes C of layer 1's input (1 grey, 3 RGB), identical for every image.</summary>
    int InputPlanes { get; }

    /// <summary>
    /// Runs <paramref name="request"/> on every shard that holds one of its <see cref="IShardRequest{TResult}.Images"/>
    /// (every shard when null) and returns one result per such shard, in shard order. The typed entry points are the
    /// extensions in <see cref="ImageWorkers"/>.
    /// </summary>
    Task<IReadOnlyList<TResult>> RunAsync<TResult>(IShardRequest<TResult> request, CancellationToken cancellationToken);
}

/// <summary>A layer that training has finished: its filters and the scale its input was multiplied by.</summary>
public sealed record FrozenLayer(FilterBank Filters, float InputScale);

/// <summary>
/// Build layer <see cref="Layer"/>'s inputs on every shard (layer 0: the preprocessed images; layer l: layer l−1's maps
/// from the frozen filters) and return each shard's sums, for the set-wide rescale. <see cref="Frozen"/> holds every
/// layer below it.
/// </summary>
public sealed record PrepareLayerRequest(int Layer, IReadOnlyList<FrozenLayer> Frozen) : IShardRequest<LayerInputSummary>
{
    IReadOnlyList<int>? IShardRequest<LayerInputSummary>.Images => null;

    public LayerInputSummary RunOn(ImageShard shard, CancellationToken cancellationToken) =>
        shard.PrepareLayer(this, cancellationToken);
}

/// <summary>One shard's view of a layer's inputs: Σ y² over its <see cref="Values"/> input values, for the set RMS.</summary>
public sealed record LayerInputSummary(int Shard, int Images, double SumSquares, long Values, int Planes);

/// <summary>What a shard returns for the filter update besides its totals.</summary>
public enum FilterStatistics
{
    /// <summary>Nothing: a final or inference-only pass.</summary>
    None,

    /// <summary>A = ΣZᵀZ and b = ΣZᵀy of its images, summed in ascending image order.</summary>
    NormalEquations,

    /// <summary>b = ΣZᵀy only; A·d products follow through <see cref="ImageWorkers.ApplyGramAsync"/>.</summary>
    RightHandSide,
}

/// <summary>
/// One inference pass. <see cref="InputScale"/> is the set-wide scale of this layer's inputs; <see cref="Statistics"/>
/// says what the shard returns for the filter update.
/// <see cref="ColdStart"/> starts every image from z = 0 instead of its previous maps: the final pass of a layer does,
/// so the maps handed to the next layer depend on the filters alone and a shard that lost them rebuilds them exactly.
/// </summary>
public sealed record InferRequest(
    int Layer,
    int Epoch,
    FilterVersion FilterVersion,
    FilterBank Filters,
    float InputScale,
    IReadOnlyList<FrozenLayer> Frozen,
    IReadOnlyList<int>? Images,
    FilterStatistics Statistics,
    bool ColdStart = false) : IShardRequest<ShardPartial>
{
    public ShardPartial RunOn(ImageShard shard, CancellationToken cancellationToken) => shard.Infer(this, cancellationToken);
}

/// <summary>What a shard sends back from an inference pass: totals over its images, and A and b or b alone on request.</summary>
public sealed record ShardPartial(int Shard, InferenceTotals Totals, FilterNormalEquations? Statistics, FilterBank? RightHandSide = null);

/// <summary>Matrix-free filter update: asks every shard for Σ_i Z_iᵀ Z_i d with the maps of the named layer's last inference.</summary>
public sealed record GramRequest(int Layer, int Epoch, FilterVersion FilterVersion, FilterBank Direction) : IShardRequest<FilterProduct>
{
    IReadOnlyList<int>? IShardRequest<FilterProduct>.Images => null;

    public FilterProduct RunOn(ImageShard shard, CancellationToken cancellationToken) => shard.ApplyGram(this, cancellationToken);
}

/// <summary>One shard's Σ_i Z_iᵀ Z_i d.</summary>
public sealed record FilterProduct(int Shard, FilterBank Product);

/// <summary>Requests reconstructions (and optionally maps) of the given images under the frozen model.</summary>
public sealed record ReportRequest(IReadOnlyList<FrozenLayer> Frozen, IReadOnlyList<int> Images, bool IncludeMaps) : IShardRequest<IReadOnlyList<ImageReport>>
{
    public IReadOnlyList<ImageReport> RunOn(ImageShard shard, CancellationToken cancellationToken) => shard.Report(this, cancellationToken);
}

/// <summary>
/// One image under the trained model: its preprocessed input, the reconstruction of that input from each layer's maps
/// carried down to pixels, (on request) each layer's maps [K, rows, cols], and for the adaptive model the switches each
/// layer's reconstruction used: <see cref="Switches"/>[l][j] are layer j's switches under layer l (null where layer j is
/// not pooled; l entries for layer l). Null for the 2010 model, which has no pooling.
/// </summary>
public sealed record ImageReport(int Image, string Name, Tensor3 Input, IReadOnlyList<Tensor3> Reconstructions, IReadOnlyList<Tensor3>? Maps,
    IReadOnlyList<IReadOnlyList<PoolSwitches?>>? Switches = null);
