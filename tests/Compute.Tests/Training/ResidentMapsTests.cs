using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public class ResidentMapsTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.02)]
    [InlineData(0.3)]
    [InlineData(0.7)]
    public void Keep_AnyDensity_RoundTripsEveryValueExactly(double density)
    {
        var g = new LayerGeometry(1, 16, 8, 40, 37, Boundary.Valid);
        Tensor3 z = Synthetic.SparseMaps(g, density, seed: 5);

        ResidentMaps kept = ResidentMaps.Keep(z);
        Tensor3 back = new(z.Planes, z.Rows, z.Cols);
        back.Data.AsSpan().Fill(float.NaN);   // every coefficient must be written
        kept.CopyTo(back);

        Assert.Equal(z.Data, back.Data);
        Assert.Equal(z.Data, kept.ToDense().Data);
    }

    [Fact]
    public void Keep_TwoPercentNonzero_IsCompactAndAtMostAnEighthOfDense()
    {
        var g = new LayerGeometry(1, 64, 8, 128, 128, Boundary.Valid);
        Tensor3 z = Synthetic.SparseMaps(g, 0.02, seed: 11);

        ResidentMaps kept = ResidentMaps.Keep(z);

        Assert.True(kept.IsCompact);
        Assert.True(kept.Bytes * 8 <= kept.DenseBytes, $"{kept.Bytes} bytes kept for {kept.DenseBytes} dense.");
    }

    [Fact]
    public void Keep_DenserThanHalf_KeepsDense()
    {
        var g = new LayerGeometry(1, 4, 5, 20, 20, Boundary.Valid);
        Tensor3 z = Synthetic.SparseMaps(g, 0.8, seed: 2);

        ResidentMaps kept = ResidentMaps.Keep(z);

        Assert.False(kept.IsCompact);
        Assert.Equal(kept.DenseBytes, kept.Bytes);
    }

    [Fact]
    public void Keep_AfterwardsSourceChanges_KeptCopyDoesNot()
    {
        var g = new LayerGeometry(1, 4, 5, 20, 20, Boundary.Valid);
        Tensor3 z = Synthetic.SparseMaps(g, 0.05, seed: 3);
        float[] before = (float[])z.Data.Clone();

        ResidentMaps kept = ResidentMaps.Keep(z);
        z.Data.AsSpan().Fill(7);

        Assert.Equal(before, kept.ToDense().Data);
    }
}
