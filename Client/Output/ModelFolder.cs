using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Output;

/// <summary>Reads a trained model back from its output folder: model.json and the filters-L{n}.npy it names.</summary>
internal static class ModelFolder
{
    public static (ModelManifest Manifest, IReadOnlyList<FrozenLayer> Layers) Load(string folder)
    {
        string path = Path.Combine(folder, "model.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found; --model must be a folder written by `train` or `fetch`.");
        ModelManifest manifest = ModelManifest.Parse(File.ReadAllText(path), path);
        var layers = new List<FrozenLayer>();
        foreach (ModelManifest.LayerEntry entry in manifest.Layers)
        {
            string file = Path.Combine(folder, entry.Filters);
            FilterBank filters;
            try
            {
                filters = NpyFile.Read(file).ToFilterBank();
            }
            catch (Exception e) when (e is not FileNotFoundException and not OperationCanceledException)
            {
                throw new InvalidDataException($"{file}: {e.Message}", e);
            }
            if (filters.Maps != entry.Maps || filters.Inputs != entry.Inputs || filters.Size != entry.FilterSize)
                throw new InvalidDataException($"{file}: filters are {filters}; model.json says [{entry.Maps}, {entry.Inputs}, {entry.FilterSize}, {entry.FilterSize}].");
            CheckFilters(filters, file, entry.Layer);
            if (!(entry.InputScale > 0) || !float.IsFinite(entry.InputScale))
                throw new InvalidDataException($"{path}: layer {entry.Layer} has input scale {entry.InputScale}; expected a finite number > 0.");
            layers.Add(new FrozenLayer(filters, entry.InputScale));
        }
        return (manifest, layers);
    }

    /// <summary>
    /// Refuses a bank with a NaN or infinite coefficient, or a filter (all planes of one map) that is all zero: a
    /// trained filter has unit norm, so either means a damaged file, and inference with it would give zero maps and a
    /// meaningless PSNR instead of an error.
    /// </summary>
    internal static void CheckFilters(FilterBank filters, string file, int layer)
    {
        ReadOnlySpan<float> data = filters.Data;
        int perMap = filters.Inputs * filters.Size * filters.Size;
        for (int k = 0; k < filters.Maps; k++)
        {
            ReadOnlySpan<float> map = data.Slice(k * perMap, perMap);
            bool zero = true;
            for (int i = 0; i < map.Length; i++)
            {
                if (!float.IsFinite(map[i]))
                    throw new InvalidDataException($"{file}: layer {layer} filter {k + 1} holds {map[i].ToString(System.Globalization.CultureInfo.InvariantCulture)} at coefficient {i}; a model's filters must be finite.");
                zero &= map[i] == 0;
            }
            if (zero) throw new InvalidDataException($"{file}: layer {layer} filter {k + 1} is all zero; a trained filter has unit norm, so the file is damaged.");
        }
    }
}
