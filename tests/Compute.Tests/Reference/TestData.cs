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

    public static void AssertRelative(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-30);
        Assert.True(error <= tolerance, $"{what}: {actual:R} vs {expected:R}, relative error {error:g3} > {tolerance:g2}.");
    }
}
