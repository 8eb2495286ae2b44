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
public sealed class WorkerFilterSystem(IImageWorkers workers, int layer, int epoch, FilterVersion filterVersion, FilterBank b) : IFilterSystem
{
    public FilterBank B { get; } = b;

    public async ValueTask ApplyAsync(FilterBank f, FilterBank destination, CancellationToken cancellationToken)
    {
        IReadOnlyList<FilterProduct> products = await workers.ApplyGramAsync(new GramRequest(layer, epoch, filterVersion, f), cancellationToken);
        Array.Clear(destination.Data);
        foreach (FilterProduct product in products) TensorPrimitives.Add(destination.Data, product.Product.Data, destination.Data);
    }
}
