using Distributed.Compute.Operators;

namespace Distributed.Compute.Training;

/// <summary>
/// The smallest image a spec can learn from or infer: the first layer's filter must fit inside it, and the cd solver
/// with the circular boundary needs 2s−1 map pixels per side on every layer for its FᵀF stencil. Checked where images
/// join a shard, and by the console before it sends them anywhere (so --skip-bad can pass over a small image).
/// Preprocessing keeps an image's size, so the decoded size is the one that counts.
/// </summary>
public static class ImageSizeRequirement
{
    /// <summary>Why an image of <paramref name="cols"/>×<paramref name="rows"/> cannot be used, and the spec field at fault; null when it can.</summary>
    public static (string Problem, string Field)? Check(TrainingSpec spec, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int s = spec.Layers[0].FilterSize;
        if (s > rows || s > cols)
            return ($"{LayerSpec.Field}.filterSize = {s} is larger than the image ({cols}×{rows}).", $"{LayerSpec.Field}.filterSize");
        if (spec.Solver == InferenceSolver.CoordinateDescent && spec.Boundary == Boundary.Circular)
        {
            // Circular maps keep the image's size on every layer; the FᵀF stencil needs 2s−1 of them per side.
            int need = spec.Layers.Max(l => 2 * l.FilterSize - 1);
            if (need > rows || need > cols)
                return ($"the cd solver with the circular boundary needs images of at least {need}×{need} (2s−1 for filter size {(need + 1) / 2}); it is {cols}×{rows}.", "solver");
        }
        return null;
    }
}
