using Distributed.Compute.Inference;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tests.Fixtures;

namespace Distributed.Compute.Tests.Inference;

public class SpectralBoundTests
{
    [Theory]
    [InlineData(Boundary.Circular, 32)]
    [InlineData(Boundary.Valid, 20)]
    public void NormalOperatorNorm_SinglePlane_BoundsAndMatchesPowerIteration(Boundary boundary, int size)
    {
        var g = Connectivity.Full(5, 1);
        var f = FilterInitializer.Gaussian(g, 6, 31);
        double bound = SpectralBound.NormalOperatorNorm(f)!.Value;
        var ws = new InferenceWorkspace(new LayerOperator(new LayerGeometry(1, 5, 6, size, size, boundary), g));
        // Rayleigh quotients of FᵀF after many power steps approach ‖FᵀF‖ from below.
        var v = Synthetic.Random(5, ws.Geometry.MapRows, ws.Geometry.MapCols, 32);
        var u = ws.Geometry.NewMaps();
        var y = ws.Geometry.NewImage();
        double rayleigh = 0;
        for (int it = 0; it < 300; it++)
        {
            double norm = Synthetic.Norm(v.Data);
            for (int i = 0; i < v.Length; i++) v.Data[i] /= (float)norm;
            ws.Operator.Synthesize(v, f, y);
            ws.Operator.Adjoint(y, f, u);
            rayleigh = Synthetic.Dot(v.Data, u.Data);
            u.Data.CopyTo(v.Data, 0);
        }
        Assert.True(rayleigh <= bound * (1 + 1e-4), $"{boundary}: power iteration reached {rayleigh}, above the spectral bound {bound}.");
        Assert.True(rayleigh >= 0.9 * bound, $"{boundary}: bound {bound} is loose against power iteration {rayleigh}.");
    }

    [Fact]
    public void NormalOperatorNorm_MultiPlane_IsNull() =>
        Assert.Null(SpectralBound.NormalOperatorNorm(FilterInitializer.Gaussian(Connectivity.Full(2, 3), 3, 1)));
}
