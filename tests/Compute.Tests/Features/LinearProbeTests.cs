using Distributed.Compute.Features;

namespace Distributed.Compute.Tests.Features;

public class LinearProbeTests
{
    /// <summary>Three noisy Gaussian blobs in 2-D, seeded.</summary>
    private static (double[] X, int[] Y) Blobs(int perClass, int seed, double spread = 1.2)
    {
        var random = new Random(seed);
        double[][] centres = [[0, 0], [2, 1], [0, 2.5]];
        var x = new List<double>();
        var y = new List<int>();
        for (int i = 0; i < perClass; i++)
            for (int c = 0; c < 3; c++)
            {
                x.Add(centres[c][0] + spread * Gaussian(random));
                x.Add(centres[c][1] + spread * Gaussian(random));
                y.Add(c);
            }
        return (x.ToArray(), y.ToArray());
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void Fit_TinyProblem_MatchesPlainGradientDescentToTheSameMinimum()
    {
        var (x, y) = Blobs(6, seed: 1);
        const double Alpha = 0.05;

        LogisticRegression fitted = LogisticRegression.Fit(x, y, 3, Alpha, tolerance: 1e-10);

        // Reference: fixed-step gradient descent, independent of L-BFGS; the problem is strictly convex so both reach
        // the unique minimiser (L is (¼‖X‖²/n + α)-smooth; a step of 0.5 is well inside 2/L here).
        var theta = new double[3 * 2 + 3];
        var gradient = new double[theta.Length];
        for (int t = 0; t < 200_000; t++)
        {
            LogisticRegression.Objective(x, y, 3, Alpha, theta, gradient);
            for (int i = 0; i < theta.Length; i++) theta[i] -= 0.5 * gradient[i];
        }
        // The biases are unpenalised and softmax ignores a shift common to all of them: compare them centred.
        double fo = LogisticRegression.Objective(x, y, 3, Alpha, fitted.Parameters, gradient), ro = LogisticRegression.Objective(x, y, 3, Alpha, theta, gradient);
        Assert.True(Math.Abs(fo - ro) < 1e-10, $"objective: L-BFGS {fo} ({fitted.Iterations} iterations, ‖g‖∞ {fitted.GradientNorm}), gradient descent {ro}");
        for (int i = 0; i < 6; i++)
            Assert.True(Math.Abs(theta[i] - fitted.Parameters[i]) < 1e-6, $"weight {i}: L-BFGS {fitted.Parameters[i]}, gradient descent {theta[i]}");
        double fittedMean = fitted.Parameters[6..].Average(), referenceMean = theta[6..].Average();
        for (int i = 6; i < 9; i++)
            Assert.True(Math.Abs(theta[i] - referenceMean - (fitted.Parameters[i] - fittedMean)) < 1e-6, $"bias {i - 6}: L-BFGS {fitted.Parameters[i]}, gradient descent {theta[i]}");
        Assert.True(fitted.GradientNorm <= 1e-8, $"‖g‖∞ = {fitted.GradientNorm} after {fitted.Iterations} iterations");
    }

    [Fact]
    public void Objective_Gradient_MatchesCentralDifferences()
    {
        var (x, y) = Blobs(4, seed: 2);
        var random = new Random(3);
        double[] theta = Enumerable.Range(0, 9).Select(_ => random.NextDouble() - 0.5).ToArray();
        var gradient = new double[9];
        LogisticRegression.Objective(x, y, 3, 0.3, theta, gradient);
        var scratch = new double[9];
        for (int i = 0; i < 9; i++)
        {
            double[] plus = (double[])theta.Clone(), minus = (double[])theta.Clone();
            plus[i] += 1e-6;
            minus[i] -= 1e-6;
            double numeric = (LogisticRegression.Objective(x, y, 3, 0.3, plus, scratch) - LogisticRegression.Objective(x, y, 3, 0.3, minus, scratch)) / 2e-6;
            Assert.True(Math.Abs(numeric - gradient[i]) < 1e-7, $"component {i}: analytic {gradient[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Evaluate_TestLabelsThatFavourAnotherAlpha_ChoiceAndPredictionsUnchanged()
    {
        var (trainX, trainY) = Blobs(40, seed: 4, spread: 1.6);
        var (testX, testY) = Blobs(40, seed: 5, spread: 1.6);
        var train = new LabelledSet(trainX.Select(v => (float)v).ToArray(), trainY, 2);
        var test = new LabelledSet(testX.Select(v => (float)v).ToArray(), testY, 2);
        double[] alphas = [1e-3, 3];

        ProbeResult honest = LinearProbe.Evaluate(train, test, 3, alphas);

        // Labels that exactly match the predictions of the α the probe did not choose: a probe that peeked at the test
        // labels to pick α would now pick that one (it scores 100 % on them).
        double other = alphas.Single(a => a != honest.Alpha);
        int[] otherPredictions = LinearProbe.Evaluate(train, test, 3, [other]).TestPredictions;
        Assert.NotEqual(honest.TestPredictions, otherPredictions);
        ProbeResult rigged = LinearProbe.Evaluate(train, test with { Labels = otherPredictions }, 3, alphas);

        Assert.Equal(honest.Alpha, rigged.Alpha);
        Assert.Equal(honest.TestPredictions, rigged.TestPredictions);
        Assert.True(rigged.TestAccuracy < 1, "the rigged labels were scored, not used to choose.");
    }

    [Theory]
    [InlineData(10, 2, 158.0 / 4096)]  // 2 · (C(12,0) + C(12,1) + C(12,2)) / 2¹²
    [InlineData(5, 5, 1.0)]
    [InlineData(0, 0, 1.0)]
    [InlineData(0, 20, 2.0 / 1048576)]
    public void ExactPValue_SmallCounts_MatchesTheBinomialSum(int b, int c, double expected)
    {
        Assert.Equal(expected, McNemar.ExactPValue(b, c), 12);
    }

    [Fact]
    public void Test_CountsOnlyDiscordantItems()
    {
        int[] labels = [0, 1, 2, 0, 1];
        McNemar.Outcome outcome = McNemar.Test([0, 1, 0, 1, 1], [0, 0, 2, 1, 0], labels);
        Assert.Equal((2, 1), (outcome.OnlyFirst, outcome.OnlySecond));
    }
}
