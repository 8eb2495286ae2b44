using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

/// <summary>
/// A shard that lost its maps mid matrix-free update (a fresh activation on another silo) must rebuild them from the
/// update's source inference before it answers an A·d request, never answer without them.
/// </summary>
public class ImageShardRebuildTests
{
    private static readonly TrainingSpec Spec = new()
    {
        Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = 2, Lambda = 1, P = 0.8 }],
        FilterSystem = FilterSystemKind.MatrixFree,
        Seed = 5,
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ApplyGram_FreshShardWithSource_EqualsProductAfterThatInference(bool coldStart)
    {
        InferRequest source = Source(coldStart);
        var direction = new FilterBank(4, 1, 5, Synthetic.Random(1, 1, 100, seed: 41).Data);
        ImageShard warm = Shard();
        warm.Infer(source);

        FilterProduct expected = warm.ApplyGram(new GramRequest(0, 0, source.FilterVersion, direction));
        ImageShard fresh = Shard();
        Assert.False(fresh.HoldsMaps(0));
        FilterProduct rebuilt = fresh.ApplyGram(new GramRequest(0, 0, source.FilterVersion, direction, source with { Statistics = FilterStatistics.None }));

        Assert.True(fresh.HoldsMaps(0));
        Assert.Equal(expected.Product.Data, rebuilt.Product.Data);
    }

    [Fact]
    public void ApplyGram_FreshShardWithoutSource_RefusesToAnswerWithoutMaps()
    {
        var direction = new FilterBank(4, 1, 5, Synthetic.Random(1, 1, 100, seed: 41).Data);

        var e = Assert.Throws<InvalidOperationException>(() => Shard().ApplyGram(new GramRequest(0, 0, new FilterVersion(0, 0), direction)));
        Assert.Contains("no layer-1 maps", e.Message);
    }

    private static InferRequest Source(bool coldStart)
    {
        var filters = new FilterBank(4, 1, 5, Synthetic.Random(1, 1, 100, seed: 17).Data);
        return new InferRequest(0, 0, new FilterVersion(0, 0), filters, 1f, [], null, FilterStatistics.RightHandSide, coldStart);
    }

    private static ImageShard Shard()
    {
        var shard = new ImageShard(0, Spec, 1);
        for (int i = 0; i < 3; i++) shard.Add(i, $"image-{i}", Synthetic.Random(1, 16, 16, seed: 100 + i));
        return shard;
    }
}
