using Distributed.Compute.Features;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Features;

public class FeatureReadoutTests
{
    // One map 3×3 (blocks of 2: a 2×2, a 2×1, a 1×2 and a 1×1 block), values chosen by hand.
    private static readonly Tensor3 Maps = new(1, 3, 3, [1, -2, 3, -4, 5, -6, 7, -8, 9]);

    [Fact]
    public void Read_AbsAvg_AveragesMagnitudesPerBlockWithRaggedEdges()
    {
        var spec = new ReadoutSpec(Rectification.Abs, Pooling.Avg, 2);
        var v = new float[FeatureReadout.Length(spec, [(1, 3, 3)])];
        FeatureReadout.Read(spec, [Maps], v);
        Assert.Equal([(1 + 2 + 4 + 5) / 4f, (3 + 6) / 2f, (7 + 8) / 2f, 9f], v);
    }

    [Fact]
    public void Read_SplitMax_GivesPositivePartsThenNegativeParts()
    {
        var spec = new ReadoutSpec(Rectification.Split, Pooling.Max, 2);
        var v = new float[8];
        FeatureReadout.Read(spec, [Maps], v);
        Assert.Equal([5f, 3f, 7f, 9f, 4f, 6f, 8f, 0f], v);
    }

    [Fact]
    public void Read_ChosenLayers_ConcatenatesOnlyThoseInLayerOrder()
    {
        var second = new Tensor3(2, 2, 2, [1, 1, 1, 1, -2, -2, -2, -2]);
        var spec = new ReadoutSpec(Rectification.Abs, Pooling.Avg, 2, [2]);
        Assert.Equal(2, FeatureReadout.Length(spec, [(1, 3, 3), (2, 2, 2)]));
        var v = new float[2];
        FeatureReadout.Read(spec, [Maps, second], v);
        Assert.Equal([1f, 2f], v);
    }

    [Fact]
    public void ParsePooling_Unknown_NamesTheFlagAndTheChoices()
    {
        var e = Assert.Throws<SpecException>(() => ReadoutSpec.ParsePooling("median"));
        Assert.Equal("--pool: 'median'; allowed avg, max.", e.Message);
    }
}
