using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The quadratic filter subproblem <c>min_f ½ fᵀA f − bᵀf</c> as the filter solvers see it: only products with A and
/// the right-hand side b are needed. <see cref="FilterNormalEquations"/> holds A explicitly;
/// the trainer's worker-backed system (matrix-free mode) asks the workers for A·d from their maps each time.
/// </summary>
public interface IFilterSystem
{
    /// <summary>b, shaped like the filters.</summary>
    FilterBank B { get; }

    /// <summary>Effectively computes <c>destination = A f</c>; may be a round trip to the workers (matrix-free mode).</summary>
    ValueTask ApplyAsync(FilterBank f, FilterBank destination, CancellationToken cancellationToken);
}
