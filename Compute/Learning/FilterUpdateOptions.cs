namespace Distributed.Compute.Learning;

/// <summary>
/// Settings of the filter subproblem's solver, either kind: CG then normalise (Zeiler) or projected FISTA (SPORCO's
/// exact ‖f_k‖ ≤ 1 problem).
/// </summary>
public sealed record FilterUpdateOptions
{
    /// <summary>The record's name in the spec; fields are reported as <c>filterUpdate.steps</c> etc.</summary>
    public const string Field = "filterUpdate";

    /// <summary>CG steps (CG + normalise) or projected-gradient iterations per update.</summary>
    public int Steps { get; init; } = 3;

    /// <summary>Projected update only: constrain each filter to zero mean as well.</summary>
    public bool ZeroMean { get; init; }

    /// <summary>Throws a <see cref="SpecException"/> naming the field and its allowed range.</summary>
    public void Validate() => SpecException.CheckRange($"{Field}.steps", Steps, 1, 10_000);
}
