using System.CommandLine;
using System.Globalization;
using System.Text;
using Distributed.Client.Engines;
using Distributed.Compute;
using Distributed.Client.Output;
using Distributed.Compute.Features;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;
using Distributed.Compute.Inference;

namespace Distributed.Client.Commands;

/// <summary>`infer`: apply a trained model to new images; write reconstructions, per-layer metrics and (optionally) maps.</summary>
internal static class InferCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A folder written by `train` (model.json + filters-L*.npy).", Required = true };
        var images = new Option<string[]>("--images") { Description = "A folder of images or image files. Default: the bundled samples.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Output folder: created, or replaced whole if an earlier run wrote it (outside --images and --model).", DefaultValueFactory = _ => "runs/infer" };
        var saveMaps = new Option<bool>("--save-maps") { Description = "Also write each image's feature maps of every layer as maps-{image}-L{n}.npy (float32 [K, rows, cols]); index.json names each file's image." };
        var reconstructions = new Option<int>("--reconstructions") { Description = "Images written as reconstruction-*.png (0: all).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Images inferred in parallel (0: all cores).", DefaultValueFactory = _ => 0 };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable images, and images smaller than the filters, with a warning instead of failing." };
        var features = new Option<bool>("--features") { Description = "Also write features.npy (float32 [N, D], one row per image, in features.csv's order) and features.csv (row,image): each chosen layer's maps rectified and pooled over p×p blocks, layers concatenated, within a layer [map, block row, block col] (split: the positive parts, then the negative). Needs images of one size." };
        var rectify = new Option<string>("--rectify") { Description = "Features: abs (|z|) or split (max(z,0) and max(−z,0), twice the length).", DefaultValueFactory = _ => "abs" };
        var pool = new Option<string>("--pool") { Description = "Features: avg or max over each p×p block.", DefaultValueFactory = _ => "avg" };
        var poolSize = new Option<int>("--pool-size") { Description = "Features: p, the block side in map pixels (the last block of a row or column takes what is left).", DefaultValueFactory = _ => 8 };
        var featureLayers = new Option<string>("--feature-layers") { Description = "Features: layers to read, e.g. 1,2 (default: all).", DefaultValueFactory = _ => "all" };

        var command = new Command("infer", "Infer feature maps for new images with a trained model; write reconstructions, metrics and optionally the maps.");
        foreach (Option o in new Option[] { model, images, output, saveMaps, reconstructions, threads, skipBad, features, rectify, pool, poolSize, featureLayers }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            TextWriter error = r.InvocationConfiguration.Error;
            try
            {
                string modelFolder = r.GetValue(model)!;
                var (manifest, layers) = ModelFolder.Load(modelFolder);
                ReadoutSpec? readout = r.GetValue(features) ? ReadoutOf(r, rectify, pool, poolSize, featureLayers, layers.Count) : null;
                string[] given = TrainCommand.ImageArguments(r.GetValue(images));
                var input = new ImageInput(TrainCommand.ResolveImages(given, error), ImageLoadOptions.Default with { SkipBad = r.GetValue(skipBad) }, 0);
                using StagedOutput staged = StagedOutput.Begin(r.GetValue(output), "--out", [.. given, modelFolder], ct);
                var (loaded, warnings) = SerialEngine.LoadPreprocessed(manifest.Spec, input);
                foreach (string warning in warnings) error.WriteLine($"warning: {warning}");
                var workers = new LocalImageWorkers(manifest.Spec, loaded, 1, r.GetValue(threads));
                int shown = r.GetValue(reconstructions) is > 0 and var n ? Math.Min(n, loaded.Count) : loaded.Count;
                bool maps = r.GetValue(saveMaps) || readout is not null;
                ModelInferenceResult result = await ModelInference.RunAsync(workers, layers, Enumerable.Range(0, maps ? loaded.Count : shown).ToArray(), maps, ct);
                for (int l = 0; l < result.Layers.Count; l++)
                    if (RunWarnings.ZeroMaps(l, result.Layers[l], manifest.Spec.Layers[l].Lambda) is { } zero) error.WriteLine($"warning: {zero}");
                OutputFolder folder = staged.Folder;
                var names = new OutputNames(loaded.Select(i => i.Name));
                RunFolder.WriteReconstructions(folder, names, result.Reports.Where(report => report.Image < shown));
                if (readout is not null) WriteFeatures(folder, readout, result.Reports, r.InvocationConfiguration.Output);
                foreach (ImageReport report in result.Reports)
                    if (report.Maps is not null && r.GetValue(saveMaps))
                        for (int l = 0; l < report.Maps.Count; l++)
                            folder.WriteBytes($"maps-{names.StemOf(report.Image)}-L{l + 1}.npy", NpyFile.ToBytes(report.Maps[l]));
                var csv = new StringBuilder("layer,objective,data_term,sparsity_term,nonzero_fraction,psnr_db,images\n");
                for (int l = 0; l < result.Layers.Count; l++)
                {
                    InferenceTotals t = result.Layers[l];
                    csv.Append(string.Create(CultureInfo.InvariantCulture, $"{l + 1},{t.Objective:R},{t.DataTerm:R},{t.SparsityTerm:R},{t.NonzeroFraction:R},{t.MeanPsnr:R},{t.Images}\n"));
                    r.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"layer {l + 1}: E = {t.Objective:G6}, nonzero {t.NonzeroFraction:P2}, PSNR {t.MeanPsnr:F2} dB over {t.Images} images"));
                }
                folder.WriteText("inference.csv", csv.ToString());
                staged.Commit("infer", names.Entries);
                r.InvocationConfiguration.Output.WriteLine($"wrote {staged.Path}");
                return 0;
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                error.WriteLine($"infer: {UserErrors.Describe(e)}");
                return 2;
            }
        });
        return command;
    }

    private static ReadoutSpec ReadoutOf(ParseResult r, Option<string> rectify, Option<string> pool, Option<int> poolSize, Option<string> layers, int modelLayers)
    {
        string chosen = r.GetValue(layers)!.Trim().ToLowerInvariant();
        int[]? numbers = chosen == "all" ? null : chosen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w =>
            int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out int l) ? l : throw new SpecException($"--feature-layers: '{w}' is not a layer number.", "feature-layers")).ToArray();
        var spec = new ReadoutSpec(ReadoutSpec.ParseRectification(r.GetValue(rectify)!), ReadoutSpec.ParsePooling(r.GetValue(pool)!), r.GetValue(poolSize), numbers);
        spec.Validate(modelLayers);
        return spec;
    }

    /// <summary>features.npy [N, D] and features.csv (row → image): every image's maps read out by <paramref name="readout"/>.</summary>
    private static void WriteFeatures(OutputFolder folder, ReadoutSpec readout, IReadOnlyList<ImageReport> reports, TextWriter output)
    {
        ImageReport[] ordered = reports.OrderBy(x => x.Image).ToArray();
        if (ordered.Length == 0) throw new SpecException("--features: no images were inferred.", "features");
        var shapes = ordered[0].Maps!.Select(m => (m.Planes, m.Rows, m.Cols)).ToArray();
        int length = FeatureReadout.Length(readout, shapes);
        var matrix = new float[ordered.Length * length];
        var csv = new StringBuilder("row,image\n");
        for (int i = 0; i < ordered.Length; i++)
        {
            IReadOnlyList<Tensor3> maps = ordered[i].Maps!;
            if (!maps.Select(m => (m.Planes, m.Rows, m.Cols)).SequenceEqual(shapes))
                throw new SpecException($"--features: {ordered[i].Name} gives maps of {maps[0].Rows}×{maps[0].Cols}, {ordered[0].Name} of {shapes[0].Rows}×{shapes[0].Cols}; one feature matrix needs images of one size.", "features");
            FeatureReadout.Read(readout, maps, matrix.AsSpan(i * length, length));
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{i},{Csv(ordered[i].Name)}\n"));
        }
        folder.WriteBytes("features.npy", NpyFile.ToBytes([ordered.Length, length], matrix));
        folder.WriteText("features.csv", csv.ToString());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"features: {ordered.Length} images × {length} values ({readout.Rectification.ToString().ToLowerInvariant()}, {readout.Pooling.ToString().ToLowerInvariant()} over {readout.PoolSize}×{readout.PoolSize})"));
    }

    private static string Csv(string name) => name.Contains(',') || name.Contains('"') ? $"\"{name.Replace("\"", "\"\"")}\"" : name;
}
