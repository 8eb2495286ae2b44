using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Convolution;
using Distributed.Compute.Tests.Operators;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Convolution;

public class Convolution2DTests
{
    private const double Tolerance = 1e-5;

    /// <summary>(width bits, rows, cols, s) for every width × every shape: rows and cols from 1 to 40 plus a few wide enough for 512-bit blocks.</summary>
    public static TheoryData<int, int, int, int> Cases()
    {
        int[] rows = [1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 24, 31, 33, 40, 6, 11];
        int[] cols = [40, 1, 17, 9, 33, 16, 2, 31, 8, 24, 3, 13, 5, 7, 70, 97];
        int[] widths = [512, 256, 128, 0];
        var data = new TheoryData<int, int, int, int>();
        // Every width on every shape: a width this machine lacks still runs (in software), so each path is checked here.
        foreach (int bits in widths)
        {
            for (int n = 0; n < rows.Length; n++)
                data.Add(bits, rows[n], cols[n], 1 + n * 7 % 11);
            for (int s = 1; s <= 11; s++)
                data.Add(bits, 12 + s, 29 + 2 * s, s);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Valid_EveryPath_MatchesNaiveReference(int bits, int rows, int cols, int s)
    {
        float[] x = TestData.RandomArray(rows * cols, seed: 91), k = TestData.RandomArray(s * s, seed: 92);
        if (s > rows || s > cols)
        {
            Assert.Throws<ArgumentException>(() => Convolution2D.CorrelateValid(x, rows, cols, k, s, new float[1]));
            return;
        }
        foreach (bool flip in new[] { false, true })
        {
            var d = TestData.RandomArray((rows - s + 1) * (cols - s + 1), seed: 93);
            Convolution2D.Valid(x, rows, cols, k, s, d, flip, LayerKernelsTests.Path(bits));
            TestData.AssertClose(NaiveConvolution.Correlate(x, rows, cols, k, s, flip, full: false), d, Tolerance,
                $"{(flip ? "convolve" : "correlate")} valid {rows}×{cols} s={s} at {bits} bits");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Full_EveryPath_MatchesNaiveReference(int bits, int rows, int cols, int s)
    {
        float[] x = TestData.RandomArray(rows * cols, seed: 94), k = TestData.RandomArray(s * s, seed: 95);
        foreach (bool flip in new[] { false, true })
        {
            var d = TestData.RandomArray((rows + s - 1) * (cols + s - 1), seed: 96);
            Convolution2D.Full(x, rows, cols, k, s, d, flip, LayerKernelsTests.Path(bits));
            TestData.AssertClose(NaiveConvolution.Correlate(x, rows, cols, k, s, flip, full: true), d, Tolerance,
                $"{(flip ? "convolve" : "correlate")} full {rows}×{cols} s={s} at {bits} bits");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ValidAndFull_EveryPathOnGuardedMemory_NeverTouchOutsideTheirArguments(int bits, int rows, int cols, int s)
    {
        float[] x = TestData.RandomArray(rows * cols, seed: 81), k = TestData.RandomArray(s * s, seed: 82);
        foreach (bool before in new[] { false, true })
            foreach (bool flip in new[] { false, true })
            {
                // Inputs and output each end (or start) at an inaccessible page: any over-read or over-write faults.
                using GuardedBuffer gx = GuardedBuffer.Of(x, before), gk = GuardedBuffer.Of(k, before);
                using var full = new GuardedBuffer((rows + s - 1) * (cols + s - 1), before);
                Convolution2D.Full(gx.Span, rows, cols, gk.Span, s, full.Span, flip, LayerKernelsTests.Path(bits));
                TestData.AssertClose(NaiveConvolution.Correlate(x, rows, cols, k, s, flip, full: true), full.Span.ToArray(), Tolerance,
                    $"guarded full {rows}×{cols} s={s} at {bits} bits");
                if (s > rows || s > cols) continue;
                using var valid = new GuardedBuffer((rows - s + 1) * (cols - s + 1), before);
                Convolution2D.Valid(gx.Span, rows, cols, gk.Span, s, valid.Span, flip, LayerKernelsTests.Path(bits));
                TestData.AssertClose(NaiveConvolution.Correlate(x, rows, cols, k, s, flip, full: false), valid.Span.ToArray(), Tolerance,
                    $"guarded valid {rows}×{cols} s={s} at {bits} bits");
            }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 12, 3)]
    [InlineData(20, 37, 8)]
    [InlineData(11, 11, 11)]
    public void FullKernels_AreAdjointsOfValidKernels(int rows, int cols, int s)
    {
        float[] x = TestData.RandomArray(rows * cols, seed: 97), k = TestData.RandomArray(s * s, seed: 98);
        float[] noise = TestData.RandomArray((rows - s + 1) * (cols - s + 1), seed: 99);
        var valid = new float[noise.Length];
        var full = new float[x.Length];
        // r = A x + noise keeps ⟨A x, r⟩ well away from zero, so the relative error measures the operators, not cancellation.
        Convolution2D.ConvolveValid(x, rows, cols, k, s, valid);
        float[] r = Plus(valid, noise);
        Convolution2D.CorrelateFull(r, rows - s + 1, cols - s + 1, k, s, full);
        TestData.AssertRelative(TestData.Dot(valid, r), TestData.Dot(x, full), Tolerance, "⟨conv_valid x, r⟩ vs ⟨x, corr_full r⟩");
        Convolution2D.CorrelateValid(x, rows, cols, k, s, valid);
        r = Plus(valid, noise);
        Convolution2D.ConvolveFull(r, rows - s + 1, cols - s + 1, k, s, full);
        TestData.AssertRelative(TestData.Dot(valid, r), TestData.Dot(x, full), Tolerance, "⟨corr_valid x, r⟩ vs ⟨x, conv_full r⟩");
    }

    private static float[] Plus(float[] a, float[] b)
    {
        var sum = new float[a.Length];
        for (int i = 0; i < a.Length; i++) sum[i] = a[i] + b[i];
        return sum;
    }

    [Fact]
    public void Kernels_InPlaceOrOverlappingDestination_Throws()
    {
        float[] buffer = TestData.RandomArray(400, seed: 100);
        float[] k = TestData.RandomArray(9, seed: 101);
        Assert.Throws<ArgumentException>(() => Convolution2D.CorrelateValid(buffer.AsSpan(0, 100), 10, 10, k, 3, buffer.AsSpan(0, 64)));
        Assert.Throws<ArgumentException>(() => Convolution2D.ConvolveValid(buffer.AsSpan(0, 100), 10, 10, k, 3, buffer.AsSpan(90, 64)));
        Assert.Throws<ArgumentException>(() => Convolution2D.CorrelateFull(buffer.AsSpan(0, 100), 10, 10, k, 3, buffer.AsSpan(50, 144)));
        Assert.Throws<ArgumentException>(() => Convolution2D.ConvolveFull(buffer.AsSpan(200, 100), 10, 10, buffer.AsSpan(250, 9), 3, buffer.AsSpan(240, 144)));
    }

    [Fact]
    public void Kernels_ShortArguments_Throw()
    {
        float[] x = TestData.RandomArray(100, seed: 102), k = TestData.RandomArray(9, seed: 103);
        Assert.Throws<ArgumentException>(() => Convolution2D.CorrelateValid(x, 10, 10, k, 3, new float[63]));
        Assert.Throws<ArgumentException>(() => Convolution2D.CorrelateFull(x, 10, 10, k, 3, new float[143]));
        Assert.Throws<ArgumentException>(() => Convolution2D.ConvolveValid(x, 10, 11, k, 3, new float[72]));
        Assert.Throws<ArgumentException>(() => Convolution2D.ConvolveFull(x, 10, 10, k.AsSpan(0, 8), 3, new float[144]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Convolution2D.CorrelateValid(x, 10, 10, k, 0, new float[100]));
    }
}
