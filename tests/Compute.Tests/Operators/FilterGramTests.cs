using Distributed.Compute.Convolution;
using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Operators;

public class FilterGramTests
{
    [Theory]
    [InlineData(5, 1, 3, 11, 13)]   // K not a multiple of 8: padded runs
    [InlineData(9, 3, 4, 9, 10)]    // several planes, sparse connectivity, maps of exactly 2s−1 rows
    [InlineData(8, 1, 8, 16, 15)]
    public void FilterGram_EveryShift_EqualsInnerProductOfSynthesizedAtoms(int maps, int inputs, int s, int rows, int cols)
    {
        // G[k, δ, k'] must be ⟨F e_{k,p}, F e_{k',p+δ}⟩, measured by synthesizing single-coefficient maps with the operator,
        // at a p near the corner so that the atoms wrap around the torus.
        Connectivity g = inputs == 1 ? Connectivity.Full(maps, 1) : Connectivity.RandomDoubles(maps, inputs, 7);
        var f = FilterInitializer.Gaussian(g, s, 11);
        var geometry = new LayerGeometry(inputs, maps, s, rows, cols, Boundary.Circular);
        var op = new LayerOperator(geometry, g);
        var gram = new FilterGram(f, g);
        Assert.Equal(FilterGram.PadMaps(maps), gram.PaddedMaps);
        (int pr, int pc) = (rows - 2, 1);
        var atoms = new Tensor3[maps, rows, cols];
        Tensor3 Atom(int k, int i, int j)
        {
            if (atoms[k, i, j] is { } done) return done;
            var z = geometry.NewMaps();
            z[k, i, j] = 1;
            var image = geometry.NewImage();
            op.Synthesize(z, f, image);
            return atoms[k, i, j] = image;
        }
        int m = s - 1;
        double worst = 0;
        for (int k = 0; k < maps; k++)
            for (int k2 = 0; k2 < maps; k2++)
                for (int dr = -m; dr <= m; dr++)
                    for (int dc = -m; dc <= m; dc++)
                    {
                        double expected = Synthetic.Dot(Atom(k, pr, pc).Data, Atom(k2, Mod(pr + dr, rows), Mod(pc + dc, cols)).Data);
                        double actual = gram.Row(k, dr, dc)[k2];
                        worst = Math.Max(worst, Math.Abs(actual - expected));
                    }
        Assert.True(worst < 1e-4, $"largest difference {worst:E2}.");
        for (int k = 0; k < maps; k++)
        {
            Assert.Equal(Synthetic.Dot(Atom(k, pr, pc).Data, Atom(k, pr, pc).Data), gram.Norms[k], 4);
            for (int pad = maps; pad < gram.PaddedMaps; pad++) Assert.Equal(0f, gram.Row(k, 0, 0)[pad]);
        }
    }

    [Fact]
    public void FilterGram_ShiftOutsideTheStencil_IsRejected()
    {
        var g = Connectivity.Full(2, 1);
        var gram = new FilterGram(FilterInitializer.Gaussian(g, 3, 1), g);
        Assert.Throws<ArgumentOutOfRangeException>(() => gram.Row(0, 3, 0).ToArray());
    }

    public static TheoryData<int, int> WidthsByLength() => TestData.WidthsByLength();

    [Theory]
    [MemberData(nameof(WidthsByLength))]
    public void AddRun_EveryPathAnyLength_SameBitsAsFusedFormula(int bits, int n)
    {
        // One fused multiply-add per element at every width, so no bit may differ from the formula. The run sits
        // against a guard page on each side in turn: a lane past either end faults.
        float[] x = TestData.RandomArray(n, seed: 90 + n), start = TestData.RandomArray(n, seed: 91 + n);
        const float a = -0.731f;
        var expected = new float[n];
        for (int i = 0; i < n; i++) expected[i] = MathF.FusedMultiplyAdd(x[i], a, start[i]);
        foreach (bool guardBefore in new[] { false, true })
        {
            using GuardedBuffer source = GuardedBuffer.Of(x, guardBefore), destination = GuardedBuffer.Of(start, guardBefore);
            FilterGram.AddRun(source.Span, a, destination.Span, TestData.Path(bits));
            TestData.AssertSameBits(expected, destination.Span, $"{TestData.Path(bits)} run of {n}, guard {(guardBefore ? "before" : "after")}");
        }
    }

    [Theory]
    [InlineData(512, 5, 1, 3)]    // K̄ = 8: shorter than one 512-bit vector, all tail
    [InlineData(512, 9, 3, 4)]    // K̄ = 16: one whole vector
    [InlineData(512, 17, 2, 2)]   // K̄ = 24: a vector and a tail of 8
    [InlineData(256, 17, 2, 5)]
    [InlineData(128, 9, 3, 4)]
    [InlineData(256, 1, 1, 1)]    // one map, 1×1 filter: a single stencil entry
    public void FilterGram_EveryPath_SameBitsAsScalar(int bits, int maps, int inputs, int s)
    {
        Connectivity g = inputs == 1 ? Connectivity.Full(maps, 1) : Connectivity.RandomDoubles(maps, inputs, 7);
        FilterBank f = FilterInitializer.Gaussian(g, s, 13);
        var scalar = new FilterGram(f, g, SimdPath.Scalar);
        var vector = new FilterGram(f, g, TestData.Path(bits));
        for (int k = 0; k < maps; k++) TestData.AssertSameBits(scalar.Block(k), vector.Block(k), $"{TestData.Path(bits)} stencil of map {k}, K = {maps}, s = {s}");
        TestData.AssertSameBits(scalar.Norms, vector.Norms, "norms");
        TestData.AssertSameBits(scalar.Taps, vector.Taps, "taps");
    }

    private static int Mod(int a, int n) => ((a % n) + n) % n;
}
