using Distributed.Compute.Tensors;

namespace Distributed.Compute.Learning;

/// <summary>
/// The quadratic filter subproblem <c>min_f ½ fᵀA f − bᵀf</c> as the filter solvers see it: only products with A and
/// the right-hand side b are needed. <see cref="Operators.FilterNormalEquations"/> holds A explicitly.
/// </summary>
public interface IFilterSystem
{
    /// <summary>b, shaped like the filters.</summary>
    FilterBank B { get; }

    /// <summary>Effectively computes <c>destination = A f</c>.</summary>
    void Apply(FilterBank f, FilterBank destination);
}
