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
            if (!(entry.InputScale > 0) || !float.IsFinite(entry.InputScale))
                throw new InvalidDataException($"{path}: layer {entry.Layer} has input scale {entry.InputScale}; expected a finite number > 0.");
            layers.Add(new FrozenLayer(filters, entry.InputScale));
        }
        return (manifest, layers);
    }
}
