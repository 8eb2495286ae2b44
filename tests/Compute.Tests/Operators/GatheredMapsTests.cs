using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;

namespace Distributed.Compute.Tests.Operators;

/// <summary>Maps gathered once (<see cref="LayerOperator.TryGather"/>) and reused, as the matrix-free filter update does.</summary>
public class GatheredMapsTests
{
    [Theory]
    [InlineData(Boundary.Valid)]
    [InlineData(Boundary.Circular)]
    public void GatheredOverloads_SparseMaps_SameBitsAsTheTensorOverloads(Boundary boundary)
    {
        var geometry = new LayerGeometry(3, 6, 5, 17, 14, boundary);
        Connectivity g = Connectivity.RandomDoubles(6, 3, 4);
        var op = new LayerOperator(geometry, g);
        var f = FilterInitializer.Gaussian(g, 5, 8);
        var z = Synthetic.SparseMaps(geometry, 0.04, 9);
        var r = Synthetic.Random(3, 17, 14, 10);

        SparseMaps gathered = op.TryGather(z) ?? throw new Xunit.Sdk.XunitException("4 % nonzero maps were not gathered.");
        Assert.Equal(z.Data.Count(v => v != 0), gathered.Count);
        var fromTensor = geometry.NewImage();
        var fromGathered = geometry.NewImage();
        op.Synthesize(z, f, fromTensor);
        op.Synthesize(gathered, f, fromGathered);
        Assert.Equal(fromTensor.Data, fromGathered.Data);

        var gradientFromTensor = new FilterBank(6, 3, 5);
        var gradientFromGathered = new FilterBank(6, 3, 5);
        op.FilterGradient(z, r, gradientFromTensor);
        op.FilterGradient(gathered, r, gradientFromGathered);
        Assert.Equal(gradientFromTensor.Data, gradientFromGathered.Data);
    }

    [Fact]
    public void TryGather_DenseMaps_ReturnsNull_AndForeignShapesAreRejected()
    {
        var geometry = new LayerGeometry(1, 4, 3, 12, 12, Boundary.Circular);
        var op = new LayerOperator(geometry, Connectivity.Full(4, 1));
        Assert.Null(op.TryGather(Synthetic.SparseMaps(geometry, 0.6, 1)));

        var other = new LayerGeometry(1, 4, 3, 10, 12, Boundary.Circular);
        SparseMaps foreign = new LayerOperator(other, Connectivity.Full(4, 1)).TryGather(Synthetic.SparseMaps(other, 0.05, 2))!;
        var e = Assert.Throws<ArgumentException>(() => op.Synthesize(foreign, FilterInitializer.Gaussian(Connectivity.Full(4, 1), 3, 3), geometry.NewImage()));
        Assert.Contains("gathered maps are [4, 10, 12]", e.Message);
    }
}
