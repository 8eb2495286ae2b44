using Distributed.Client.Output;
using Distributed.Compute.Training;

namespace Distributed.Client.Tests.Output;

public class MetricsCsvTests
{
    [Fact]
    public void Format_Rows_WritesHeaderAndShortestRoundTripNumbers()
    {
        EpochMetrics[] rows =
        [
            new(1, 1, 1234.5, 1000.25, 234.25, 0.0123, 24.5, 1.5, 5),
            new(2, 3, 0.1 + 0.2, 1e-20, 3e21, 1, 30, 0.001, 12, 0.0125),
        ];

        string csv = MetricsCsv.Format(rows);

        Assert.Equal(
            "layer,epoch,objective,data_term,sparsity_term,nonzero_fraction,psnr_db,seconds,images,relative_change\n" +
            "1,1,1234.5,1000.25,234.25,0.0123,24.5,1.5,5,nan\n" +
            "2,3,0.30000000000000004,1E-20,3E+21,1,30,0.001,12,0.0125\n",
            csv);
    }

    [Fact]
    public void FormatRow_NonFinite_WritesNumpyReadableWords()
    {
        string row = MetricsCsv.FormatRow(new EpochMetrics(1, 2, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0, double.PositiveInfinity, 0, 1));

        Assert.Equal("1,2,nan,inf,-inf,0,inf,0,1,nan", row);
    }

    [Fact]
    public void Write_ToOutputFolder_WritesUtf8WithoutBom()
    {
        using var temp = new TempFolder();

        string path = MetricsCsv.Write(new OutputFolder(temp.Path), [new EpochMetrics(1, 1, 2, 1, 1, 0.5, 10, 3, 4)]);

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal((byte)'l', bytes[0]);
        Assert.Equal(MetricsCsv.Header + "\n1,1,2,1,1,0.5,10,3,4,nan\n", File.ReadAllText(path));
    }
}
