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

    /// <summary>
    /// The side of the spatial tiles of one image's solve (<see cref="TilePlan"/>), 0 for
    /// <see cref="TilePlan.DefaultTile"/> (images under twice that stay whole). The tiles run on the layer operator's
    /// threads; the result depends on the tiles, not on the threads. The spec checks it against 2(2s−1).
    /// </summary>
    public int Tile { get; init; }

    /// <summary>Throws a <see cref="SpecException"/> naming the field and its allowed range.</summary>
    public void Validate()
    {
        SpecException.CheckRange($"{Field}.tile", Tile, 0, TilePlan.MaximumTile);
        SpecException.CheckRange($"{Field}.maxSweeps", MaxSweeps, 1, 100_000);
        SpecException.CheckFinite($"{Field}.tolerance", Tolerance, 0, strict: false);
    }
}
