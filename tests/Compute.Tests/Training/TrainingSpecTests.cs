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

public class TrainingSpecTests
{
    private static readonly TrainingSpec CoordinateDescent = new()
    {
        Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Lambda = 2, P = 1, Epochs = 1 }],
        Solver = InferenceSolver.CoordinateDescent,
        Boundary = Boundary.Circular,
    };

    [Fact]
    public void Validate_CoordinateDescentWithEitherBoundary_IsAccepted()
    {
        CoordinateDescent.Validate();
        (CoordinateDescent with { Boundary = Boundary.Valid }).Validate();
    }

    [Fact]
    public void Validate_CoordinateDescentWithPBelowOne_NamesP()
    {
        var spec = CoordinateDescent with { Layers = [CoordinateDescent.Layers[0] with { P = 0.8 }] };
        var e = Assert.Throws<SpecException>(spec.Validate);
        Assert.Equal("layers.p", e.Field);
        Assert.Contains("cd solver needs p = 1", e.Message);
    }

    [Theory]
    [InlineData(0, 1e-3)]
    [InlineData(100, -1)]
    [InlineData(100, double.PositiveInfinity)]
    public void Validate_CoordinateDescentBudgetOutOfRange_NamesTheFlag(int sweeps, double tolerance)
    {
        var e = Assert.Throws<SpecException>(() => (CoordinateDescent with { CoordinateDescent = new CoordinateDescentOptions { MaxSweeps = sweeps, Tolerance = tolerance } }).Validate());
        Assert.Equal(sweeps < 1 ? "coordinateDescent.maxSweeps" : "coordinateDescent.tolerance", e.Field);
    }

    [Theory]
    [InlineData(17, "coordinateDescent.tile = 17; allowed 18..65536 (at least 2(2s−1) for filter size 5)")]
    [InlineData(65_537, "65536")]
    public void Validate_TileOutsideItsRange_NamesTheBounds(int tile, string expected)
    {
        var e = Assert.Throws<SpecException>(() => (CoordinateDescent with { CoordinateDescent = new() { Tile = tile } }).Validate());
        Assert.Equal("coordinateDescent.tile", e.Field);
        Assert.Contains(expected, e.Message);
        (CoordinateDescent with { CoordinateDescent = new() { Tile = 18 } }).Validate();
    }

    [Fact]
    public void Validate_TileWithAnotherSolver_AsksForCd()
    {
        var e = Assert.Throws<SpecException>(() => (CoordinateDescent with { Solver = InferenceSolver.Fista, CoordinateDescent = new() { Tile = 64 } }).Validate());
        Assert.Equal("coordinateDescent.tile", e.Field);
    }

    [Fact]
    public void ImageShardAdd_ImageBelowTheCircularStencil_NamesTheImageAndTheSize()
    {
        // Circular filters of 5 need maps of at least 9×9 for the FᵀF stencil; an 8-row image is refused when added, not
        // mid-epoch. Valid maps are larger than the image and have no such limit.
        var shard = new ImageShard(0, CoordinateDescent);
        var e = Assert.Throws<SpecException>(() => shard.Add(0, "thin.png", new Tensor3(1, 8, 20)));
        Assert.Contains("thin.png", e.Message);
        Assert.Contains("9×9", e.Message);
        shard.Add(1, "square.png", new Tensor3(1, 9, 9));
        Assert.Equal(1, shard.Count);
        var valid = new ImageShard(0, CoordinateDescent with { Boundary = Boundary.Valid });
        valid.Add(0, "thin.png", new Tensor3(1, 8, 20));
        Assert.Equal(1, valid.Count);
    }
}
