using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Learning;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Output;

/// <summary>
/// Writes a run's output folder: filters-L{n}.npy and .png, filters-L{n}-pixels.png (layers above the first projected to
/// pixels, deconv model), reconstruction-*.png, metrics.csv, objective.png, model.json and index.json. The files go to
/// a staging folder that replaces the previous run whole (<see cref="StagedOutput"/>), so the folder at the path is
/// always one complete run.
/// </summary>
internal static class RunFolder
{
    public static void Write(StagedOutput output, EngineRun run, string engine, string command)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(run);
        OutputFolder folder = output.Folder;
        var names = new OutputNames(run.ImageNames);
        TrainingResult result = run.Result;
        foreach (LayerResult layer in result.Layers)
        {
            folder.WriteBytes(ModelManifest.FiltersFile(layer.Layer), NpyFile.ToBytes(layer.Filters));
            FilterMontage.Write(folder, $"filters-L{layer.Layer + 1}.png", layer.Filters, $"layer {layer.Layer + 1}: {layer.Filters.Maps} filters {layer.Filters.Size}×{layer.Filters.Size}");
        }
        if (result.Spec.Model == NetworkModel.Deconv)
            for (int l = 1; l < result.Layers.Count; l++)
            {
                // The adaptive model's projections run through its pooling switches: `visualize` draws those.
                FilterBank pixels = PixelProjection.Project(result.Layers.Select(r => r.Filters).ToArray(), l);
                FilterMontage.Write(folder, $"filters-L{l + 1}-pixels.png", pixels, $"layer {l + 1} in pixels: {pixels.Maps} filters {pixels.Size}×{pixels.Size}");
            }
        WriteReconstructions(folder, names, run.Reports);
        MetricsCsv.Write(folder, result.Metrics);
        ObjectivePlot.Write(folder, result.Metrics);
        var manifest = ModelManifest.From(new EngineRunInfo(result, run.ImageNames, engine, DateTimeOffset.UtcNow));
        folder.WriteText("model.json", manifest.ToJson());
        output.Commit(command, names.Entries);
    }

    /// <summary>reconstruction-{stem}.png: the input beside its reconstruction from every layer.</summary>
    public static void WriteReconstructions(OutputFolder folder, OutputNames names, IEnumerable<ImageReport> reports)
    {
        foreach (ImageReport report in reports)
            ReconstructionImage.Write(folder, $"reconstruction-{names.StemOf(report.Image)}.png", report.Input, report.Reconstructions);
    }
}
