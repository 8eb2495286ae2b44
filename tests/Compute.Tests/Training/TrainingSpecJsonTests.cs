using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Inference;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public class TrainingSpecJsonTests
{
    // Specs written before the solver options became records (model.json files, persisted jobs) had flat fields.
    private const string FlatShape = """
        { "Layers": [ { "Maps": 4, "FilterSize": 5, "Lambda": 2, "P": 1, "Epochs": 1 } ], "Solver": "Fista",
          "Beta0": 2, "BetaIncrease": 4, "BetaSteps": 3, "RoundsPerBeta": 2, "ZCgSteps": 5, "FistaIterations": 70,
          "FistaTolerance": 0.001, "CdSweeps": 30, "CdTolerance": 0.01, "SwitchRefreshInterval": 7, "FilterSteps": 9,
          "ZeroMeanFilters": true, "FilterSolver": "ProjectedGradient" }
        """;

    private static readonly JsonSerializerOptions Pascal = new() { Converters = { new JsonStringEnumConverter() } };

    private static readonly JsonSerializerOptions Camel = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    [Fact]
    public void Deserialize_FlatShape_FillsTheOptionRecords()
    {
        TrainingSpec spec = JsonSerializer.Deserialize<TrainingSpec>(FlatShape, Pascal)!;

        AssertFlatValues(spec);
    }

    [Fact]
    public void Deserialize_FlatShapeInCamelCase_FillsTheOptionRecords()
    {
        // model.json's spelling: camelCase names, kebab-case enums.
        string camel = JsonSerializer.Serialize(JsonNode.Parse(FlatShape)!.AsObject().ToDictionary(
            kv => JsonNamingPolicy.CamelCase.ConvertName(kv.Key),
            kv => kv.Key switch
            {
                "Layers" => JsonNode.Parse(kv.Value!.ToJsonString().Replace("\"Maps\"", "\"maps\"").Replace("\"FilterSize\"", "\"filterSize\"")
                    .Replace("\"Lambda\"", "\"lambda\"").Replace("\"P\"", "\"p\"").Replace("\"Epochs\"", "\"epochs\"")),
                "FilterSolver" => JsonValue.Create("projected-gradient"),
                "Solver" => JsonValue.Create("fista"),
                _ => kv.Value!.DeepClone(),
            }));

        TrainingSpec spec = JsonSerializer.Deserialize<TrainingSpec>(camel, Camel)!;

        AssertFlatValues(spec);
    }

    [Fact]
    public void Serialize_NestedOptions_RoundTripsAndWritesNoFlatField()
    {
        var spec = new TrainingSpec
        {
            Zeiler = new ZeilerOptions { Beta0 = 3 },
            Fista = new FistaOptions { MaxIterations = 11, Tolerance = 0 },
            CoordinateDescent = new CoordinateDescentOptions { MaxSweeps = 12 },
            Adaptive = new AdaptiveOptions { SwitchRefreshInterval = 0 },
            FilterUpdate = new FilterUpdateOptions { Steps = 13 },
        };

        string json = JsonSerializer.Serialize(spec, Camel);
        TrainingSpec back = JsonSerializer.Deserialize<TrainingSpec>(json, Camel)!;

        Assert.Equal(spec.Zeiler, back.Zeiler);
        Assert.Equal(spec.Fista, back.Fista);
        Assert.Equal(spec.CoordinateDescent, back.CoordinateDescent);
        Assert.Equal(spec.Adaptive, back.Adaptive);
        Assert.Equal(spec.FilterUpdate, back.FilterUpdate);
        Assert.DoesNotContain("fistaIterations", json);
        Assert.Contains("\"fista\"", json);
    }

    private static void AssertFlatValues(TrainingSpec spec)
    {
        Assert.Equal(new ZeilerOptions { Beta0 = 2, BetaIncrease = 4, BetaSteps = 3, RoundsPerBeta = 2, CgSteps = 5 }, spec.Zeiler);
        Assert.Equal(new FistaOptions { MaxIterations = 70, Tolerance = 0.001 }, spec.Fista);
        Assert.Equal(new CoordinateDescentOptions { MaxSweeps = 30, Tolerance = 0.01 }, spec.CoordinateDescent);
        Assert.Equal(7, spec.Adaptive.SwitchRefreshInterval);
        Assert.Equal(new FilterUpdateOptions { Steps = 9, ZeroMean = true }, spec.FilterUpdate);
        Assert.Equal(InferenceSolver.Fista, spec.Solver);
        Assert.Equal(4, spec.Layers[0].Maps);
        spec.Validate();
    }
}
