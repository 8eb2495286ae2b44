using Distributed.Compute.Training;
using Distributed.Compute.Inference;

namespace Distributed.Grains.Abstractions.Messaging;

/// <summary><see cref="InferenceTotals"/> on the wire.</summary>
[GenerateSerializer, Immutable, Alias("distributed.totals")]
public sealed record TotalsMessage
{
    [Id(0)] public int Images { get; init; }
    [Id(1)] public double DataTerm { get; init; }
    [Id(2)] public double SparsityTerm { get; init; }
    [Id(3)] public long Nonzeros { get; init; }
    [Id(4)] public long Coefficients { get; init; }
    [Id(5)] public double SquaredError { get; init; }
    [Id(6)] public long Pixels { get; init; }
    [Id(7)] public double PsnrSum { get; init; }
    [Id(8)] public long Iterations { get; init; }
    [Id(9)] public double Seconds { get; init; }
}

/// <summary><see cref="EpochMetrics"/> on the wire: one row of metrics.csv.</summary>
[GenerateSerializer, Immutable, Alias("distributed.epoch-metrics")]
public sealed record EpochMetricsMessage
{
    [Id(0)] public int Layer { get; init; }
    [Id(1)] public int Epoch { get; init; }
    [Id(2)] public double Objective { get; init; }
    [Id(3)] public double DataTerm { get; init; }
    [Id(4)] public double SparsityTerm { get; init; }
    [Id(5)] public double NonzeroFraction { get; init; }
    [Id(6)] public double PsnrDb { get; init; }
    [Id(7)] public double Seconds { get; init; }
    [Id(8)] public int Images { get; init; }
    [Id(9)] public double RelativeChange { get; init; } = double.NaN;
}
