using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public sealed class FilterVersionTests
{
    [Fact]
    public void Key_DistinctVersions_AreDistinctKeys()
    {
        var versions = new List<FilterVersion>();
        foreach (int layer in new[] { 0, 1, 2, 7, (1 << 15) - 1 })
        {
            versions.Add(FilterVersion.Frozen(layer));
            foreach (int epoch in new[] { 0, 1, 2, 999, 1_000_000, (1 << 24) - 1 })
                foreach (int step in new[] { 0, 1, 2, 1_000_003, (1 << 24) - 1 })
                    versions.Add(new FilterVersion(layer, epoch, step));
        }
        Assert.Equal(versions.Count, versions.Select(v => v.Key).Distinct().Count());
        Assert.Equal(versions.Count, versions.Distinct().Count());
    }

    [Fact]
    public void Key_OnlineStepsWhereIntArithmeticWrapped_StayDistinctAndOrdered()
    {
        // epoch · 1 000 003 + i in int arithmetic wraps from epoch 2148 on; the packed key does not.
        var before = new FilterVersion(0, 2148, 5);
        var after = new FilterVersion(0, 2148, 6);
        var next = new FilterVersion(0, 2149);
        Assert.True(before.Key >= 0 && before.Key < after.Key && after.Key < next.Key, $"{before.Key}, {after.Key}, {next.Key}");
    }

    [Fact]
    public void Frozen_AnyLayer_KeyNegativeAndUnlikeTraining()
    {
        for (int layer = 0; layer < 4; layer++)
        {
            FilterVersion frozen = FilterVersion.Frozen(layer);
            Assert.True(frozen.IsFrozen);
            Assert.Equal(-1L - layer, frozen.Key);
            Assert.NotEqual(new FilterVersion(layer, 0), frozen);
        }
    }

    [Theory]
    [InlineData(-1, 0, 0)]
    [InlineData(0, -1, 0)]
    [InlineData(0, 0, -1)]
    [InlineData(1 << 15, 0, 0)]
    [InlineData(0, 1 << 24, 0)]
    [InlineData(0, 0, 1 << 24)]
    public void Constructor_PartOutOfRange_Throws(int layer, int epoch, int step) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FilterVersion(layer, epoch, step));

    [Fact]
    public void FromParts_EveryPart_RoundTrips()
    {
        FilterVersion[] versions = [new(3, 14, 15), FilterVersion.Frozen(2), new FilterVersion(1, 2).After(9)];
        foreach (FilterVersion v in versions) Assert.Equal(v, FilterVersion.FromParts(v.Layer, v.Epoch, v.Step, v.IsFrozen));
    }
}
