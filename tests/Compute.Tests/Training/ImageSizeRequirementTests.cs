using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public class ImageSizeRequirementTests
{
    private static readonly TrainingSpec Spec = new() { Layers = [new LayerSpec { Maps = 2, FilterSize = 5 }, new LayerSpec { Maps = 3, FilterSize = 7 }] };

    [Theory]
    [InlineData(5, 5)]
    [InlineData(5, 40)]
    public void Check_FilterFits_NoProblem(int rows, int cols) => Assert.Null(ImageSizeRequirement.Check(Spec, rows, cols));

    [Theory]
    [InlineData(4, 40)]
    [InlineData(40, 4)]
    public void Check_SmallerThanTheFirstFilter_NamesSizesAndField(int rows, int cols)
    {
        var problem = ImageSizeRequirement.Check(Spec, rows, cols);

        Assert.Equal(($"layers.filterSize = 5 is larger than the image ({cols}×{rows}).", "layers.filterSize"), problem);
    }

    [Fact]
    public void Check_CircularCdNeedsTwiceTheLargestFilter()
    {
        TrainingSpec cd = Spec with { Solver = InferenceSolver.CoordinateDescent, Boundary = Boundary.Circular };

        Assert.Null(ImageSizeRequirement.Check(cd, 13, 13));
        Assert.Equal("solver", ImageSizeRequirement.Check(cd, 12, 13)?.Field);
    }

    [Fact]
    public void ImageShardAdd_TooSmall_SameRuleAsCheck()
    {
        var shard = new ImageShard(0, Spec, 1);

        var e = Assert.Throws<SpecException>(() => shard.Add(0, "tiny.pgm", new Tensor3(1, 4, 6)));

        Assert.Equal("tiny.pgm: layers.filterSize = 5 is larger than the image (6×4).", e.Message);
        Assert.Equal("layers.filterSize", e.Field);
    }
}
