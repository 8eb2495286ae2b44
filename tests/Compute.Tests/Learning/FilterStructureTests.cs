using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Learning;

public class FilterStructureTests
{
    [Fact]
    public void OrientationConcentration_StraightEdge_FarAboveRandomFilters()
    {
        var edge = new FilterBank(1, 1, 7);
        for (int u = 0; u < 7; u++)
            for (int v = 0; v < 7; v++) edge[0, 0, u, v] = v < 3 ? -1 : v > 3 ? 1 : 0;
        FilterBank noise = FilterInitializer.Gaussian(Connectivity.Full(32, 1), 7, seed: 4);

        double edgeShare = FilterStructure.OrientationConcentration(edge, 0);
        double noiseMedian = FilterStructure.Median(Enumerable.Range(0, 32).Select(k => FilterStructure.OrientationConcentration(noise, k)).ToArray());

        Assert.True(edgeShare > 0.4 && edgeShare > 2 * noiseMedian, $"a vertical edge puts {edgeShare:F2} of its energy in one orientation bin; random filters {noiseMedian:F2}.");
        Assert.InRange(noiseMedian, 0.125, 0.3);
    }

    [Fact]
    public void Measure_FiltersAgainstThemselvesAndAgainstOthers_CosineOneAndNearZero()
    {
        var g = Connectivity.Full(16, 1);
        FilterBank a = FilterInitializer.Gaussian(g, 7, seed: 5), b = FilterInitializer.Gaussian(g, 7, seed: 6);

        FilterStructureSummary same = FilterStructure.Measure(a, a, a, a);
        FilterStructureSummary other = FilterStructure.Measure(a, b, a, b);

        Assert.All(same.CosineToStart, c => Assert.Equal(1.0, c, 6));
        Assert.InRange(Math.Abs(other.MedianCosineToStart), 0, 0.3);
        Assert.Equal(same.MedianOrientationConcentration, same.StartMedianOrientationConcentration);
    }

    [Fact]
    public void MaxShiftedCorrelation_ShiftedNegatedCopyAndZero_OneAndZero()
    {
        const int s = 5;
        var a = new float[s * s];
        var b = new float[s * s];
        var rng = new Random(3);
        for (int u = 0; u < s - 1; u++)
            for (int v = 0; v < s - 2; v++) a[u * s + v] = (float)(rng.NextDouble() - 0.5);
        // b is −a moved down one row and right two columns (nothing falls off the plane).
        for (int u = 0; u < s - 1; u++)
            for (int v = 0; v < s - 2; v++) b[(u + 1) * s + v + 2] = -a[u * s + v];

        Assert.Equal(1.0, FilterStructure.MaxShiftedCorrelation(a, b, s), 6);
        Assert.InRange(FilterStructure.Cosine(a, b), -0.9, 0.9);
        Assert.Equal(0.0, FilterStructure.MaxShiftedCorrelation(a, new float[s * s], s));
    }
}
