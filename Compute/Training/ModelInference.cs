using Distributed.Compute.Inference;
namespace Distributed.Compute.Training;

/// <summary>
/// Applies a trained model to the images the workers hold: for each layer in turn, build its inputs, scale them by the
/// model's stored scale, infer the maps from z = 0 with the frozen filters; then report reconstructions (and maps).
/// </summary>
public static class ModelInference
{
    public static async Task<ModelInferenceResult> RunAsync(IImageWorkers workers, IReadOnlyList<FrozenLayer> model,
        IReadOnlyList<int> reportImages, bool includeMaps, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(model);
        if (model.Count == 0) throw new ArgumentException("the model has no layers.", nameof(model));
        var perLayer = new List<InferenceTotals>();
        for (int layer = 0; layer < model.Count; layer++)
        {
            FrozenLayer[] below = model.Take(layer).ToArray();
            IReadOnlyList<LayerInputSummary> inputs = await workers.PrepareLayerAsync(new PrepareLayerRequest(layer, below), cancellationToken);
            int planes = inputs.Where(s => s.Images > 0).Select(s => s.Planes).Distinct().Single();
            if (planes != model[layer].Filters.Inputs)
                throw new SpecException($"layer {layer + 1} of the model reads {model[layer].Filters.Inputs} planes; these images give {planes} (grey vs RGB?).", "images");
            // Frozen versions: distinct from every training version, the same for every call with this model.
            var request = new InferRequest(layer, -1, FilterVersion.Frozen(layer), model[layer].Filters, model[layer].InputScale, below, null, FilterStatistics.None, ColdStart: true);
            var totals = default(InferenceTotals);
            foreach (ShardPartial partial in await workers.InferAsync(request, cancellationToken)) totals += partial.Totals;
            perLayer.Add(totals);
        }
        IReadOnlyList<ImageReport> reports = await workers.ReportAsync(new ReportRequest(model, reportImages, includeMaps), cancellationToken);
        return new ModelInferenceResult(perLayer, reports);
    }
}

/// <summary>Per-layer totals over the images, and the requested reports.</summary>
public sealed record ModelInferenceResult(IReadOnlyList<InferenceTotals> Layers, IReadOnlyList<ImageReport> Reports);
