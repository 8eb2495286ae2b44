namespace Distributed.Compute.Training;

/// <summary>
/// One row of <c>metrics.csv</c>: how one epoch of one layer went, summed over the image set.
/// </summary>
/// <param name="Layer">Layer number, 1 = the layer on the pixels.</param>
/// <param name="Epoch">Epoch number within the layer, from 1.</param>
/// <param name="Objective">E = data term + sparsity term, summed over the images.</param>
/// <param name="DataTerm">λ/2 Σ ‖ŷ − y‖².</param>
/// <param name="SparsityTerm">Σ |z|^p (the true value, not the auxiliary variable's).</param>
/// <param name="NonzeroFraction">Fraction of feature-map elements that are not zero, in [0, 1].</param>
/// <param name="PsnrDb">Reconstruction PSNR of the layer's input in dB (the trainer defines the peak; ∞ for an exact reconstruction).</param>
/// <param name="Seconds">Wall-clock seconds the epoch took.</param>
/// <param name="Images">Images the sums run over.</param>
public sealed record EpochMetrics(
    int Layer,
    int Epoch,
    double Objective,
    double DataTerm,
    double SparsityTerm,
    double NonzeroFraction,
    double PsnrDb,
    double Seconds,
    int Images);
