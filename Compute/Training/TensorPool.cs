using System.Collections.Concurrent;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// Dense buffers by shape, rented for the duration of one image's work and returned: a shard holds at most one per
/// image in flight (its parallelism) of each kind, instead of one per image it owns. Contents are not cleared.
/// </summary>
internal sealed class TensorPool
{
    private readonly ConcurrentDictionary<(int, int, int), ConcurrentBag<Tensor3>> _free = new();

    public Tensor3 Rent(int planes, int rows, int cols) =>
        _free.TryGetValue((planes, rows, cols), out var bag) && bag.TryTake(out Tensor3? t) ? t : new Tensor3(planes, rows, cols);

    public void Return(Tensor3 t) => _free.GetOrAdd((t.Planes, t.Rows, t.Cols), _ => new ConcurrentBag<Tensor3>()).Add(t);

    public void Clear() => _free.Clear();

    /// <summary>Every shape rented and returned so far (tests check which buffers a path needs).</summary>
    internal IReadOnlyCollection<(int Planes, int Rows, int Cols)> Shapes => [.. _free.Keys];
}
