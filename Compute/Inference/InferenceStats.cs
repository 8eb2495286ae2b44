
namespace Distributed.Compute.Inference;

/// <summary>
/// What one inference returns for one image: E = λ/2‖F z − y‖² + Σ|z|^p split into its parts (the data term carries
/// λ/2), the nonzero count of z, the squared reconstruction error and PSNR, and the solver's iterations.
/// </summary>
public readonly record struct InferenceStats(
    double DataTerm,
    double SparsityTerm,
    long Nonzeros,
    long Coefficients,
    double SquaredError,
    long Pixels,
    double PsnrDb,
    int Iterations)
{
    public double Objective => DataTerm + SparsityTerm;

    public InferenceTotals ToTotals(double seconds) =>
        new(1, DataTerm, SparsityTerm, Nonzeros, Coefficients, SquaredError, Pixels, PsnrDb, Iterations, seconds);
}
