using System.Globalization;
using System.Text;
using Distributed.Compute.Training;

namespace Distributed.Client.Output;

/// <summary>
/// <c>metrics.csv</c>: one row per layer and epoch (relative_change: the objective's mean relative decrease per
/// epoch over the convergence window, nan for a layer's first epochs; see ConvergenceRule), comma-separated, invariant culture (a '.' decimal point
/// whatever the machine's locale), numbers in their shortest round-trip form, non-finite values as numpy and pandas
/// read them (<c>nan</c>, <c>inf</c>, <c>-inf</c>).
/// </summary>
public static class MetricsCsv
{
    public const string Header = "layer,epoch,objective,data_term,sparsity_term,nonzero_fraction,psnr_db,seconds,images,relative_change";

    public static string Format(IEnumerable<EpochMetrics> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder(Header).Append('\n');
        foreach (EpochMetrics m in rows) text.Append(FormatRow(m)).Append('\n');
        return text.ToString();
    }

    public static string FormatRow(EpochMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return string.Join(',',
            m.Layer.ToString(CultureInfo.InvariantCulture),
            m.Epoch.ToString(CultureInfo.InvariantCulture),
            Number(m.Objective),
            Number(m.DataTerm),
            Number(m.SparsityTerm),
            Number(m.NonzeroFraction),
            Number(m.PsnrDb),
            Number(m.Seconds),
            m.Images.ToString(CultureInfo.InvariantCulture),
            Number(m.RelativeChange));
    }

    /// <summary>Writes the whole table as <paramref name="fileName"/>, atomically; returns the path.</summary>
    public static string Write(OutputFolder folder, IEnumerable<EpochMetrics> rows, string fileName = "metrics.csv")
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.WriteText(fileName, Format(rows));
    }

    private static string Number(double value) => value switch
    {
        double.NaN => "nan",
        double.PositiveInfinity => "inf",
        double.NegativeInfinity => "-inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
