namespace Distributed.Compute.Training;

/// <summary>
/// One row of metrics.csv: the objective and its parts summed over the image set for one layer and epoch, measured
/// with that epoch's filters (before its update). Epoch is 1-based; Seconds is the wall time of the epoch.
/// RelativeChange is <see cref="ConvergenceRule.RelativeChange"/> at this epoch (NaN for the first window epochs).
/// </summary>
public sealed record EpochMetrics(
    int Layer,
    int Epoch,
    double Objective,
    double DataTerm,
    double SparsityTerm,
    double NonzeroFraction,
    double PsnrDb,
    double Seconds,
    int Images,
    double RelativeChange = double.NaN);
