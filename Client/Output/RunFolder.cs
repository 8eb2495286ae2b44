using System.Text;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Learning;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Output;

/// <summary>
/// Writes a run's output folder: filters-L{n}.npy and .png, filters-L{n}-pixels.png (layers above the first projected to
/// pixels, deconv model), reconstruction-*.png, metrics.csv, objective.png and,
/// last, model.json. Every file is written atomically (<see cref="OutputFolder"/>), and model.json (the file that says
/// the run is complete) is removed first and written only after every other file exists, so a folder never claims a
/// result it does not hold.
/// </summary>
internal static class RunFolder
{
    public static void Write(string path, EngineRun run, string engine)
    {
        var folder = new OutputFolder(path);
        string manifestPath = folder.PathOf("model.json");
        if (File.Exists(manifestPath)) File.Delete(manifestPath);
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
        WriteReconstructions(folder, run.Reports);
        MetricsCsv.Write(folder, result.Metrics);
        ObjectivePlot.Write(folder, result.Metrics);
        var manifest = ModelManifest.From(new EngineRunInfo(result, run.ImageNames, engine, DateTimeOffset.UtcNow));
        folder.WriteText("model.json", manifest.ToJson());
    }

    /// <summary>reconstruction-{image}.png: the input beside its reconstruction from every layer.</summary>
    public static void WriteReconstructions(OutputFolder folder, IEnumerable<ImageReport> reports)
    {
        foreach (ImageReport report in reports)
            ReconstructionImage.Write(folder, $"reconstruction-{SafeName(report.Name)}.png", report.Input, report.Reconstructions);
    }

    public static string SafeName(string name)
    {
        string stem = Path.GetFileNameWithoutExtension(name);
        var safe = new StringBuilder();
        foreach (char c in stem) safe.Append(char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        return safe.Length == 0 ? "image" : safe.ToString();
    }
}
