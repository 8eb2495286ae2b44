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
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable images, and images smaller than the filters, with a warning instead of failing." };
        var features = new Option<bool>("--features") { Description = "Also write features.npy (float32 [N, D], one row per image, in features.csv's order) and features.csv (row,image): each chosen layer's maps rectified and pooled over p×p blocks, layers concatenated, within a layer [map, block row, block col] (split: the positive parts, then the negative). Needs images of one size. Rows are computed where the images are (on their shards): only the rows travel." };
        var rectify = new Option<string>("--rectify") { Description = "Features: abs (|z|) or split (max(z,0) and max(−z,0), twice the length).", DefaultValueFactory = _ => "abs" };
        var pool = new Option<string>("--pool") { Description = "Features: avg or max over each p×p block.", DefaultValueFactory = _ => "avg" };
        var poolSize = new Option<int>("--pool-size") { Description = "Features: p, the block side in map pixels (the last block of a row or column takes what is left).", DefaultValueFactory = _ => 8 };
        var featureLayers = new Option<string>("--feature-layers") { Description = "Features: layers to read, e.g. 1,2 (default: all).", DefaultValueFactory = _ => "all" };
        var engine = new Option<string>("--engine") { Description = "serial (this process) or distributed (Orleans: the images spread over shards on the --cluster, one per silo unless --shards, or on an in-process silo). Either way images are inferred a few per shard at a time and written as they come back.", DefaultValueFactory = _ => "serial" };
        var engineOptions = new EngineOptions();

        var command = new Command("infer", "Infer feature maps for new images with a trained model; write reconstructions, metrics and optionally the maps and a feature matrix.");
        foreach (Option o in new Option[] { model, images, output, saveMaps, reconstructions, skipBad, features, rectify, pool, poolSize, featureLayers, engine }) command.Options.Add(o);
        engineOptions.AddTo(command);
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
                await using ITrainingEngine inferenceEngine = await engineOptions.CreateAsync(r, r.GetValue(engine)!, ct);
                EngineImages placed = await inferenceEngine.OpenImagesAsync(manifest.Spec, input, ct);
                try
                {
                    foreach (string warning in placed.Warnings) error.WriteLine($"warning: {warning}");
                    int shown = r.GetValue(reconstructions) is > 0 and var n ? Math.Min(n, placed.Names.Count) : placed.Names.Count;
                    bool writeMaps = r.GetValue(saveMaps);
                    OutputFolder folder = staged.Folder;
                    var names = new OutputNames(placed.Names);
                    var matrix = readout is null ? null : new FeatureMatrix(placed.Names.Count);
                    // Each image's files are written as its round comes back; only the feature matrix grows with the images.
                    IReadOnlyList<InferenceTotals> totals = await ModelExtraction.RunAsync(placed.Workers, layers, readout, writeMaps, [.. Enumerable.Range(0, shown)], image =>
                    {
                        if (image.Report is { } report) RunFolder.WriteReconstructions(folder, names, [report]);
                        if (image.Maps is { } maps)
                            for (int l = 0; l < maps.Count; l++)
                                folder.WriteBytes($"maps-{names.StemOf(image.Image)}-L{l + 1}.npy", NpyFile.ToBytes(maps[l]));
                        matrix?.Add(image);
                        return ValueTask.CompletedTask;
                    }, cancellationToken: ct);
                    for (int l = 0; l < totals.Count; l++)
                        if (RunWarnings.ZeroMaps(l, totals[l], manifest.Spec.Layers[l].Lambda) is { } zero) error.WriteLine($"warning: {zero}");
                    if (matrix is not null) WriteFeatures(folder, readout!, matrix, names, r.InvocationConfiguration.Output);
                    var csv = new StringBuilder("layer,objective,data_term,sparsity_term,nonzero_fraction,psnr_db,images\n");
                    for (int l = 0; l < totals.Count; l++)
                    {
                        InferenceTotals t = totals[l];
                        csv.Append(string.Create(CultureInfo.InvariantCulture, $"{l + 1},{t.Objective:R},{t.DataTerm:R},{t.SparsityTerm:R},{t.NonzeroFraction:R},{t.MeanPsnr:R},{t.Images}\n"));
                        r.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"layer {l + 1}: E = {t.Objective:G6}, nonzero {t.NonzeroFraction:P2}, PSNR {t.MeanPsnr:F2} dB over {t.Images} images"));
                    }
                    folder.WriteText("inference.csv", csv.ToString());
                    staged.Commit("infer", names.Entries);
                    r.InvocationConfiguration.Output.WriteLine($"wrote {staged.Path} ({inferenceEngine.Name})");
                }
                finally
                {
                    // A cluster's shards delete the uploaded images, whether the run finished or not.
                    if (placed.Release is { } release)
                    {
                        try
                        {
                            await release();
                        }
                        catch (Exception e) when (UserErrors.IsClusterFault(e))
                        {
                            error.WriteLine($"warning: the cluster did not confirm deleting this run's uploaded images ({UserErrors.Describe(e)}).");
                        }
                    }
                }
                return 0;
            }
            catch (Exception e) when (UserErrors.IsUserError(e))
            {
                error.WriteLine($"infer: {UserErrors.Describe(e)}");
                return 2;
            }
            catch (Exception e) when (UserErrors.IsClusterFault(e))
            {
                error.WriteLine($"infer: the cluster did not answer ({UserErrors.Describe(e)}); a silo may have just failed. Nothing was written; run infer again once the cluster has noticed (a few seconds).");
                return 3;
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

    /// <summary>features.npy [N, D] and features.csv (row → image, in image order).</summary>
    private static void WriteFeatures(OutputFolder folder, ReadoutSpec readout, FeatureMatrix matrix, OutputNames names, TextWriter output)
    {
        float[] values = matrix.Complete();
        var csv = new StringBuilder("row,image\n");
        foreach (var entry in names.Entries) csv.Append(string.Create(CultureInfo.InvariantCulture, $"{entry.Index},{Csv(entry.Name)}\n"));
        folder.Write("features.npy", stream => NpyFile.Write(stream, [matrix.Rows, matrix.Length], values));
        folder.WriteText("features.csv", csv.ToString());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"features: {matrix.Rows} images × {matrix.Length} values ({readout.Rectification.ToString().ToLowerInvariant()}, {readout.Pooling.ToString().ToLowerInvariant()} over {readout.PoolSize}×{readout.PoolSize})"));
    }

    /// <summary>
    /// The [N, D] feature matrix, assembled row by row as images come back in any order; D is set by the first row, and
    /// a row of another length (an image of another size) is refused naming both images.
    /// </summary>
    private sealed class FeatureMatrix(int rows)
    {
        private readonly bool[] _filled = new bool[rows];
        private float[]? _values;
        private ImageExtraction? _first;

        public int Rows { get; } = rows;

        public int Length { get; private set; }

        public void Add(ImageExtraction image)
        {
            float[] row = image.Features ?? throw new InvalidOperationException($"{image.Name} came back without its feature row.");
            if (_first is null)
            {
                if ((long)Rows * row.Length > Array.MaxLength)
                    throw new SpecException($"--features: {Rows} images × {row.Length} values is more than one array holds; raise --pool-size or choose fewer --feature-layers.", "features");
                _first = image;
                Length = row.Length;
                _values = new float[Rows * row.Length];
            }
            else if (!image.MapShapes.SequenceEqual(_first.MapShapes))
            {
                throw new SpecException($"--features: {image.Name} gives maps of {image.MapShapes[0].Rows}×{image.MapShapes[0].Cols}, {_first.Name} of {_first.MapShapes[0].Rows}×{_first.MapShapes[0].Cols}; one feature matrix needs images of one size.", "features");
            }
            if (_filled[image.Image]) throw new InvalidOperationException($"{image.Name}: a second feature row.");
            row.CopyTo(_values.AsSpan(image.Image * Length, Length));
            _filled[image.Image] = true;
        }

        public float[] Complete()
        {
            if (_values is null) throw new SpecException("--features: no images were inferred.", "features");
            int missing = Array.IndexOf(_filled, false);
            return missing < 0 ? _values : throw new InvalidOperationException($"image {missing} has no feature row.");
        }
    }

    private static string Csv(string name) => name.Contains(',') || name.Contains('"') ? $"\"{name.Replace("\"", "\"\"")}\"" : name;
}
