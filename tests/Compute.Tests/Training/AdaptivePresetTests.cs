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

public class AdaptivePresetTests
{
    private static readonly TrainingSpec TwoLayers = new()
    {
        Layers = [new LayerSpec { Maps = 4, Lambda = 2 }, new LayerSpec { Maps = 10, Lambda = 2, Connectivity = ConnectivityKind.SinglesAndAllDoubles }],
    };

    [Fact]
    public void Apply_NothingGiven_UsesThePresetEverywhere()
    {
        AdaptivePreset preset = AdaptivePreset.Default;

        TrainingSpec spec = preset.Apply(TwoLayers, new HashSet<string>());

        Assert.Equal(NetworkModel.Adaptive, spec.Model);
        Assert.Equal(preset.Solver, spec.Solver);
        Assert.All(spec.Layers, l => Assert.Equal((preset.P, preset.Lambda), (l.P, l.Lambda)));
        Assert.Equal(ConnectivityKind.Full, spec.Layers[0].Connectivity);
        Assert.Equal(preset.UpperConnectivity, spec.Layers[1].Connectivity);
        Assert.Equal(preset.Pool, spec.Layers[0].Pool);
        Assert.Null(spec.Layers[1].Pool);
        spec.Validate();
    }

    [Fact]
    public void Apply_FieldsGiven_KeepsTheUsersValues()
    {
        TrainingSpec spec = AdaptivePreset.Default.Apply(TwoLayers with { Solver = InferenceSolver.Zeiler },
            new HashSet<string> { "solver", "layers.lambda", "layers.connectivity" }, [null]);

        Assert.Equal(InferenceSolver.Zeiler, spec.Solver);
        Assert.All(spec.Layers, l => Assert.Equal(2, l.Lambda));
        Assert.Equal(ConnectivityKind.SinglesAndAllDoubles, spec.Layers[1].Connectivity);
        Assert.All(spec.Layers, l => Assert.Null(l.Pool));
        Assert.All(spec.Layers, l => Assert.Equal(AdaptivePreset.Default.P, l.P));
    }
}
