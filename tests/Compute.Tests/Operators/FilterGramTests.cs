using Distributed.Compute.Learning;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;

namespace Distributed.Compute.Tests.Operators;

public class FilterGramTests
{
    [Theory]
    [InlineData(5, 1, 3, 11, 13)]   // K not a multiple of 8: padded runs
    [InlineData(9, 3, 4, 9, 10)]    // several planes, sparse connectivity, maps of exactly 2s−1 rows
    [InlineData(8, 1, 8, 16, 15)]
    public void FilterGram_EveryShift_EqualsInnerProductOfSynthesizedAtoms(int maps, int inputs, int s, int rows, int cols)
    {
        // G[k, δ, k'] must be ⟨F e_{k,p}, F e_{k',p+δ}⟩, measured by synthesizing single-coefficient maps with the operator,
        // at a p near the corner so that the atoms wrap around the torus.
        Connectivity g = inputs == 1 ? Connectivity.Full(maps, 1) : Connectivity.RandomDoubles(maps, inputs, 7);
        var f = FilterInitializer.Gaussian(g, s, 11);
        var geometry = new LayerGeometry(inputs, maps, s, rows, cols, Boundary.Circular);
        var op = new LayerOperator(geometry, g);
        var gram = new FilterGram(f, g);
        Assert.Equal(FilterGram.PadMaps(maps), gram.PaddedMaps);
        (int pr, int pc) = (rows - 2, 1);
        var atoms = new Tensor3[maps, rows, cols];
        Tensor3 Atom(int k, int i, int j)
        {
            if (atoms[k, i, j] is { } done) return done;
            var z = geometry.NewMaps();
            z[k, i, j] = 1;
            var image = geometry.NewImage();
            op.Synthesize(z, f, image);
            return atoms[k, i, j] = image;
        }
        int m = s - 1;
        double worst = 0;
        for (int k = 0; k < maps; k++)
            for (int k2 = 0; k2 < maps; k2++)
                for (int dr = -m; dr <= m; dr++)
                    for (int dc = -m; dc <= m; dc++)
                    {
                        double expected = Synthetic.Dot(Atom(k, pr, pc).Data, Atom(k2, Mod(pr + dr, rows), Mod(pc + dc, cols)).Data);
                        double actual = gram.Row(k, dr, dc)[k2];
                        worst = Math.Max(worst, Math.Abs(actual - expected));
                    }
        Assert.True(worst < 1e-4, $"largest difference {worst:E2}.");
        for (int k = 0; k < maps; k++)
        {
            Assert.Equal(Synthetic.Dot(Atom(k, pr, pc).Data, Atom(k, pr, pc).Data), gram.Norms[k], 4);
            for (int pad = maps; pad < gram.PaddedMaps; pad++) Assert.Equal(0f, gram.Row(k, 0, 0)[pad]);
        }
    }

    [Fact]
    public void FilterGram_ShiftOutsideTheStencil_IsRejected()
    {
        var g = Connectivity.Full(2, 1);
        var gram = new FilterGram(FilterInitializer.Gaussian(g, 3, 1), g);
        Assert.Throws<ArgumentOutOfRangeException>(() => gram.Row(0, 3, 0).ToArray());
    }

    private static int Mod(int a, int n) => ((a % n) + n) % n;
}
