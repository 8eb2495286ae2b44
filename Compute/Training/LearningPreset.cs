using Distributed.Compute.Learning;

namespace Distributed.Compute.Training;

/// <summary>
/// The console's defaults: the 2010 toolbox's network (9 then 45 maps of 7×7, full then singles-and-all-doubles, LCN),
/// learned with the solver settings measured to give oriented edges on natural photos within a minute (README, "Why
/// these defaults"): coordinate descent with p = 1 and λ = 0.5, projected filter updates of 50 iterations, and epochs
/// until the objective levels off. <see cref="TrainingSpec"/>'s own defaults stay the toolbox's (the reference the
/// solver tests pin); this preset is what <c>train</c> starts from.
/// </summary>
public static class LearningPreset
{
    /// <summary>Epochs a layer runs at most under <c>--epochs auto</c> before the tolerance stops it.</summary>
    public const int AutoEpochCap = 50;

    /// <summary><c>--epochs auto</c>'s tolerance: 1 % decrease of the objective per epoch.</summary>
    public const double AutoTolerance = 0.01;

    /// <summary>λ relative to unit-RMS inputs: 1.5 % nonzero layer-1 maps on the bundled photos (λ = 1 gives 5 %, noise).</summary>
    public const double Lambda = 0.5;

    /// <summary>Projected-gradient iterations per filter update: enough to remove the random start's noise.</summary>
    public const int FilterSteps = 50;

    /// <summary>The preset as a spec (epochs at <see cref="AutoEpochCap"/>, stopped by <see cref="AutoTolerance"/>).</summary>
    public static TrainingSpec Spec { get; } = Build();

    private static TrainingSpec Build()
    {
        var toolbox = new TrainingSpec();
        return toolbox with
        {
            Layers = [.. toolbox.Layers.Select(l => l with { Lambda = Lambda, P = 1, Epochs = AutoEpochCap })],
            Solver = InferenceSolver.CoordinateDescent,
            FilterSolver = FilterSolver.ProjectedGradient,
            FilterUpdate = toolbox.FilterUpdate with { Steps = FilterSteps },
            Tolerance = AutoTolerance,
        };
    }
}
