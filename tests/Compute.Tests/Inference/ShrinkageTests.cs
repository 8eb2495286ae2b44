using Distributed.Compute.Inference;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Inference;

public class ShrinkageTests
{
    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(2.0 / 3.0, 3.0)]
    [InlineData(0.8, 1.0)]
    [InlineData(0.8, 100.0)]
    [InlineData(1.0, 10.0)]
    public void Apply_AnyInput_MatchesBruteForceMinimum(double p, double beta)
    {
        float[] v = Enumerable.Range(-60, 121).Select(i => (float)(i * 0.05 * (1 + 1 / beta))).ToArray();
        var x = new float[v.Length];
        Shrinkage.Apply(v, p, beta, x);
        for (int i = 0; i < v.Length; i++)
        {
            double Objective(double t) => Math.Pow(Math.Abs(t), p) + beta / 2 * (t - v[i]) * (t - v[i]);
            // Brute force on a fine grid over [−|v|, |v|] (the minimiser lies between 0 and v).
            double best = 0, bestValue = Objective(0), a = Math.Abs(v[i]);
            for (int k = -20000; k <= 20000; k++)
            {
                double t = a * k / 20000.0;
                double value = Objective(t);
                if (value < bestValue) (best, bestValue) = (t, value);
            }
            Assert.True(Objective(x[i]) <= bestValue + 1e-6,
                $"p={p}, β={beta}, v={v[i]}: shrinkage gave {x[i]} (E={Objective(x[i])}), grid found {best} (E={bestValue}).");
        }
    }

    [Fact]
    public void Apply_BelowThreshold_GivesExactZero()
    {
        double p = 0.8, beta = 2;
        float tau = (float)Shrinkage.ZeroThreshold(p, beta);
        var x = new float[2];
        Shrinkage.Apply([tau * 0.99f, -tau * 0.99f], p, beta, x);
        Assert.Equal([0f, 0f], x);
        Shrinkage.Apply([tau * 1.05f, -tau * 1.05f], p, beta, x);
        Assert.True(x[0] > 0 && x[1] < 0, $"above the threshold the minimiser is nonzero; got {x[0]}, {x[1]}.");
    }

    [Fact]
    public void SoftThreshold_VectorAndScalarTails_AgreeWithFormula()
    {
        float[] v = Enumerable.Range(0, 37).Select(i => (float)Math.Sin(i * 1.7) * 3).ToArray();
        var x = new float[v.Length];
        Shrinkage.SoftThreshold(v, 0.75f, x);
        for (int i = 0; i < v.Length; i++)
            Assert.Equal(Math.Sign(v[i]) * Math.Max(Math.Abs(v[i]) - 0.75f, 0f), x[i], 6);
    }

    public static TheoryData<int, int> WidthsByLength() => TestData.WidthsByLength();

    [Theory]
    [MemberData(nameof(WidthsByLength))]
    public void SoftThreshold_EveryPathAnyLength_SameBitsAsFormula(int bits, int n)
    {
        // Values on both sides of ±t, exactly ±t, ±0, NaN and ±∞ among random ones: every width must give the scalar
        // formula's bits, +0 (not −0) inside the dead zone and 0 for NaN, so machines of any width agree.
        const float t = 0.4f;
        float[] special = [-0.1f, 0.1f, t, -t, 0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0.39f, 1.5f, -2.25f];
        float[] v = TestData.RandomArray(n, seed: 40 + n);
        for (int i = 0; i < n; i++)
            if (i % 3 == 1) v[i] = special[(i / 3) % special.Length];
        var expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            float m = MathF.Abs(v[i]) - t;
            expected[i] = m > 0 ? MathF.CopySign(m, v[i]) : 0f;
        }
        using GuardedBuffer source = GuardedBuffer.Of(v), destination = new(n);   // a lane past the end faults
        Shrinkage.SoftThreshold(source.Span, t, destination.Span, TestData.Path(bits));
        TestData.AssertSameBits(expected, destination.Span, $"{TestData.Path(bits)} soft threshold of {n}");
        Shrinkage.SoftThreshold(source.Span, t, source.Span, TestData.Path(bits));   // in place, as the adaptive model calls it
        TestData.AssertSameBits(expected, source.Span, $"{TestData.Path(bits)} soft threshold of {n} in place");
    }

    [Fact]
    public void SoftThreshold_ProductionDispatch_SameBitsAsScalar()
    {
        float[] v = TestData.RandomArray(77, seed: 41);
        v[5] = -0.01f;   // a negative value inside the dead zone: +0 on every machine
        float[] auto = new float[v.Length], scalar = new float[v.Length];
        Shrinkage.SoftThreshold(v, 0.25f, auto);
        Shrinkage.SoftThreshold(v, 0.25f, scalar, Distributed.Compute.Convolution.SimdPath.Scalar);
        TestData.AssertSameBits(scalar, auto, "automatic width");
        Assert.Equal(0, BitConverter.SingleToInt32Bits(auto[5]));
    }

    [Fact]
    public void Apply_InvalidP_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Shrinkage.Apply([1f], 1.5, 1, new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Shrinkage.Apply([1f], 0, 1, new float[1]));
    }
}
