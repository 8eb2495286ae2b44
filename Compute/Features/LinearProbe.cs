namespace Distributed.Compute.Features;

/// <summary>A labelled feature matrix: n rows of d values (row-major) and a label in 0..classes−1 per row.</summary>
public sealed record LabelledSet(float[] Features, int[] Labels, int Dimension)
{
    public int Count => Labels.Length;
}

/// <summary>What a probe chose and scored: α, each α's validation accuracy, and the test set's predictions and accuracy.</summary>
public sealed record ProbeResult(double Alpha, IReadOnlyList<(double Alpha, double Accuracy)> Validation, int[] TestPredictions, double TestAccuracy);

/// <summary>
/// A linear probe: standardise the features (mean and deviation of the training rows), choose the L2 strength α of a
/// <see cref="LogisticRegression"/> by accuracy on a seeded validation split of the training rows only, refit on every
/// training row, and score the test rows once. The choice is made in <see cref="Fit"/>, which never sees the test set;
/// ties go to the larger α (the simpler model).
/// </summary>
public static class LinearProbe
{
    public static IReadOnlyList<double> DefaultAlphas { get; } = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

    /// <summary>The fitted probe: the standardisation, the chosen α with every α's validation accuracy, and the classifier.</summary>
    public sealed record Fitted(double[] Mean, double[] Scale, double Alpha, IReadOnlyList<(double Alpha, double Accuracy)> Validation, LogisticRegression Model)
    {
        public int[] Predict(float[] features) => Model.Predict(Standardise(features, Mean, Scale));
    }

    public static Fitted Fit(LabelledSet train, int classes, IReadOnlyList<double>? alphas = null, double validationFraction = 0.2, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(train);
        alphas ??= DefaultAlphas;
        if (alphas.Count == 0) throw new ArgumentException("give at least one α.", nameof(alphas));
        if (!(validationFraction > 0 && validationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "allowed (0, 1).");
        int d = train.Dimension, n = train.Count;
        int[] order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        int held = Math.Max(1, (int)Math.Round(n * validationFraction));
        if (held >= n) throw new ArgumentException($"{n} training rows leave none to fit after a validation split of {held}.", nameof(train));
        int[] fitRows = order[held..], validationRows = order[..held];

        var (mean, scale) = Moments(train.Features, d, fitRows);
        double[] fitX = Standardise(Rows(train.Features, d, fitRows), mean, scale), validationX = Standardise(Rows(train.Features, d, validationRows), mean, scale);
        int[] fitY = fitRows.Select(i => train.Labels[i]).ToArray(), validationY = validationRows.Select(i => train.Labels[i]).ToArray();
        var scores = new List<(double Alpha, double Accuracy)>();
        foreach (double alpha in alphas)
            scores.Add((alpha, Accuracy(LogisticRegression.Fit(fitX, fitY, classes, alpha).Predict(validationX), validationY)));
        double best = scores.Max(s => s.Accuracy);
        double chosen = scores.Where(s => s.Accuracy == best).Max(s => s.Alpha);

        int[] all = Enumerable.Range(0, n).ToArray();
        (mean, scale) = Moments(train.Features, d, all);
        var model = LogisticRegression.Fit(Standardise(train.Features, mean, scale), train.Labels, classes, chosen);
        return new Fitted(mean, scale, chosen, scores, model);
    }

    /// <summary><see cref="Fit"/> on the training set, then the test set scored once.</summary>
    public static ProbeResult Evaluate(LabelledSet train, LabelledSet test, int classes, IReadOnlyList<double>? alphas = null, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (test.Dimension != train.Dimension) throw new ArgumentException($"test rows have {test.Dimension} values, training rows {train.Dimension}.", nameof(test));
        Fitted fitted = Fit(train, classes, alphas, seed: seed);
        int[] predictions = fitted.Predict(test.Features);
        return new ProbeResult(fitted.Alpha, fitted.Validation, predictions, Accuracy(predictions, test.Labels));
    }

    public static double Accuracy(int[] predictions, int[] labels) =>
        labels.Length == 0 ? double.NaN : predictions.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;

    private static (double[] Mean, double[] Scale) Moments(float[] x, int d, int[] rows)
    {
        var mean = new double[d];
        var scale = new double[d];
        foreach (int i in rows) for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= rows.Length;
        foreach (int i in rows) for (int j = 0; j < d; j++) scale[j] += Math.Pow(x[i * d + j] - mean[j], 2);
        // A constant feature (a pooled block no code ever reaches) is left at 0 rather than divided by 0.
        for (int j = 0; j < d; j++) scale[j] = Math.Sqrt(scale[j] / rows.Length) is var sd && sd > 1e-12 ? 1 / sd : 0;
        return (mean, scale);
    }

    private static float[] Rows(float[] x, int d, int[] rows)
    {
        var result = new float[rows.Length * d];
        for (int r = 0; r < rows.Length; r++) x.AsSpan(rows[r] * d, d).CopyTo(result.AsSpan(r * d, d));
        return result;
    }

    private static double[] Standardise(float[] x, double[] mean, double[] scale)
    {
        int d = mean.Length;
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++) result[i] = (x[i] - mean[i % d]) * scale[i % d];
        return result;
    }
}
