using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Learning;

public class PixelProjectionTests
{
    [Fact]
    public void Project_LayerTwo_EqualsSynthesisOfAOneHotMapThroughBothLayers()
    {
        var g1 = Connectivity.Full(3, 1);
        var g2 = Connectivity.SinglesAndAllDoubles(3);
        FilterBank f1 = FilterInitializer.Gaussian(g1, 3, seed: 1), f2 = FilterInitializer.Gaussian(g2, 4, seed: 2);
        // Pixels 12×12 ← layer-1 maps 14×14 ← layer-2 maps 17×17 (valid boundary).
        var layer1 = new LayerGeometry(1, 3, 3, 12, 12, Boundary.Valid);
        var layer2 = new LayerGeometry(3, g2.Maps, 4, 14, 14, Boundary.Valid);

        FilterBank projected = PixelProjection.Project([f1, f2], 1);

        Assert.Equal((g2.Maps, 1, 3 + 4 - 1), (projected.Maps, projected.Inputs, projected.Size));
        for (int k = 0; k < g2.Maps; k++)
        {
            Tensor3 z2 = layer2.NewMaps();
            z2[k, 8, 9] = 1;
            Tensor3 z1 = layer2.NewImage(), pixels = layer1.NewImage();
            new LayerOperator(layer2, g2).Synthesize(z2, f2, z1);
            new LayerOperator(layer1, g1).Synthesize(z1, f1, pixels);
            // A unit at map index p lands its footprint at pixel p − (s2 − 1) − (s1 − 1).
            for (int r = 0; r < 12; r++)
                for (int c = 0; c < 12; c++)
                {
                    int t = r - (8 - 5), u = c - (9 - 5);
                    float expected = t >= 0 && t < 6 && u >= 0 && u < 6 ? projected[k, 0, t, u] : 0;
                    Assert.True(Math.Abs(expected - pixels[0, r, c]) < 1e-5, $"map {k} pixel ({r}, {c}): projection {expected}, synthesis {pixels[0, r, c]}");
                }
        }
    }

    [Fact]
    public void Project_LayerOne_IsTheFiltersThemselves()
    {
        FilterBank f1 = FilterInitializer.Gaussian(Connectivity.Full(2, 3), 5, seed: 3);
        Assert.Equal(f1.Data, PixelProjection.Project([f1], 0).Data);
    }
}
