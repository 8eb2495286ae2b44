namespace Distributed.Compute.Inference;

/// <summary>
/// Zeiler-mode settings: the β continuation β_t = β0 · β_inc^t and the work done per β. Defaults are the 2010
/// toolbox's.
/// </summary>
public sealed record ZeilerOptions
{
    /// <summary>The record's name in the spec; fields are reported as <c>zeiler.beta0</c> etc.</summary>
    public const string Field = "zeiler";

    /// <summary>β0, the first β.</summary>
    public double Beta0 { get; init; } = 1;

    /// <summary>β_inc, the factor between consecutive β.</summary>
    public double BetaIncrease { get; init; } = 10;

    /// <summary>Number of β values; at the last, z − x = O(1/β) is negligible.</summary>
    public int BetaSteps { get; init; } = 6;

    /// <summary>(x-step, z-step) rounds per β.</summary>
    public int RoundsPerBeta { get; init; } = 1;

    /// <summary>Warm-started CG steps of each z-step.</summary>
    public int CgSteps { get; init; } = 2;

    /// <summary>Throws a <see cref="SpecException"/> naming the field and its allowed range.</summary>
    public void Validate()
    {
        SpecException.CheckFinite($"{Field}.beta0", Beta0, 0, strict: true);
        SpecException.CheckFinite($"{Field}.betaIncrease", BetaIncrease, 1, strict: false);
        SpecException.CheckRange($"{Field}.betaSteps", BetaSteps, 1, 50);
        SpecException.CheckRange($"{Field}.roundsPerBeta", RoundsPerBeta, 1, 1000);
        SpecException.CheckRange($"{Field}.cgSteps", CgSteps, 1, 1000);
    }
}
