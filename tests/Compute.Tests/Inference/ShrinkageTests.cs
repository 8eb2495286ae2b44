using Distributed.Compute.Inference;

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

    [Fact]
    public void Apply_InvalidP_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Shrinkage.Apply([1f], 1.5, 1, new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Shrinkage.Apply([1f], 0, 1, new float[1]));
    }
}
