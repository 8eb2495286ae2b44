using Distributed.Compute.Operators;
using System.Numerics.Tensors;
using Distributed.Compute.Learning;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// The matrix-free filter system: b summed from the shards' partials, and every A·d a round trip to the workers, whose
/// products are added in shard order. Costs one synthesis and one filter gradient per image per solver step, and no
/// s⁴-sized messages.
/// </summary>
/// <param name="source">The inference pass whose maps define A (and b); a shard that lost its maps rebuilds them with it.</param>
public sealed class WorkerFilterSystem(IImageWorkers workers, InferRequest source, FilterBank b) : IFilterSystem
{
    public FilterBank B { get; } = b;

    public async ValueTask ApplyAsync(FilterBank f, FilterBank destination, CancellationToken cancellationToken)
    {
        // The maps are rebuilt without statistics: only the products are wanted.
        InferRequest rebuild = source with { Statistics = FilterStatistics.None };
        IReadOnlyList<FilterProduct> products = await workers.ApplyGramAsync(
            new GramRequest(source.Layer, source.Epoch, source.FilterVersion, f, rebuild), cancellationToken);
        Array.Clear(destination.Data);
        foreach (FilterProduct product in products) TensorPrimitives.Add(destination.Data, product.Product.Data, destination.Data);
    }
}
