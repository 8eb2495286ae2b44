using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// <see cref="FilterStructure"/> for every layer of a trained network, against the seeded random start the trainer drew
/// (<see cref="Trainer.InitialFilters"/>), with orientation measured in pixels for the deconv model's upper layers
/// (<see cref="PixelProjection"/>: a layer-2 filter is judged by the image it synthesises, not by its map-space taps).
/// </summary>
public static class NetworkStructure
{
    public static IReadOnlyList<FilterStructureSummary> Measure(TrainingSpec spec, IReadOnlyList<LayerResult> layers)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(layers);
        var learned = layers.Select(l => l.Filters).ToArray();
        var start = layers.Select(l => Trainer.InitialFilters(spec, l.Layer, new Connectivity(l.Filters.Maps, l.Filters.Inputs, l.Connectivity))).ToArray();
        bool project = spec.Model == NetworkModel.Deconv;
        var result = new FilterStructureSummary[layers.Count];
        for (int l = 0; l < layers.Count; l++)
        {
            FilterBank pixels = project ? PixelProjection.Project(learned, l) : learned[l];
            FilterBank startPixels = project ? PixelProjection.Project(start, l) : start[l];
            result[l] = FilterStructure.Measure(learned[l], start[l], pixels, startPixels);
        }
        return result;
    }
}
