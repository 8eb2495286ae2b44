namespace Distributed.Compute.Training;

/// <summary>
/// One row of metrics.csv: the objective and its parts summed over the image set for one layer and epoch, measured
/// with that epoch's filters (before its update). Epoch is 1-based; Seconds is the wall time of the epoch.
/// RelativeChange is <see cref="ConvergenceRule.RelativeChange"/> at this epoch (NaN for the first window epochs).
/// ResidentBytes is what the shards held for their images at the end of it (cached inputs and kept maps).
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
    double RelativeChange = double.NaN,
    long ResidentBytes = 0)
{
    /// <summary>Resident bytes per image (0 without images).</summary>
    public long ResidentBytesPerImage => Images == 0 ? 0 : ResidentBytes / Images;
}
