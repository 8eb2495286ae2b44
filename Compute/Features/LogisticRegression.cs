using System.Numerics.Tensors;

namespace Distributed.Compute.Features;

/// <summary>
/// Multinomial logistic regression with an L2 penalty on the weights (not the biases), the classifier of a linear probe:
/// minimises L(W, b) = (1/n) Σ_i [log Σ_c exp(w_c·x_i + b_c) − (w_{y_i}·x_i + b_{y_i})] + (α/2) ‖W‖²,
/// strictly convex for α > 0, by L-BFGS (10 pairs, Armijo backtracking) until ‖∇L‖∞ ≤ tolerance. The same problem as
/// scikit-learn's LogisticRegression(multi_class="multinomial", C = 1/(n α)). Cost per evaluation: 2·n·d·C multiply-adds.
/// </summary>
public sealed class LogisticRegression
{
    private LogisticRegression(int classes, int dimension, double[] parameters, int iterations, double gradientNorm)
    {
        Classes = classes;
        Dimension = dimension;
        Parameters = parameters;
        Iterations = iterations;
        GradientNorm = gradientNorm;
    }

    public int Classes { get; }
    public int Dimension { get; }

    /// <summary>[W (C × d, row per class), b (C)].</summary>
    public double[] Parameters { get; }

    public int Iterations { get; }

    /// <summary>‖∇L‖∞ at the returned parameters.</summary>
    public double GradientNorm { get; }

    /// <summary>Fits to rows <paramref name="x"/> (n × d, row-major) with labels in 0..classes−1.</summary>
    public static LogisticRegression Fit(double[] x, int[] y, int classes, double alpha, double tolerance = 1e-6, int maxIterations = 1000)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least two classes.");
        if (y.Length == 0 || x.Length % y.Length != 0) throw new ArgumentException($"{x.Length} values for {y.Length} rows.", nameof(x));
        if (!(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be > 0 (the problem is then strictly convex).");
        foreach (int label in y) if (label < 0 || label >= classes) throw new ArgumentException($"label {label} outside 0..{classes - 1}.", nameof(y));
        int d = x.Length / y.Length;
        var problem = new Problem(x, y, classes, d, alpha);
        var (theta, iterations, norm) = Lbfgs(problem, new double[classes * d + classes], tolerance, maxIterations);
        return new LogisticRegression(classes, d, theta, iterations, norm);
    }

    /// <summary>The objective and its gradient at <paramref name="parameters"/> (exposed for tests: finite differences, optimality).</summary>
    public static double Objective(double[] x, int[] y, int classes, double alpha, double[] parameters, double[] gradient) =>
        new Problem(x, y, classes, x.Length / y.Length, alpha).Evaluate(parameters, gradient);

    /// <summary>The most probable class of each row.</summary>
    public int[] Predict(double[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Length / Dimension;
        var predictions = new int[n];
        var logits = new double[Classes];
        for (int i = 0; i < n; i++)
        {
            Logits(Parameters, x.AsSpan(i * Dimension, Dimension), Classes, Dimension, logits);
            int best = 0;
            for (int c = 1; c < Classes; c++) if (logits[c] > logits[best]) best = c;
            predictions[i] = best;
        }
        return predictions;
    }

    private static void Logits(double[] theta, ReadOnlySpan<double> row, int classes, int d, Span<double> logits)
    {
        for (int c = 0; c < classes; c++) logits[c] = TensorPrimitives.Dot(theta.AsSpan(c * d, d), row) + theta[classes * d + c];
    }

    private sealed class Problem(double[] x, int[] y, int classes, int d, double alpha)
    {
        public int Length => classes * d + classes;

        public double Evaluate(double[] theta, double[] gradient)
        {
            int n = y.Length;
            Array.Clear(gradient);
            Span<double> logits = stackalloc double[classes];
            double loss = 0;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<double> row = x.AsSpan(i * d, d);
                Logits(theta, row, classes, d, logits);
                double max = TensorPrimitives.Max<double>(logits), sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.Exp(logits[c] - max);
                double logSum = max + Math.Log(sum);
                loss += logSum - logits[y[i]];
                for (int c = 0; c < classes; c++)
                {
                    double residual = (Math.Exp(logits[c] - logSum) - (c == y[i] ? 1 : 0)) / n;
                    if (residual == 0) continue;
                    Span<double> g = gradient.AsSpan(c * d, d);
                    TensorPrimitives.MultiplyAdd(row, residual, g, g);
                    gradient[classes * d + c] += residual;
                }
            }
            ReadOnlySpan<double> w = theta.AsSpan(0, classes * d);
            TensorPrimitives.MultiplyAdd(w, alpha, gradient.AsSpan(0, classes * d), gradient.AsSpan(0, classes * d));
            return loss / n + alpha / 2 * TensorPrimitives.Dot(w, w);
        }
    }

    private static (double[] Theta, int Iterations, double GradientNorm) Lbfgs(Problem problem, double[] theta, double tolerance, int maxIterations)
    {
        const int Memory = 10;
        int length = problem.Length;
        var g = new double[length];
        double f = problem.Evaluate(theta, g);
        var s = new List<double[]>();
        var yv = new List<double[]>();
        var rho = new List<double>();
        var direction = new double[length];
        var trial = new double[length];
        var gTrial = new double[length];
        var alphas = new double[Memory];
        int iteration = 0;
        for (; iteration < maxIterations && Math.Abs(TensorPrimitives.MaxMagnitude<double>(g)) > tolerance; iteration++)
        {
            // Two-loop recursion: direction = −H g.
            g.CopyTo(direction, 0);
            for (int j = s.Count - 1; j >= 0; j--)
            {
                alphas[j] = rho[j] * TensorPrimitives.Dot<double>(s[j], direction);
                TensorPrimitives.MultiplyAdd(yv[j], -alphas[j], direction, direction);
            }
            double gamma = s.Count > 0 ? TensorPrimitives.Dot<double>(s[^1], yv[^1]) / TensorPrimitives.Dot<double>(yv[^1], yv[^1]) : 1 / Math.Max(1, TensorPrimitives.Norm<double>(g));
            TensorPrimitives.Multiply(direction, gamma, direction);
            for (int j = 0; j < s.Count; j++)
            {
                double beta = rho[j] * TensorPrimitives.Dot<double>(yv[j], direction);
                TensorPrimitives.MultiplyAdd(s[j], alphas[j] - beta, direction, direction);
            }
            TensorPrimitives.Negate(direction, direction);
            double slope = TensorPrimitives.Dot<double>(g, direction);
            if (slope >= 0)
            {
                // Not a descent direction (curvature pairs gone stale): restart from steepest descent.
                s.Clear(); yv.Clear(); rho.Clear();
                TensorPrimitives.Negate(g, direction);
                slope = -TensorPrimitives.Dot<double>(g, g);
            }
            double step = 1, fTrial;
            while (true)
            {
                TensorPrimitives.MultiplyAdd(direction, step, theta, trial);
                fTrial = problem.Evaluate(trial, gTrial);
                if (fTrial <= f + 1e-4 * step * slope || step < 1e-12) break;
                step /= 2;
            }
            var sNew = new double[length];
            var yNew = new double[length];
            TensorPrimitives.Subtract(trial, theta, sNew);
            TensorPrimitives.Subtract(gTrial, g, yNew);
            double sy = TensorPrimitives.Dot<double>(sNew, yNew);
            if (sy > 1e-12)
            {
                if (s.Count == Memory) { s.RemoveAt(0); yv.RemoveAt(0); rho.RemoveAt(0); }
                s.Add(sNew); yv.Add(yNew); rho.Add(1 / sy);
            }
            trial.CopyTo(theta, 0);
            gTrial.CopyTo(g, 0);
            bool stalled = f - fTrial <= 1e-15 * Math.Max(1, Math.Abs(f));
            f = fTrial;
            if (stalled && step < 1e-12) break;
        }
        return (theta, iteration, Math.Abs(TensorPrimitives.MaxMagnitude<double>(g)));
    }
}
