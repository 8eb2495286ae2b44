namespace Distributed.Compute.Training;

/// <summary>
/// When a layer has converged: the objective's mean relative decrease per epoch over the last <c>window</c> epochs,
/// Δ_t = (E_{t−w} − E_t) / (w · |E_t|), has fallen below the tolerance. Measured on the epochs' objectives (each taken
/// with that epoch's filters, before its update), so it costs nothing beyond the passes already run. A rise counts as
/// a negative change and also stops: more epochs of the same schedule would not bring the objective down.
/// </summary>
public static class ConvergenceRule
{
    /// <summary>Δ for the last objective of <paramref name="objectives"/>, or NaN when fewer than window + 1 are known.</summary>
    public static double RelativeChange(IReadOnlyList<double> objectives, int window)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        int t = objectives.Count - 1;
        if (t < window) return double.NaN;
        double now = objectives[t], then = objectives[t - window];
        if (now == 0) return then == 0 ? 0 : double.PositiveInfinity;
        return (then - now) / (window * Math.Abs(now));
    }

    /// <summary>True once Δ is known and below <paramref name="tolerance"/> (0: never; the epoch count alone decides).</summary>
    public static bool Converged(IReadOnlyList<double> objectives, int window, double tolerance) =>
        tolerance > 0 && RelativeChange(objectives, window) is var change && !double.IsNaN(change) && change < tolerance;
}
