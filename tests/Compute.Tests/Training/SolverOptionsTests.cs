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

public class SolverOptionsTests
{
    public static TheoryData<string, Action> OutOfRange => new()
    {
        { "zeiler.beta0", new ZeilerOptions { Beta0 = 0 }.Validate },
        { "zeiler.betaIncrease", new ZeilerOptions { BetaIncrease = 0.5 }.Validate },
        { "zeiler.betaSteps", new ZeilerOptions { BetaSteps = 51 }.Validate },
        { "zeiler.roundsPerBeta", new ZeilerOptions { RoundsPerBeta = 0 }.Validate },
        { "zeiler.cgSteps", new ZeilerOptions { CgSteps = 0 }.Validate },
        { "fista.maxIterations", new FistaOptions { MaxIterations = 0 }.Validate },
        { "fista.tolerance", new FistaOptions { Tolerance = double.NaN }.Validate },
        { "coordinateDescent.maxSweeps", new CoordinateDescentOptions { MaxSweeps = 100_001 }.Validate },
        { "coordinateDescent.tolerance", new CoordinateDescentOptions { Tolerance = -1 }.Validate },
        { "adaptive.switchRefreshInterval", new AdaptiveOptions { SwitchRefreshInterval = -1 }.Validate },
        { "filterUpdate.steps", new FilterUpdateOptions { Steps = 0 }.Validate },
        { "filterUpdate.zeroMean", new TrainingSpec { FilterUpdate = new FilterUpdateOptions { ZeroMean = true } }.Validate },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Validate_FieldOutOfRange_NamesTheFieldAndItsRange(string field, Action validate)
    {
        SpecException e = Assert.Throws<SpecException>(validate);

        Assert.Equal(field, e.Field);
        Assert.StartsWith(field, e.Message);
    }

    [Fact]
    public void Validate_Defaults_Pass()
    {
        new ZeilerOptions().Validate();
        new FistaOptions().Validate();
        new CoordinateDescentOptions().Validate();
        new AdaptiveOptions().Validate();
        new FilterUpdateOptions().Validate();
        new TrainingSpec().Validate();
    }
}
