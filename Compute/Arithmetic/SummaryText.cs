using System.Globalization;
using System.Text;

namespace Distributed.Compute.Arithmetic;

/// <summary>
/// The table as plain, space-aligned text: one row per layer and a total row, numbers with invariant thousands
/// separators (1,644,800). No colour or box drawing, so it reads the same on a terminal and redirected to a file.
/// </summary>
public static class SummaryText
{
    private static readonly string[] Header = ["#", "layer", "spec", "output W×H×D", "weights/neuron", "neurons", "connections", "parameters"];
    private static readonly bool[] RightAligned = [true, false, false, false, true, true, true, true];

    public static string Format(NetworkSummary summary, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(summary);
        List<string[]> rows = [Header, ["0", "input", "", summary.Input.ToString(), "", "", "", ""]];
        foreach (LayerArithmetic row in summary.Layers)
        {
            string weights = row.WeightsPerNeuronVary
                ? $"{Number(row.WeightsPerNeuronMin)}–{Number(row.WeightsPerNeuron)}"
                : Number(row.WeightsPerNeuron);
            rows.Add([row.Index.ToString(CultureInfo.InvariantCulture), row.Name, row.Layer.Text, row.Output.ToString(),
                weights, Number(row.Neurons), Number(row.Connections), Number(row.Parameters)]);
        }
        rows.Add(["", "total", "", "", "", Number(summary.TotalNeurons), Number(summary.TotalConnections), Number(summary.TotalParameters)]);

        var widths = new int[Header.Length];
        foreach (string[] cells in rows)
            for (int i = 0; i < cells.Length; i++) widths[i] = Math.Max(widths[i], cells[i].Length);

        var text = new StringBuilder();
        if (title is not null) text.Append(title).Append('\n');
        foreach (string[] cells in rows)
        {
            var line = new StringBuilder();
            for (int i = 0; i < cells.Length; i++)
            {
                if (i > 0) line.Append("  ");
                line.Append(RightAligned[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
            }
            text.Append(line.ToString().TrimEnd()).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>An integer with invariant thousands separators: 1644800 → "1,644,800".</summary>
    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
