namespace Distributed.Compute.Features;

/// <summary>
/// McNemar's exact test for two classifiers scored on the same test items: of the n = b + c items exactly one gets
/// right (b: only the first, c: only the second), under the null each is the first with probability ½, so the two-sided
/// p-value is min(1, 2 · P[Binomial(n, ½) ≤ min(b, c)]), summed in log space (exact for any n).
/// </summary>
public static class McNemar
{
    public sealed record Outcome(int OnlyFirst, int OnlySecond, double PValue);

    public static Outcome Test(int[] first, int[] second, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(labels);
        if (first.Length != labels.Length || second.Length != labels.Length)
            throw new ArgumentException($"{first.Length} and {second.Length} predictions for {labels.Length} labels.");
        int b = 0, c = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            bool a = first[i] == labels[i], s = second[i] == labels[i];
            if (a && !s) b++;
            else if (s && !a) c++;
        }
        return new Outcome(b, c, ExactPValue(b, c));
    }

    public static double ExactPValue(int b, int c)
    {
        int n = b + c, k = Math.Min(b, c);
        if (n == 0) return 1;
        // log C(n, i) − n log 2, accumulated with log-sum-exp.
        double logTail = double.NegativeInfinity, logChoose = 0;
        for (int i = 0; i <= k; i++)
        {
            if (i > 0) logChoose += Math.Log(n - i + 1) - Math.Log(i);
            double term = logChoose - n * Math.Log(2);
            logTail = Math.Max(logTail, term) + Math.Log(1 + Math.Exp(-Math.Abs(logTail - term)));
        }
        return Math.Min(1, 2 * Math.Exp(logTail));
    }
}
