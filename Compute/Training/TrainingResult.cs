using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Training;

/// <summary>A trained layer: its filters, connectivity, input scale, and the totals of the final inference pass.</summary>
public sealed record LayerResult(int Layer, FilterBank Filters, bool[] Connectivity, float InputScale, InferenceTotals Final)
{
    public FrozenLayer Frozen => new(Filters, InputScale);
}

/// <summary>What a finished run hands back: the spec, every layer, and one metrics row per layer and epoch.</summary>
public sealed record TrainingResult(TrainingSpec Spec, IReadOnlyList<LayerResult> Layers, IReadOnlyList<EpochMetrics> Metrics, TimeSpan Elapsed);

/// <summary>
/// Where a run stands after an epoch's update: enough to resume it (with the workers re-inferring lost maps).
/// <see cref="NextEpoch"/> is 0-based; equal to the layer's epochs it means only the final pass is left.
/// <see cref="RunningStatistics"/> is minibatch's running A and b (null in the other schedules, or before a layer's
/// first step), <see cref="Eigenvector"/> the projected solver's power-iteration state (null for CG). With both, a
/// run resumed on workers that still hold their maps continues exactly as the uninterrupted one; images whose maps
/// were lost start their next inference from zero, as in batch mode.
/// </summary>
public sealed record TrainingCheckpoint(
    int Layer,
    int NextEpoch,
    FilterBank Filters,
    FilterVersion FilterVersion,
    float InputScale,
    IReadOnlyList<LayerResult> Completed,
    IReadOnlyList<EpochMetrics> Metrics,
    FilterNormalEquations? RunningStatistics = null,
    FilterBank? Eigenvector = null);

/// <summary>Where a run is, for progress bars and status calls.</summary>
public sealed record TrainingProgress(
    int Layer,
    int Layers,
    int Epoch,
    int Epochs,
    double Fraction,
    EpochMetrics? Last,
    TimeSpan Elapsed,
    TimeSpan? Remaining,
    double ImagesPerSecond);
