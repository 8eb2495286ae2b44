using Distributed.Compute.Adaptive;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute;

namespace Distributed.Compute.Tests.Adaptive;

public class MaxPool3DTests
{
    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        // maps, rows, cols, pool rows, pool cols, pool maps
        { 4, 6, 6, 3, 3, 2 },    // exact multiples
        { 5, 7, 8, 3, 3, 2 },    // ragged on every axis
        { 9, 13, 11, 2, 4, 3 },
        { 1, 5, 5, 1, 1, 1 },    // identity pooling
        { 3, 2, 2, 3, 3, 4 },    // one partial block holds everything
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Pool_AnyShape_PooledSizeIsTheCeilingOfEachRatio(int maps, int rows, int cols, int pr, int pc, int pk)
    {
        var pool = new MaxPool3D(new PoolSize(pr, pc, pk), maps, rows, cols);
        Assert.Equal((maps + pk - 1) / pk, pool.PooledMaps);
        Assert.Equal((rows + pr - 1) / pr, pool.PooledRows);
        Assert.Equal((cols + pc - 1) / pc, pool.PooledCols);
        Assert.Equal(pool.PooledMaps * pool.PooledRows * pool.PooledCols, pool.PooledLength);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Pool_RandomMaps_PicksTheLargestMagnitudeOfEachBlockBruteForce(int maps, int rows, int cols, int pr, int pc, int pk)
    {
        var pool = new MaxPool3D(new PoolSize(pr, pc, pk), maps, rows, cols);
        Tensor3 z = Synthetic.Random(maps, rows, cols, 21);
        Tensor3 p = pool.NewPooled();
        int[] s = pool.NewSwitches();
        pool.Pool(z, p, s);
        pool.CheckSwitches(s, "s");
        // Brute force: every map position belongs to the block (k/pk, i/pr, j/pc); its max |z| must be at the switch.
        var best = new float[pool.PooledLength];
        for (int k = 0; k < maps; k++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    int c = ((k / pk) * pool.PooledRows + i / pr) * pool.PooledCols + j / pc;
                    best[c] = Math.Max(best[c], Math.Abs(z[k, i, j]));
                }
        for (int c = 0; c < s.Length; c++)
        {
            Assert.Equal(best[c], Math.Abs(z.Data[s[c]]));
            Assert.Equal(z.Data[s[c]], p.Data[c]);   // the signed value, not its magnitude
        }
    }

    [Fact]
    public void Pool_TiesAndZeroBlocks_SwitchToTheFirstPositionInMapRowColOrder()
    {
        var pool = new MaxPool3D(new PoolSize(2, 2, 2), 2, 2, 4);
        var z = new Tensor3(2, 2, 4);
        z[0, 1, 0] = -3;   // block 0: a tie in magnitude with the later (1, 0, 1)
        z[1, 0, 1] = 3;
        int[] s = pool.NewSwitches();
        pool.Pool(z, pool.NewPooled(), s);
        Assert.Equal((0 * 2 + 1) * 4 + 0, s[0]);
        Assert.Equal(pool.FirstOf(1), s[1]);   // block 1 is all zero
        Assert.Equal(2, s[1]);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Unpool_FixedSwitches_IsTheAdjointOfPoolingBySwitches(int maps, int rows, int cols, int pr, int pc, int pk)
    {
        var pool = new MaxPool3D(new PoolSize(pr, pc, pk), maps, rows, cols);
        int[] s = pool.NewSwitches();
        pool.Pool(Synthetic.Random(maps, rows, cols, 31), pool.NewPooled(), s);   // any valid switches
        Tensor3 z = Synthetic.Random(maps, rows, cols, 32);
        Tensor3 p = Synthetic.Random(pool.PooledMaps, pool.PooledRows, pool.PooledCols, 33);
        Tensor3 pz = pool.NewPooled(), up = pool.NewMaps();
        pool.Gather(z, s, pz);
        pool.Unpool(p, s, up);
        double left = Synthetic.Dot(pz.Data, p.Data), right = Synthetic.Dot(z.Data, up.Data);
        Assert.True(Math.Abs(left - right) <= 1e-5 * (Math.Abs(left) + 1), $"⟨P z, p⟩ = {left}, ⟨z, U p⟩ = {right}.");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Unpool_ThenPool_GivesBackThePooledValuesAndSwitches(int maps, int rows, int cols, int pr, int pc, int pk)
    {
        var pool = new MaxPool3D(new PoolSize(pr, pc, pk), maps, rows, cols);
        Tensor3 p = pool.NewPooled();
        int[] s = pool.NewSwitches();
        pool.Pool(Synthetic.Random(maps, rows, cols, 41), p, s);
        Tensor3 z = pool.NewMaps();
        pool.Unpool(p, s, z);
        Assert.Equal(p.Length, z.Data.Count(v => v != 0));
        Tensor3 again = pool.NewPooled();
        int[] s2 = pool.NewSwitches();
        pool.Pool(z, again, s2);
        Assert.Equal(p.Data, again.Data);
        Assert.Equal(s, s2);
    }

    [Fact]
    public void UnpoolMean_IsTheAverageOfUnpoolingOverEverySwitchOfABlock()
    {
        var pool = new MaxPool3D(new PoolSize(2, 3, 2), 3, 3, 4);   // ragged: blocks of 8, 4, 2 … positions
        Tensor3 p = Synthetic.Random(pool.PooledMaps, pool.PooledRows, pool.PooledCols, 51);
        var mean = pool.NewMaps();
        pool.UnpoolMean(p, mean);
        // Average U_s p over every switch setting of each block separately: each position gets p/|block|.
        var expected = pool.NewMaps();
        var one = pool.NewMaps();
        for (int c = 0; c < pool.PooledLength; c++)
        {
            var (k0, k1, i0, i1, j0, j1) = pool.Bounds(c);
            int size = (k1 - k0) * (i1 - i0) * (j1 - j0);
            int[] s = pool.NewSwitches();
            for (int q = 0; q < s.Length; q++) s[q] = pool.FirstOf(q);
            var pc = pool.NewPooled();
            pc.Data[c] = p.Data[c];
            for (int k = k0; k < k1; k++)
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++)
                    {
                        s[c] = (k * pool.Rows + i) * pool.Cols + j;
                        pool.Unpool(pc, s, one);
                        for (int x = 0; x < one.Length; x++) expected.Data[x] += one.Data[x] / size;
                    }
        }
        for (int x = 0; x < mean.Length; x++) Assert.Equal(expected.Data[x], mean.Data[x], 5);
    }

    [Fact]
    public void CheckSwitches_SwitchOutsideItsBlock_Throws()
    {
        var pool = new MaxPool3D(new PoolSize(2, 2, 1), 1, 4, 4);
        int[] s = pool.NewSwitches();
        for (int c = 0; c < s.Length; c++) s[c] = pool.FirstOf(c);
        pool.CheckSwitches(s, "s");
        s[0] = s[1];
        Assert.Throws<ArgumentException>(() => pool.CheckSwitches(s, "s"));
    }

    [Theory]
    [InlineData("3x3x2", 3, 3, 2)]
    [InlineData(" 2X4 ", 2, 4, 1)]
    public void Parse_RowsColsMaps_ReadsEachExtent(string text, int rows, int cols, int maps) =>
        Assert.Equal(new PoolSize(rows, cols, maps), PoolSize.Parse(text));

    [Theory]
    [InlineData("3x3x0")]
    [InlineData("3")]
    [InlineData("axb")]
    [InlineData("3x3x2x1")]
    [InlineData("3x-1")]
    public void Parse_Malformed_ThrowsSpecExceptionNamingPool(string text)
    {
        var e = Assert.Throws<SpecException>(() => PoolSize.Parse(text));
        Assert.Equal("layers.pool", e.Field);
    }

    [Fact]
    public void Parse_None_IsNoPooling() => Assert.Null(PoolSize.Parse("none"));
}
