namespace Distributed.Compute.Training;

/// <summary>The typed requests the training loop makes of its <see cref="IImageWorkers"/>, each one shard request.</summary>
public static class ImageWorkers
{
    /// <summary>
    /// Builds layer <c>request.Layer</c>'s inputs on every shard and returns each shard's sums. Each shard checks its
    /// own images; only here do the shards' answers meet, so a set mixing grey and colour across shards stops here.
    /// </summary>
    public static async Task<IReadOnlyList<LayerInputSummary>> PrepareLayerAsync(this IImageWorkers workers, PrepareLayerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<LayerInputSummary> summaries = await workers.RunAsync(request, cancellationToken);
        int[] planes = [.. summaries.Where(s => s.Images > 0).Select(s => s.Planes).Distinct().Order()];
        if (planes.Length > 1)
            throw new SpecException($"layer {request.Layer + 1}: the images have {string.Join(" and ", planes)} planes on different shards; one job needs one kind: convert all to grey or all to RGB.", "images");
        return summaries;
    }

    /// <summary>
    /// Infers z for the requested images (all when <see cref="InferRequest.Images"/> is null) with the given filters,
    /// warm-started from each image's previous maps: one partial per shard that had work, in shard order.
    /// </summary>
    public static Task<IReadOnlyList<ShardPartial>> InferAsync(this IImageWorkers workers, InferRequest request, CancellationToken cancellationToken) =>
        RunChecked(workers, request, cancellationToken);

    /// <summary>
    /// Matrix-free filter update: each shard's <c>Σ_i Z_iᵀ Z_i d</c> over its images, from the maps its last inference
    /// left, one product per shard in shard order. Used instead of shipping A when A is large.
    /// </summary>
    public static Task<IReadOnlyList<FilterProduct>> ApplyGramAsync(this IImageWorkers workers, GramRequest request, CancellationToken cancellationToken) =>
        RunChecked(workers, request, cancellationToken);

    /// <summary>Reconstructions and maps of the given images under the trained model, for outputs, in image order.</summary>
    public static async Task<IReadOnlyList<ImageReport>> ReportAsync(this IImageWorkers workers, ReportRequest request, CancellationToken cancellationToken)
    {
        IReadOnlyList<IReadOnlyList<ImageReport>> perShard = await RunChecked(workers, request, cancellationToken);
        return [.. perShard.SelectMany(r => r).OrderBy(r => r.Image)];
    }

    private static Task<IReadOnlyList<TResult>> RunChecked<TResult>(IImageWorkers workers, IShardRequest<TResult> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(request);
        return workers.RunAsync(request, cancellationToken);
    }
}
