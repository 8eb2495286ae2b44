namespace Distributed.Compute.Inference;

/// <summary>
/// Objective parts summed over images: E = λ/2 · Σ‖F z − y‖² + Σ|z|^p. Totals add in a fixed (shard) order.
/// </summary>
public readonly record struct InferenceTotals(
    int Images,
    double DataTerm,
    double SparsityTerm,
    long Nonzeros,
    long Coefficients,
    double SquaredError,
    long Pixels,
    double PsnrSum,
    long Iterations,
    double Seconds)
{
    /// <summary>E = data term + sparsity term, where the data term already carries λ/2.</summary>
    public double Objective => DataTerm + SparsityTerm;

    public double NonzeroFraction => Coefficients == 0 ? 0 : Nonzeros / (double)Coefficients;

    /// <summary>Mean PSNR over images, dB (peak = the input's own max − min).</summary>
    public double MeanPsnr => Images == 0 ? 0 : PsnrSum / Images;

    public static InferenceTotals operator +(InferenceTotals a, InferenceTotals b) => new(
        a.Images + b.Images,
        a.DataTerm + b.DataTerm,
        a.SparsityTerm + b.SparsityTerm,
        a.Nonzeros + b.Nonzeros,
        a.Coefficients + b.Coefficients,
        a.SquaredError + b.SquaredError,
        a.Pixels + b.Pixels,
        a.PsnrSum + b.PsnrSum,
        a.Iterations + b.Iterations,
        a.Seconds + b.Seconds);
}
