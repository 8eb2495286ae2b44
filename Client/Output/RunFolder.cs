using System.Globalization;
using System.Text;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;

namespace Distributed.Client.Output;

/// <summary>
/// Writes a run's output folder: filters-L{n}.npy and .png, reconstruction-*.png, metrics.csv, objective.png and,
/// last, model.json. Every file is written to a temporary name and renamed, and model.json (the file that says the
/// run is complete) only after every other file exists, so a folder never claims a result it does not hold.
/// </summary>
internal static class RunFolder
{
    public static async Task WriteAsync(string folder, EngineRun run, string engine, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        string manifestPath = Path.Combine(folder, "model.json");
        if (File.Exists(manifestPath)) File.Delete(manifestPath);   // the folder is incomplete until the end
        TrainingResult result = run.Result;
        foreach (LayerResult layer in result.Layers)
        {
            await WriteAtomicAsync(Path.Combine(folder, ModelManifest.FiltersFile(layer.Layer)), NpyFile.ToBytes(layer.Filters), cancellationToken);
            await WriteAtomicAsync(Path.Combine(folder, $"filters-L{layer.Layer + 1}.png"), FilterMontage.Png(layer.Filters), cancellationToken);
        }
        foreach (ImageReport report in run.Reports)
            await WriteAtomicAsync(Path.Combine(folder, $"reconstruction-{SafeName(report.Name)}.png"), ReconstructionImage.Png(report), cancellationToken);
        await WriteAtomicAsync(Path.Combine(folder, "metrics.csv"), Encoding.UTF8.GetBytes(MetricsCsv(result.Metrics)), cancellationToken);
        await WriteAtomicAsync(Path.Combine(folder, "objective.png"), ObjectivePlot.Png(result.Metrics), cancellationToken);
        var manifest = ModelManifest.From(new EngineRunInfo(result, run.ImageNames, engine, DateTimeOffset.UtcNow));
        await WriteAtomicAsync(manifestPath, Encoding.UTF8.GetBytes(manifest.ToJson()), cancellationToken);
    }

    /// <summary>metrics.csv: one row per layer and epoch, invariant culture.</summary>
    public static string MetricsCsv(IEnumerable<EpochMetrics> rows)
    {
        var csv = new StringBuilder("layer,epoch,objective,data_term,sparsity_term,nonzero_fraction,psnr_db,seconds,images\n");
        foreach (EpochMetrics m in rows)
            csv.Append(string.Create(CultureInfo.InvariantCulture,
                $"{m.Layer},{m.Epoch},{m.Objective:R},{m.DataTerm:R},{m.SparsityTerm:R},{m.NonzeroFraction:R},{m.PsnrDb:R},{m.Seconds:R},{m.Images}\n"));
        return csv.ToString();
    }

    /// <summary>Writes to a temporary file in the same folder, then renames over the target.</summary>
    public static async Task WriteAtomicAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temp, bytes, cancellationToken);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static string SafeName(string name)
    {
        string stem = Path.GetFileNameWithoutExtension(name);
        var safe = new StringBuilder();
        foreach (char c in stem) safe.Append(char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        return safe.Length == 0 ? "image" : safe.ToString();
    }
}
