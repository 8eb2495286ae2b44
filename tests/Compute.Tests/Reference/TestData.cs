using Distributed.Compute.Convolution;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests.Reference;

/// <summary>Seeded random inputs and the comparisons every kernel test uses.</summary>
internal static class TestData
{
    public static Tensor3 Random(int planes, int rows, int cols, int seed)
    {
        var t = new Tensor3(planes, rows, cols);
        Fill(t.Data, seed);
        return t;
    }

    public static FilterBank RandomFilters(int maps, int inputs, int size, int seed)
    {
        var f = new FilterBank(maps, inputs, size);
        Fill(f.Data, seed);
        return f;
    }

    public static float[] RandomArray(int length, int seed)
    {
        var data = new float[length];
        Fill(data, seed);
        return data;
    }

    /// <summary>Uniform in [−1, 1), so sums neither overflow nor cancel to nothing.</summary>
    public static void Fill(Span<float> data, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < data.Length; i++) data[i] = rng.NextSingle() * 2f - 1f;
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>
    /// max |actual − expected| ≤ tolerance · max(max |expected|, floor): elementwise, so one wrong pixel fails, and
    /// relative to the result's scale, so float accumulation in the fast kernels passes.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}.");
        double scale = 1e-30, worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(e) || e > worst) { worst = double.IsNaN(e) ? double.PositiveInfinity : e; at = i; }
        }
        Assert.True(worst <= tolerance * scale,
            $"{what}: element {at} is {(at >= 0 ? actual[at] : 0)}, expected {(at >= 0 ? expected[at] : 0)} (error {worst:g3} > {tolerance:g2} × scale {scale:g3}).");
    }

    /// <summary>
    /// Every element has the same bits (so −0 differs from +0, and NaN payloads count): for paths that must round
    /// identically, where <see cref="Assert.Equal{T}(IEnumerable{T}, IEnumerable{T})"/> would let ±0 pass as equal.
    /// </summary>
    public static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[i]), a = BitConverter.SingleToInt32Bits(actual[i]);
            Assert.True(e == a, $"{what}: element {i} is {actual[i]:R} (0x{a:X8}), expected {expected[i]:R} (0x{e:X8}).");
        }
    }

    /// <summary><see cref="AssertSameBits(ReadOnlySpan{float}, ReadOnlySpan{float}, string)"/> for doubles.</summary>
    public static void AssertSameBits(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            long e = BitConverter.DoubleToInt64Bits(expected[i]), a = BitConverter.DoubleToInt64Bits(actual[i]);
            Assert.True(e == a, $"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R}.");
        }
    }

    /// <summary>Vector widths in bits (0: scalar), with the path each forces: 512 runs in software where not accelerated.</summary>
    public static readonly int[] Widths = [512, 256, 128, 0];

    /// <summary>
    /// Lengths that are multiples of no width beyond the one they are named for: empty, shorter than every vector,
    /// one short and one past each width, and longer runs with ragged tails.
    /// </summary>
    public static readonly int[] RaggedLengths = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 31, 33, 47, 63, 65, 100];

    /// <summary>Every width × every ragged length.</summary>
    public static TheoryData<int, int> WidthsByLength()
    {
        var data = new TheoryData<int, int>();
        foreach (int bits in Widths)
            foreach (int n in RaggedLengths) data.Add(bits, n);
        return data;
    }

    public static SimdPath Path(int bits) => bits switch
    {
        512 => SimdPath.Vector512,
        256 => SimdPath.Vector256,
        128 => SimdPath.Vector128,
        _ => SimdPath.Scalar,
    };

    public static void AssertRelative(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-30);
        Assert.True(error <= tolerance, $"{what}: {actual:R} vs {expected:R}, relative error {error:g3} > {tolerance:g2}.");
    }
}
