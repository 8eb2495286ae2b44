namespace Distributed.Compute.Imaging;

/// <summary>Image preprocessing before layer 1.</summary>
public enum Preprocessing
{
    /// <summary>Per-plane mean removal, local contrast normalisation (5×5 Gaussian, σ = 1.591, std floor 1).</summary>
    Lcn,

    /// <summary>SPORCO: image minus its Tikhonov low-pass (λ = 5).</summary>
    Highpass,

    /// <summary>Scale to [0, 1] only.</summary>
    None,
}
