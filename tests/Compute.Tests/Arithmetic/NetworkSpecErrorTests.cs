using Distributed.Compute.Arithmetic;

namespace Distributed.Compute.Tests.Arithmetic;

/// <summary>Every way a description can be wrong: the message must name the layer (index and text) and the numbers.</summary>
public class NetworkSpecErrorTests
{
    [Theory]
    // Filter larger than its input (conv2 sees 20×20).
    [InlineData("conv:16:8x8/4,conv:32:40x4/2", 2, "conv:32:40x4/2", new[] { "M = 40", "J = 20", "width" })]
    [InlineData("conv:16:8x8/4,conv:32:4x24/2", 2, "conv:32:4x24/2", new[] { "M = 24", "J = 20", "height" })]
    [InlineData("conv:4:90x90/1", 1, "conv:4:90x90/1", new[] { "M = 90", "J = 84" })]
    [InlineData("conv:16:8x8/4,dn:9:21", 2, "dn:9:21", new[] { "21×21", "20×20" })]
    // A stride that does not divide J + 2P − M.
    [InlineData("conv:16:8x8/3", 1, "conv:16:8x8/3", new[] { "s = 3", "84 + 0 − 8 = 76", "26.333" })]
    [InlineData("conv:16:8x8/4,conv:32:3x3/2/p1", 2, "conv:32:3x3/2/p1", new[] { "s = 2", "20 + 2 − 3 = 19" })]
    // Zero or negative sizes.
    [InlineData("conv:0:8x8/4", 1, "conv:0:8x8/4", new[] { "maps K", "got 0" })]
    [InlineData("conv:16:-8x8/4", 1, "conv:16:-8x8/4", new[] { "filter width M", "got -8" })]
    [InlineData("conv:16:8x0/4", 1, "conv:16:8x0/4", new[] { "filter height N", "got 0" })]
    [InlineData("conv:16:8x8/0", 1, "conv:16:8x8/0", new[] { "stride s", "got 0" })]
    [InlineData("conv:16:8x8/4/p-1", 1, "conv:16:8x8/4/p-1", new[] { "padding P", "got -1" })]
    [InlineData("fc:256,fc:0", 2, "fc:0", new[] { "neurons N", "got 0" })]
    [InlineData("fc:-5", 1, "fc:-5", new[] { "neurons N", "got -5" })]
    [InlineData("dn:0:7", 1, "dn:0:7", new[] { "maps K", "got 0" })]
    [InlineData("dn:9:-7", 1, "dn:9:-7", new[] { "filter size s", "got -7" })]
    [InlineData("deconv:8:3x3/1/o-1", 1, "deconv:8:3x3/1/o-1", new[] { "output padding Q", "got -1" })]
    // Padding that would leave neurons seeing nothing but padding.
    [InlineData("conv:16:3x3/1/p3", 1, "conv:16:3x3/1/p3", new[] { "P = 3", "3×3" })]
    [InlineData("conv:16:3x1/1/p1", 1, "conv:16:3x1/1/p1", new[] { "P = 1", "3×1" })]
    [InlineData("deconv:16:2x2/2/p2", 1, "deconv:16:2x2/2/p2", new[] { "P = 2", "2×2" })]
    // Transposed convolution sizes.
    [InlineData("fc:5,deconv:3:3x3/1/p2", 2, "deconv:3:3x3/1/p2", new[] { "1·0 + 3 − 4 + 0 = -1", "not positive" })]
    [InlineData("deconv:3:5x5/2/p2/o2", 1, "deconv:3:5x5/2/p2/o2", new[] { "Q = 2", "s = 2" })]
    // Singles and all doubles needs C + C(C−1)/2 maps.
    [InlineData("dn:9:7,dn:40:7:sad", 2, "dn:40:7:sad", new[] { "C = 9", "9 + 36 = 45", "K = 40" })]
    // Unparseable text.
    [InlineData("conv:16:8x/4", 1, "conv:16:8x/4", new[] { "filter height N ''", "conv:K:MxN/s[/pP]" })]
    [InlineData("conv:16:8x8", 1, "conv:16:8x8", new[] { "cannot parse", "conv:K:MxN/s[/pP]" })]
    [InlineData("conv:16", 1, "conv:16", new[] { "cannot parse" })]
    [InlineData("conv:16:8*8/4", 1, "conv:16:8*8/4", new[] { "cannot parse" })]
    [InlineData("conv:16:8x8/4/q2", 1, "conv:16:8x8/4/q2", new[] { "cannot parse" })]
    [InlineData("conv:16:8x8/4/o1", 1, "conv:16:8x8/4/o1", new[] { "cannot parse" })]
    [InlineData("conv:16:8x8/4/p1/p1", 1, "conv:16:8x8/4/p1/p1", new[] { "cannot parse" })]
    [InlineData("conv:x:8x8/4", 1, "conv:x:8x8/4", new[] { "maps K 'x'", "not an integer" })]
    [InlineData("fc:256,fc:abc", 2, "fc:abc", new[] { "neurons N 'abc'", "fc:N" })]
    [InlineData("fc:1:2", 1, "fc:1:2", new[] { "cannot parse", "fc:N" })]
    [InlineData("dn:9:7:xyz", 1, "dn:9:7:xyz", new[] { "'xyz'", "full", "sad" })]
    [InlineData("pool:2", 1, "pool:2", new[] { "unknown layer kind 'pool'" })]
    [InlineData("fc:10,,fc:2", 2, "", new[] { "empty layer" })]
    public void Describe_BadLayer_NamesLayerAndNumbers(string layers, int index, string text, string[] fragments)
    {
        var error = Assert.Throws<NetworkSpecException>(() => NetworkSummary.Describe("84x84x4", [layers]));

        Assert.Equal(index, error.LayerIndex);
        Assert.Equal(text, error.LayerText);
        Assert.StartsWith($"layer {index} '{text}': ", error.Message);
        foreach (string fragment in fragments) Assert.Contains(fragment, error.Message);
    }

    [Theory]
    [InlineData("84x84x0", new[] { "depth", "got 0" })]
    [InlineData("-3x84x4", new[] { "width", "got -3" })]
    [InlineData("84", new[] { "WxHxD" })]
    [InlineData("84x84x4x2", new[] { "WxHxD" })]
    [InlineData("84xbx4", new[] { "height 'b'" })]
    public void Describe_BadInput_NamesInputAndNumbers(string input, string[] fragments)
    {
        var error = Assert.Throws<NetworkSpecException>(() => NetworkSummary.Describe(input, ["fc:10"]));

        Assert.Null(error.LayerIndex);
        Assert.StartsWith($"input '{input}': ", error.Message);
        foreach (string fragment in fragments) Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void Describe_NoLayers_Throws()
    {
        var error = Assert.Throws<NetworkSpecException>(() => NetworkSummary.Describe("84x84x4", []));

        Assert.Contains("no layers", error.Message);
    }

    [Fact]
    public void Describe_CountsBeyond64Bits_ThrowsNamingLayer()
    {
        var error = Assert.Throws<NetworkSpecException>(() =>
            NetworkSummary.Describe("46341x46341x1000", ["fc:2000000000"]));

        Assert.Equal(1, error.LayerIndex);
        Assert.Contains("overflow", error.Message);
        Assert.Contains("46341×46341×1000", error.Message);
    }

    [Fact]
    public void Find_UnknownPreset_ListsKnownOnes()
    {
        var error = Assert.Throws<NetworkSpecException>(() => NetworkPresets.Find("alexnet"));

        Assert.Contains("'alexnet'", error.Message);
        Assert.Contains("dqn, dcgan, zeiler", error.Message);
    }

    [Fact]
    public void Find_AnyCase_ReturnsPreset()
    {
        Assert.Same(NetworkPresets.Dcgan, NetworkPresets.Find(" DCGAN "));
    }
}
