namespace Distributed.Compute.Inference;

/// <summary>
/// Coordinate-descent settings: most sweeps over the segments, and the stopping rule: a sweep in which no coefficient
/// would move by more than <see cref="Tolerance"/> · max|z| ends the solve (tolerances below
/// <see cref="CoordinateDescentInference.ToleranceFloor"/> act as the floor).
/// </summary>
public sealed record CoordinateDescentOptions
{
    /// <summary>The record's name in the spec; fields are reported as <c>coordinateDescent.maxSweeps</c> etc.</summary>
    public const string Field = "coordinateDescent";

    /// <summary>Most sweeps per inference.</summary>
    public int MaxSweeps { get; init; } = 100;

    /// <summary>Stopping tolerance relative to max|z|.</summary>
    public double Tolerance { get; init; } = 1e-3;

    /// <summary>Throws a <see cref="SpecException"/> naming the field and its allowed range.</summary>
    public void Validate()
    {
        SpecException.CheckRange($"{Field}.maxSweeps", MaxSweeps, 1, 100_000);
        SpecException.CheckFinite($"{Field}.tolerance", Tolerance, 0, strict: false);
    }
}
