using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Distributed.Compute.Learning;
using Distributed.Compute.Training;
using Distributed.Compute;

namespace Distributed.Client.Output;

/// <summary>
/// model.json: the spec, the software version, each layer's shape, input scale, connectivity and final metrics (the
/// objective of the final pass from z = 0 with the trained filters, and beside it the last epoch's, taken with that
/// epoch's filters before its update), its filter-structure figures (<see cref="FilterStructure"/>), and every epoch's metrics. With the filters-L{n}.npy files beside it, it is everything `infer` needs.
/// </summary>
internal sealed record ModelManifest
{
    public const string CurrentFormat = "distributed.deconvnet/1";

    public string Format { get; init; } = CurrentFormat;
    public string Software { get; init; } = "";
    public DateTimeOffset CreatedUtc { get; init; }
    public string Engine { get; init; } = "";
    public TrainingSpec Spec { get; init; } = new();
    public IReadOnlyList<string> Images { get; init; } = [];
    public IReadOnlyList<LayerEntry> Layers { get; init; } = [];
    public IReadOnlyList<EpochMetrics> Metrics { get; init; } = [];
    public double ElapsedSeconds { get; init; }

    public sealed record LayerEntry(
        int Layer, int Maps, int Inputs, int FilterSize, float InputScale, int[][] Connectivity, string Filters,
        double Objective, double DataTerm, double SparsityTerm, double NonzeroFraction, double PsnrDb,
        int Epochs = 0, double LastEpochObjective = double.NaN, FilterStructureSummary? Structure = null);

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static ModelManifest From(EngineRunInfo run)
    {
        TrainingResult result = run.Result;
        IReadOnlyList<FilterStructureSummary> structure = NetworkStructure.Measure(result.Spec, result.Layers);
        return new ModelManifest
        {
            Software = "Distributed " + (typeof(ModelManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"),
            CreatedUtc = run.CreatedUtc,
            Engine = run.Engine,
            Spec = result.Spec,
            Images = run.ImageNames,
            Layers = result.Layers.Select(l => new LayerEntry(
                l.Layer + 1, l.Filters.Maps, l.Filters.Inputs, l.Filters.Size, l.InputScale,
                Enumerable.Range(0, l.Filters.Maps).Select(k => Enumerable.Range(0, l.Filters.Inputs).Select(c => l.Connectivity[k * l.Filters.Inputs + c] ? 1 : 0).ToArray()).ToArray(),
                FiltersFile(l.Layer), l.Final.Objective, l.Final.DataTerm, l.Final.SparsityTerm, l.Final.NonzeroFraction, l.Final.MeanPsnr,
                result.Metrics.Count(m => m.Layer == l.Layer + 1),
                result.Metrics.LastOrDefault(m => m.Layer == l.Layer + 1)?.Objective ?? double.NaN,
                structure[l.Layer])).ToArray(),
            Metrics = result.Metrics,
            ElapsedSeconds = result.Elapsed.TotalSeconds,
        };
    }

    public static string FiltersFile(int layer) => $"filters-L{layer + 1}.npy";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ModelManifest Parse(string json, string source)
    {
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a valid model.json ({e.Message}).", e);
        }
        if (manifest is null || manifest.Format != CurrentFormat)
            throw new InvalidDataException($"{source}: format '{manifest?.Format}'; this version reads '{CurrentFormat}'.");
        // JSON null overrides the initialisers: every reference field the readers use is checked here, in one line each.
        if (manifest.Layers is null) throw new InvalidDataException($"{source}: \"layers\" is null; expected one entry per layer.");
        if (manifest.Layers.Count == 0) throw new InvalidDataException($"{source}: the model has no layers.");
        if (manifest.Spec is null) throw new InvalidDataException($"{source}: \"spec\" is null; expected the training spec.");
        if (manifest.Images is null || manifest.Metrics is null)
            throw new InvalidDataException($"{source}: \"{(manifest.Images is null ? "images" : "metrics")}\" is null; expected a list.");
        try
        {
            manifest.Spec.Validate();
        }
        catch (SpecException e)
        {
            throw new InvalidDataException($"{source}: spec: {e.Message}", e);
        }
        catch (NullReferenceException e)
        {
            throw new InvalidDataException($"{source}: \"spec\" has a null where a value belongs.", e);
        }
        if (manifest.Spec.Layers.Count != manifest.Layers.Count)
            throw new InvalidDataException($"{source}: the spec has {manifest.Spec.Layers.Count} layers but \"layers\" lists {manifest.Layers.Count}.");
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            LayerEntry? entry = manifest.Layers[i];
            if (entry is null) throw new InvalidDataException($"{source}: layers[{i}] is null.");
            if (string.IsNullOrEmpty(entry.Filters) || entry.Filters != Path.GetFileName(entry.Filters) || entry.Filters is "." or "..")
                throw new InvalidDataException($"{source}: layers[{i}].filters = '{entry.Filters}'; expected a file name in the model folder.");
        }
        return manifest;
    }
}

/// <summary>What the manifest records about a run besides the result itself.</summary>
internal sealed record EngineRunInfo(TrainingResult Result, IReadOnlyList<string> ImageNames, string Engine, DateTimeOffset CreatedUtc);
