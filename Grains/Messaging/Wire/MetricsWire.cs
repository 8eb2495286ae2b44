using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Compute.Inference;

namespace Distributed.Grains.Messaging.Wire;

/// <summary>Totals and metrics rows between their Compute records and their wire records.</summary>
public static class MetricsWire
{
    public static TotalsMessage ToMessage(this InferenceTotals t) => new()
    {
        Images = t.Images,
        DataTerm = t.DataTerm,
        SparsityTerm = t.SparsityTerm,
        Nonzeros = t.Nonzeros,
        Coefficients = t.Coefficients,
        SquaredError = t.SquaredError,
        Pixels = t.Pixels,
        PsnrSum = t.PsnrSum,
        Iterations = t.Iterations,
        Seconds = t.Seconds,
    };

    public static InferenceTotals ToTotals(this TotalsMessage m) =>
        new(m.Images, m.DataTerm, m.SparsityTerm, m.Nonzeros, m.Coefficients, m.SquaredError, m.Pixels, m.PsnrSum, m.Iterations, m.Seconds);

    public static EpochMetricsMessage ToMessage(this EpochMetrics m) => new()
    {
        Layer = m.Layer,
        Epoch = m.Epoch,
        Objective = m.Objective,
        DataTerm = m.DataTerm,
        SparsityTerm = m.SparsityTerm,
        NonzeroFraction = m.NonzeroFraction,
        PsnrDb = m.PsnrDb,
        Seconds = m.Seconds,
        Images = m.Images,
        RelativeChange = m.RelativeChange,
    };

    public static EpochMetrics ToMetrics(this EpochMetricsMessage m) =>
        new(m.Layer, m.Epoch, m.Objective, m.DataTerm, m.SparsityTerm, m.NonzeroFraction, m.PsnrDb, m.Seconds, m.Images, m.RelativeChange);
}
