using Distributed.Compute.Inference;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Inference;

/// <summary>The fused FISTA update against the unfused formula it replaced, written out in double.</summary>
public class FistaStepTests
{
    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (int n in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 31, 1023, 1024, 1025, 2051, 4103 }) data.Add(n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Apply_RandomVectors_MatchesUnfusedFormula(int n)
    {
        float[] grad = TestData.RandomArray(n, seed: n + 1), w = TestData.RandomArray(n, seed: n + 2), z = TestData.RandomArray(n, seed: n + 3);
        for (int i = 0; i < n; i += 3) z[i] = 0;   // some entries start at zero, as sparse maps do
        const float scale = 0.7f, threshold = 0.3f, momentum = 0.45f;

        var expectedW = new float[n];
        var expectedZ = new float[n];
        double expectedChange = 0, expectedNorm = 0;
        for (int i = 0; i < n; i++)
        {
            double v = w[i] - (double)scale * grad[i];
            double next = Math.Sign(v) * Math.Max(Math.Abs(v) - threshold, 0);
            double d = next - z[i];
            expectedChange += d * d;
            expectedNorm += next * next;
            expectedW[i] = (float)(next + momentum * d);
            expectedZ[i] = (float)next;
        }

        var (change, norm) = FistaStep.Apply(grad, scale, threshold, momentum, w, z);
        TestData.AssertClose(expectedZ, z, 1e-6, $"z⁺, n = {n}");
        TestData.AssertClose(expectedW, w, 1e-6, $"w, n = {n}");
        Assert.True(Math.Abs(change - expectedChange) <= 1e-5 * expectedChange + 1e-30, $"‖z⁺ − z‖² = {change}, expected {expectedChange} (n = {n}).");
        Assert.True(Math.Abs(norm - expectedNorm) <= 1e-5 * expectedNorm + 1e-30, $"‖z⁺‖² = {norm}, expected {expectedNorm} (n = {n}).");
        if (n >= 1000) Assert.True(z.Any(v => v == 0), "the threshold should zero some entries");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Apply_VectorPathAndScalarPath_SameValuesAndTwiceSameBits(int n)
    {
        float[] grad = TestData.RandomArray(n, seed: 3 * n + 1), w0 = TestData.RandomArray(n, seed: 3 * n + 2), z0 = TestData.RandomArray(n, seed: 3 * n + 3);
        float[] w1 = (float[])w0.Clone(), z1 = (float[])z0.Clone(), w2 = (float[])w0.Clone(), z2 = (float[])z0.Clone(), w3 = (float[])w0.Clone(), z3 = (float[])z0.Clone();
        var first = FistaStep.Apply(grad, 0.5f, 0.2f, 0.8f, w1, z1);
        var second = FistaStep.Apply(grad, 0.5f, 0.2f, 0.8f, w2, z2);
        Assert.Equal(first, second);
        Assert.Equal(w1, w2);
        Assert.Equal(z1, z2);
        // Every element is the same fused formula in lanes and tail; only the sums' grouping differs.
        var scalar = FistaStep.Scalar(grad, 0.5f, 0.2f, 0.8f, w3, z3, 0);
        Assert.Equal(z3, z1);
        Assert.Equal(w3, w1);
        Assert.Equal(scalar.Change, first.Change, 1e-5 * (scalar.Change + 1e-30));
        Assert.Equal(scalar.Norm, first.Norm, 1e-5 * (scalar.Norm + 1e-30));
    }

    /// <summary>Every width × the ragged lengths, plus lengths that straddle the 1024-element blocks.</summary>
    public static TheoryData<int, int> WidthCases()
    {
        var data = TestData.WidthsByLength();
        foreach (int bits in TestData.Widths)
            foreach (int n in new[] { 1023, 1025, 2051, 4103 }) data.Add(bits, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthCases))]
    public void Apply_EveryPathAnyLength_SameBitsAsScalarAndSumsWithinLaneBound(int bits, int n)
    {
        float[] grad = TestData.RandomArray(n, seed: 5 * n + 1), w0 = TestData.RandomArray(n, seed: 5 * n + 2), z0 = TestData.RandomArray(n, seed: 5 * n + 3);
        for (int i = 0; i < n; i += 5) z0[i] = 0;
        float[] w1 = (float[])w0.Clone(), z1 = (float[])z0.Clone();
        var expected = FistaStep.Scalar(grad, 0.6f, 0.25f, 0.7f, w1, z1, 0);
        using GuardedBuffer g = GuardedBuffer.Of(grad), w = GuardedBuffer.Of(w0), z = GuardedBuffer.Of(z0);   // lanes past the end fault
        var actual = FistaStep.Apply(g.Span, 0.6f, 0.25f, 0.7f, w.Span, z.Span, TestData.Path(bits));
        // Per element the same fused formula in every lane and in the tail: the same bits.
        TestData.AssertSameBits(z1, z.Span, $"{TestData.Path(bits)} z⁺, n = {n}");
        TestData.AssertSameBits(w1, w.Span, $"{TestData.Path(bits)} w, n = {n}");
        // The sums of squares differ in grouping only: each of the L lanes sums at most 1024 / L nonnegative terms in
        // float before they meet in double, so the relative error is at most (1024 / L) · 2⁻²⁴ (L = 4: 1.5e-5); the
        // scalar path sums in double, in the reference's order, and must agree exactly.
        double bound = bits == 0 ? 0 : 1024.0 / (bits / 32) * Math.ScaleB(1, -24);
        Assert.True(Math.Abs(actual.Change - expected.Change) <= bound * expected.Change, $"‖z⁺ − z‖² = {actual.Change:R}, scalar {expected.Change:R} ({TestData.Path(bits)}, n = {n}).");
        Assert.True(Math.Abs(actual.Norm - expected.Norm) <= bound * expected.Norm, $"‖z⁺‖² = {actual.Norm:R}, scalar {expected.Norm:R} ({TestData.Path(bits)}, n = {n}).");
    }

    [Fact]
    public void Apply_MismatchedOrOverlappingSpans_Throw()
    {
        var a = new float[16];
        Assert.Throws<ArgumentException>(() => FistaStep.Apply(new float[16], 1, 1, 1, new float[15], new float[16]));
        Assert.Throws<ArgumentException>(() => FistaStep.Apply(new float[16], 1, 1, 1, a, a));
        Assert.Throws<ArgumentException>(() => FistaStep.Apply(a, 1, 1, 1, a, new float[16]));
    }
}
