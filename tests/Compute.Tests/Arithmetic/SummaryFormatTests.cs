using System.Text.Json;
using Distributed.Compute.Arithmetic;

namespace Distributed.Compute.Tests.Arithmetic;

public class SummaryFormatTests
{
    [Fact]
    public void Format_DqnText_PrintsRowsWithThousandsSeparators()
    {
        string text = SummaryText.Format(NetworkPresets.Dqn.Describe());

        string[] lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(7, lines.Length);   // header, input, 4 layers, total
        Assert.Equal(["1", "conv1", "conv:16:8x8/4", "20×20×16", "257", "6,400", "1,644,800", "4,112"], Cells(lines[2]));
        Assert.Equal(["2", "conv2", "conv:32:4x4/2", "9×9×32", "257", "2,592", "666,144", "8,224"], Cells(lines[3]));
        Assert.Equal(["3", "fc1", "fc:256", "1×1×256", "2,593", "256", "663,808", "663,808"], Cells(lines[4]));
        Assert.Equal(["4", "fc2", "fc:18", "1×1×18", "257", "18", "4,626", "4,626"], Cells(lines[5]));
        Assert.Equal(["total", "9,266", "2,979,378", "680,770"], Cells(lines[6]));
        // Right-aligned last column: every line ends at the same place, so redirected output stays a table.
        Assert.All(lines.Where((_, i) => i != 1), line => Assert.Equal(lines[0].Length, line.Length));
    }

    [Fact]
    public void Format_Title_IsFirstLine()
    {
        string text = SummaryText.Format(NetworkPresets.Dqn.Describe(), "DQN");

        Assert.StartsWith("DQN\n#", text);
    }

    [Fact]
    public void Format_SadLayerText_ShowsWeightRange()
    {
        string text = SummaryText.Format(NetworkPresets.Zeiler.Describe());

        Assert.Contains("49–98", text);
        Assert.Contains("3,969", text);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(999, "999")]
    [InlineData(1_644_800, "1,644,800")]
    [InlineData(-1234, "-1,234")]
    public void Number_Integer_UsesInvariantSeparators(long value, string expected)
    {
        Assert.Equal(expected, SummaryText.Number(value));
    }

    [Fact]
    public void Format_DqnJson_HasCamelCaseTableAndTotals()
    {
        using JsonDocument document = JsonDocument.Parse(SummaryJson.Format(NetworkPresets.Dqn.Describe()));
        JsonElement root = document.RootElement;

        Assert.Equal(["input", "layers", "output", "totals"], Names(root));
        Assert.Equal(["width", "height", "depth"], Names(root.GetProperty("input")));
        Assert.Equal(84, root.GetProperty("input").GetProperty("width").GetInt32());
        Assert.Equal(4, root.GetProperty("input").GetProperty("depth").GetInt32());

        JsonElement conv1 = root.GetProperty("layers")[0];
        Assert.Equal(["index", "name", "spec", "kind", "output", "weightsPerNeuron", "neurons", "connections", "parameters"], Names(conv1));
        Assert.Equal(1, conv1.GetProperty("index").GetInt32());
        Assert.Equal("conv1", conv1.GetProperty("name").GetString());
        Assert.Equal("conv:16:8x8/4", conv1.GetProperty("spec").GetString());
        Assert.Equal("convolution", conv1.GetProperty("kind").GetString());
        Assert.Equal(20, conv1.GetProperty("output").GetProperty("height").GetInt32());
        Assert.Equal(16, conv1.GetProperty("output").GetProperty("depth").GetInt32());
        Assert.Equal(257, conv1.GetProperty("weightsPerNeuron").GetInt64());
        Assert.Equal(6_400, conv1.GetProperty("neurons").GetInt64());
        Assert.Equal(1_644_800, conv1.GetProperty("connections").GetInt64());
        Assert.Equal(4_112, conv1.GetProperty("parameters").GetInt64());

        JsonElement layers = root.GetProperty("layers");
        Assert.Equal(4, layers.GetArrayLength());
        Assert.Equal("fullyConnected", layers[3].GetProperty("kind").GetString());
        Assert.Equal(4_626, layers[3].GetProperty("parameters").GetInt64());
        Assert.Equal(18, root.GetProperty("output").GetProperty("depth").GetInt32());

        JsonElement totals = root.GetProperty("totals");
        Assert.Equal(["neurons", "connections", "parameters"], Names(totals));
        Assert.Equal(9_266, totals.GetProperty("neurons").GetInt64());
        Assert.Equal(2_979_378, totals.GetProperty("connections").GetInt64());
        Assert.Equal(680_770, totals.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Format_ZeilerJson_AddsMinimumOnlyWhereWeightsVary()
    {
        using JsonDocument document = JsonDocument.Parse(SummaryJson.Format(NetworkPresets.Zeiler.Describe()));
        JsonElement layers = document.RootElement.GetProperty("layers");

        Assert.False(layers[0].TryGetProperty("weightsPerNeuronMin", out _));
        Assert.Equal("deconvolutional", layers[1].GetProperty("kind").GetString());
        Assert.Equal(98, layers[1].GetProperty("weightsPerNeuron").GetInt64());
        Assert.Equal(49, layers[1].GetProperty("weightsPerNeuronMin").GetInt64());
        Assert.Equal(3_969, layers[1].GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Format_DcganJson_NamesTransposedKind()
    {
        using JsonDocument document = JsonDocument.Parse(SummaryJson.Format(NetworkPresets.Dcgan.Describe()));

        Assert.Equal("transposedConvolution", document.RootElement.GetProperty("layers")[0].GetProperty("kind").GetString());
        Assert.Equal(64, document.RootElement.GetProperty("output").GetProperty("width").GetInt32());
    }

    private static string[] Cells(string line) =>
        line.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] Names(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToArray();
}
