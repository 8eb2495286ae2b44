using System.Text.Json;
using System.Text.Json.Serialization;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Adaptive;

public class AdaptiveSpecTests
{
    private static readonly TrainingSpec Adaptive = new()
    {
        Model = NetworkModel.Adaptive,
        Solver = InferenceSolver.Fista,
        Layers =
        [
            new LayerSpec { Maps = 9, P = 1, Pool = new PoolSize(3, 3, 2) },
            new LayerSpec { Maps = 15, P = 1, Connectivity = ConnectivityKind.SinglesAndAllDoubles },   // 5 pooled planes: 5 + 10
        ],
    };

    [Fact]
    public void Validate_ConsistentAdaptiveSpec_Passes()
    {
        Adaptive.Validate();
        Assert.Equal(5, Adaptive.InputPlanes(1, 1));
        Assert.Equal(3, Adaptive.InputPlanes(0, 3));
    }

    public static TheoryData<string, string> Broken => new()
    {
        { "pool-on-deconv", "layers.pool" },
        { "pool-on-top", "layers.pool" },
        { "pool-zero", "layers.pool" },
        { "zeiler", "solver" },
        { "online", "update" },
        { "sad-mismatch", "layers.maps" },
        { "refresh", "adaptive.switchRefreshInterval" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Validate_BrokenAdaptiveSpec_ThrowsNamingTheField(string defect, string field)
    {
        TrainingSpec spec = defect switch
        {
            "pool-on-deconv" => Adaptive with { Model = NetworkModel.Deconv },
            "pool-on-top" => Adaptive with { Layers = [Adaptive.Layers[0], Adaptive.Layers[1] with { Pool = new PoolSize(2, 2, 1) }] },
            "pool-zero" => Adaptive with { Layers = [Adaptive.Layers[0] with { Pool = new PoolSize(3, 0, 2) }, Adaptive.Layers[1]] },
            "zeiler" => Adaptive with { Solver = InferenceSolver.Zeiler, Layers = Adaptive.Layers.Select(l => l with { P = 0.8 }).ToArray() },
            "online" => Adaptive with { Update = FilterUpdateSchedule.Online },
            "sad-mismatch" => Adaptive with { Layers = [Adaptive.Layers[0], Adaptive.Layers[1] with { Maps = 45 }] },
            "refresh" => Adaptive with { Adaptive = new AdaptiveOptions { SwitchRefreshInterval = -1 } },
            _ => throw new ArgumentOutOfRangeException(nameof(defect)),
        };
        SpecException e = Assert.Throws<SpecException>(spec.Validate);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Serialize_AdaptiveSpec_RoundTripsModelAndPools()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        };
        string json = JsonSerializer.Serialize(Adaptive, options);
        Assert.Contains("\"model\": \"adaptive\"", json.Replace("\":\"", "\": \""));
        TrainingSpec back = JsonSerializer.Deserialize<TrainingSpec>(json, options)!;
        Assert.Equal(NetworkModel.Adaptive, back.Model);
        Assert.Equal(new PoolSize(3, 3, 2), back.Layers[0].Pool);
        Assert.Null(back.Layers[1].Pool);
        // A spec written before pooling existed reads as the 2010 model.
        TrainingSpec old = JsonSerializer.Deserialize<TrainingSpec>("{\"layers\":[{\"maps\":4}]}", options)!;
        Assert.Equal(NetworkModel.Deconv, old.Model);
        Assert.Null(old.Layers[0].Pool);
    }
}
