namespace Distributed.Compute.Inference;

/// <summary>FISTA settings: most iterations, and the relative-change stopping rule ‖z_t − z_{t−1}‖ ≤ tol · ‖z_t‖.</summary>
public sealed record FistaOptions
{
    /// <summary>The record's name in the spec; fields are reported as <c>fista.maxIterations</c> etc.</summary>
    public const string Field = "fista";

    /// <summary>Most iterations per inference.</summary>
    public int MaxIterations { get; init; } = 50;

    /// <summary>Relative-change tolerance; 0 runs every iteration.</summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>Throws a <see cref="SpecException"/> naming the field and its allowed range.</summary>
    public void Validate()
    {
        SpecException.CheckRange($"{Field}.maxIterations", MaxIterations, 1, 100_000);
        SpecException.CheckFinite($"{Field}.tolerance", Tolerance, 0, strict: false);
    }
}
