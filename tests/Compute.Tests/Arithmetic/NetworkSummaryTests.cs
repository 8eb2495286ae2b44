using Distributed.Compute.Arithmetic;
using Distributed.Compute.Operators;

namespace Distributed.Compute.Tests.Arithmetic;

public class NetworkSummaryTests
{
    [Fact]
    public void Describe_DqnPreset_MatchesMnih2013Table()
    {
        NetworkSummary summary = NetworkPresets.Dqn.Describe();

        Assert.Equal(new VolumeShape(84, 84, 4), summary.Input);
        Assert.Equal(4, summary.Layers.Count);
        AssertRow(summary.Layers[0], "conv1", new VolumeShape(20, 20, 16), 257, 6_400, 1_644_800, 4_112);
        AssertRow(summary.Layers[1], "conv2", new VolumeShape(9, 9, 32), 257, 2_592, 666_144, 8_224);
        AssertRow(summary.Layers[2], "fc1", new VolumeShape(1, 1, 256), 2_593, 256, 663_808, 663_808);
        AssertRow(summary.Layers[3], "fc2", new VolumeShape(1, 1, 18), 257, 18, 4_626, 4_626);
        Assert.Equal(6_400 + 2_592 + 256 + 18, summary.TotalNeurons);
        Assert.Equal(1_644_800 + 666_144 + 663_808 + 4_626, summary.TotalConnections);
        Assert.Equal(4_112 + 8_224 + 663_808 + 4_626, summary.TotalParameters);
    }

    [Fact]
    public void Describe_DqnFromFlags_EqualsPreset()
    {
        NetworkSummary fromList = NetworkSummary.Describe("84x84x4", ["conv:16:8x8/4,conv:32:4x4/2,fc:256,fc:18"]);
        NetworkSummary fromRepeated = NetworkSummary.Describe("84x84x4", ["conv:16:8x8/4", "conv:32:4x4/2", "fc:256", "fc:18"]);
        NetworkSummary preset = NetworkPresets.Dqn.Describe();

        Assert.Equal(preset.Layers, fromList.Layers);
        Assert.Equal(preset.Layers, fromRepeated.Layers);
    }

    [Fact]
    public void Describe_DcganGenerator_DoublesEachSideAndCountsKernels()
    {
        NetworkSummary summary = NetworkPresets.Dcgan.Describe();

        VolumeShape[] expected = [new(8, 8, 512), new(16, 16, 256), new(32, 32, 128), new(64, 64, 3)];
        Assert.Equal(expected, summary.Layers.Select(row => row.Output));
        int[] inputDepths = [1024, 512, 256, 128];
        for (int i = 0; i < 4; i++)
        {
            LayerArithmetic row = summary.Layers[i];
            Assert.Equal(LayerKind.TransposedConvolution, row.Layer.Kind);
            Assert.Equal(5L * 5 * inputDepths[i] + 1, row.WeightsPerNeuron);
            Assert.Equal(row.Output.Depth * (5L * 5 * inputDepths[i] + 1), row.Parameters);
            Assert.Equal(row.Output.Count, row.Neurons);
        }
        Assert.Equal(13_107_712, summary.Layers[0].Parameters);   // 512·(25·1024 + 1)
        Assert.Equal(3_277_056, summary.Layers[1].Parameters);    // 256·(25·512 + 1)
        Assert.Equal(819_328, summary.Layers[2].Parameters);      // 128·(25·256 + 1)
        Assert.Equal(9_603, summary.Layers[3].Parameters);        // 3·(25·128 + 1)
        // 4 inputs scatter 5 taps each onto 8 outputs with 2 cropped on the left and P − Q = 1 on the right: 17 a side.
        Assert.Equal(512L * 1024 * 17 * 17 + 8 * 8 * 512, summary.Layers[0].Connections);
    }

    [Fact]
    public void Describe_DeconvWithoutOutputPadding_GivesStridedFormula()
    {
        NetworkSummary summary = NetworkSummary.Describe("4x4x1024", ["deconv:512:5x5/2/p2"]);

        Assert.Equal(new VolumeShape(7, 7, 512), summary.Output);   // 2·(4 − 1) + 5 − 4
    }

    [Fact]
    public void Of_DeconvThenConvWithSameFilter_ReturnsToInputAndMirrorsLinks()
    {
        int cases = 0;
        for (int j = 1; j <= 12; j++)
            for (int m = 1; m <= 6; m++)
                for (int s = 1; s <= 4; s++)
                    for (int p = 0; p < m; p++)
                    {
                        long size = (long)s * (j - 1) + m - 2 * p;
                        if (size <= 0) continue;
                        string geometry = $"{m}x{m}/{s}/p{p}";
                        LayerArithmetic up = Layer($"deconv:7:{geometry}", new VolumeShape(j, j, 3));
                        LayerArithmetic down = Layer($"conv:3:{geometry}", up.Output);

                        Assert.Equal(new VolumeShape(j, j, 3), down.Output);
                        // The transposed convolution is the adjoint: the same (input, output) links, read backwards.
                        Assert.Equal(down.Connections - down.Neurons, up.Connections - up.Neurons);
                        cases++;
                    }
        Assert.True(cases > 500, $"only {cases} geometries were checked");
    }

    [Theory]
    [InlineData(84, 8, 4, 0)]
    [InlineData(7, 3, 1, 1)]
    [InlineData(9, 5, 2, 2)]
    [InlineData(3, 5, 1, 1)]   // filter wider than the input, covered by padding
    [InlineData(10, 4, 3, 3)]
    public void Of_PaddedConvolution_CountsOnlyLinksToRealInputs(int j, int m, int s, int p)
    {
        LayerArithmetic row = Layer($"conv:2:{m}x{m}/{s}/p{p}", new VolumeShape(j, j, 3));

        long axis = 0;
        for (int o = 0; o < row.Output.Width; o++)
            for (int u = 0; u < m; u++)
                if (o * s + u - p is int x && x >= 0 && x < j) axis++;
        Assert.Equal(2 * 3 * axis * axis + row.Neurons, row.Connections);
        Assert.Equal(2 * (m * m * 3 + 1L), row.Parameters);
    }

    [Theory]
    [InlineData(4, 5, 2, 2, 1)]
    [InlineData(3, 3, 1, 1, 0)]
    [InlineData(5, 4, 3, 3, 2)]
    [InlineData(1, 6, 2, 0, 1)]
    public void Of_TransposedConvolution_CountsScatteredTapsInsideTheOutput(int j, int m, int s, int p, int q)
    {
        LayerArithmetic row = Layer($"deconv:2:{m}x{m}/{s}/p{p}/o{q}", new VolumeShape(j, j, 3));

        int size = s * (j - 1) + m - 2 * p + q;
        Assert.Equal(new VolumeShape(size, size, 2), row.Output);
        long axis = 0;
        for (int i = 0; i < j; i++)
            for (int u = 0; u < m; u++)
                if (i * s + u - p is int t && t >= 0 && t < size) axis++;
        Assert.Equal(2 * 3 * axis * axis + row.Neurons, row.Connections);
    }

    [Fact]
    public void Describe_ZeilerFullLayer_CountsKCs2WithoutBias()
    {
        NetworkSummary summary = NetworkSummary.Describe("150x150", ["dn:9:7"]);

        LayerArithmetic row = summary.Layers[0];
        Assert.Equal("dn1", row.Name);
        Assert.Equal(new VolumeShape(156, 156, 9), row.Output);   // valid reconstruction: maps are J + s − 1 a side
        Assert.Equal(49, row.WeightsPerNeuron);
        Assert.False(row.WeightsPerNeuronVary);
        Assert.Equal(9L * 156 * 156, row.Neurons);
        Assert.Equal(9L * 1 * 49, row.Parameters);
        Assert.Equal(150L * 150 * 49 * 9, row.Connections);
    }

    [Fact]
    public void Describe_SinglesAndAllDoubles_CountsConnectedPairsOnly()
    {
        NetworkSummary summary = NetworkPresets.Zeiler.Describe();

        LayerArithmetic row = summary.Layers[1];
        Connectivity sad = Connectivity.SinglesAndAllDoubles(9);
        Assert.Equal(new VolumeShape(162, 162, 45), row.Output);
        Assert.Equal(sad.Maps, row.Output.Depth);
        // 9 singles + 36 doubles × 2 planes = 81 filters: K·C·s²·density with density 81/405.
        Assert.Equal(81, sad.ConnectedCount);
        Assert.Equal(sad.ConnectedCount * 49L, row.Parameters);
        Assert.Equal(45.0 * 9 * 49 * sad.Density, row.Parameters, 9);
        Assert.Equal(49, row.WeightsPerNeuronMin);
        Assert.Equal(98, row.WeightsPerNeuron);
        Assert.Equal(156L * 156 * 49 * 81, row.Connections);
        Assert.Equal(441 + 3_969, summary.TotalParameters);
    }

    [Fact]
    public void Describe_SadOverOnePlane_IsOneSingleMap()
    {
        LayerArithmetic row = Layer("dn:1:3:sad", new VolumeShape(5, 5, 1));

        Assert.Equal(9, row.Parameters);
        Assert.Equal(9, row.WeightsPerNeuron);
        Assert.False(row.WeightsPerNeuronVary);
    }

    [Fact]
    public void Describe_ExplicitFullSuffix_EqualsDefault()
    {
        LayerArithmetic implicitFull = Layer("dn:9:7", new VolumeShape(20, 20, 3));
        LayerArithmetic explicitFull = Layer("dn:9:7:full", new VolumeShape(20, 20, 3));

        Assert.Equal(
            (implicitFull.Output, implicitFull.WeightsPerNeuron, implicitFull.Neurons, implicitFull.Connections, implicitFull.Parameters),
            (explicitFull.Output, explicitFull.WeightsPerNeuron, explicitFull.Neurons, explicitFull.Connections, explicitFull.Parameters));
        Assert.Equal(9L * 3 * 49, explicitFull.Parameters);
    }

    [Fact]
    public void Describe_RowsNamedByKindOrdinal()
    {
        NetworkSummary summary = NetworkSummary.Describe("32x32x3", ["conv:8:3x3/1/p1,fc:10,conv:4:1x1/1,fc:2"]);

        Assert.Equal(["conv1", "fc1", "conv2", "fc2"], summary.Layers.Select(row => row.Name));
        Assert.Equal([1, 2, 3, 4], summary.Layers.Select(row => row.Index));
    }

    private static LayerArithmetic Layer(string text, VolumeShape input) =>
        LayerArithmetic.Of(LayerParser.Parse(text, 1), input, 1, "layer");

    private static void AssertRow(LayerArithmetic row, string name, VolumeShape output, long weights, long neurons, long connections, long parameters)
    {
        Assert.Equal(name, row.Name);
        Assert.Equal(output, row.Output);
        Assert.Equal(weights, row.WeightsPerNeuron);
        Assert.Equal(weights, row.WeightsPerNeuronMin);
        Assert.Equal(neurons, row.Neurons);
        Assert.Equal(connections, row.Connections);
        Assert.Equal(parameters, row.Parameters);
    }
}
