using Distributed.Compute.Tests.Adaptive;
using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;
using Distributed.Compute.Training;

namespace Distributed.Compute.Tests.Training;

public class FeatureProjectionTests
{
    private const int S1 = 3, S2 = 4, P = 3, Size = 40;

    /// <summary>Layer 1: 4 maps 3×3 over one grey plane, pooled 3x3x2; layer 2: 3 maps 4×4 over the 2 pooled planes.</summary>
    private static TrainingSpec Spec(Boundary boundary = Boundary.Valid) => new()
    {
        Model = NetworkModel.Adaptive,
        Solver = InferenceSolver.Fista,
        Boundary = boundary,
        Layers =
        [
            new LayerSpec { Maps = 4, FilterSize = S1, P = 1, Pool = new PoolSize(P, P, 2) },
            new LayerSpec { Maps = 3, FilterSize = S2, P = 1 },
        ],
    };

    /// <summary>Strictly positive filters: projections of a positive unit cannot cancel, so support = reach.</summary>
    private static FrozenLayer[] PositiveModel(TrainingSpec spec)
    {
        var f1 = new FilterBank(4, 1, S1);
        var f2 = new FilterBank(3, 2, S2);
        var rng = new Random(5);
        for (int i = 0; i < f1.Data.Length; i++) f1.Data[i] = 0.1f + (float)rng.NextDouble();
        for (int i = 0; i < f2.Data.Length; i++) f2.Data[i] = 0.1f + (float)rng.NextDouble();
        return [new FrozenLayer(f1, 2f), new FrozenLayer(f2, 2f)];
    }

    [Fact]
    public void Project_Layer2UnitWithAlignedSwitches_SpansExactlyS2MinusOneTimesPPlusS1()
    {
        TrainingSpec spec = Spec();
        var projection = new FeatureProjection(spec, PositiveModel(spec), 1, 1, Size, Size);
        MaxPool3D pool = projection.Operator.Pools[0]!;
        // Every switch at the same offset (row 1, col 2, map 0) of its block; edge blocks are clamped inside.
        int[] s = pool.NewSwitches();
        for (int c = 0; c < s.Length; c++)
        {
            var (k0, _, i0, i1, j0, j1) = pool.Bounds(c);
            s[c] = (k0 * pool.Rows + Math.Min(i0 + 1, i1 - 1)) * pool.Cols + Math.Min(j0 + 2, j1 - 1);
        }
        var unit = new Activation(0, 1, 8, 7, 1.5f);
        Tensor3 pixels = projection.Project(unit, [new PoolSwitches(pool.Size, pool.Maps, pool.Rows, pool.Cols, s)]);
        var (rows, cols) = SupportBox(pixels);
        Assert.Equal((S2 - 1) * P + S1, rows);   // 3·3 + 3 = 12
        Assert.Equal((S2 - 1) * P + S1, cols);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Project_Layer2UnitWithRandomSwitches_TouchesExactlyTheDilatedSwitchPositions(int seed)
    {
        TrainingSpec spec = Spec();
        FrozenLayer[] model = PositiveModel(spec);
        var projection = new FeatureProjection(spec, model, 1, 1, Size, Size);
        int[]?[] switches = AdaptiveCases.Switches(projection.Operator, seed);
        MaxPool3D pool = projection.Operator.Pools[0]!;
        var unit = new Activation(0, 2, 9, 10, 1);
        Tensor3 pixels = projection.Project(unit, [new PoolSwitches(pool.Size, pool.Maps, pool.Rows, pool.Cols, switches[0]!)]);

        // Independent arithmetic: the unit at (m, n) of z2 writes pooled cells (m−S2+1 … m, n−S2+1 … n) of every plane
        // its map connects to; each cell lands on its switch (k, i, j) in z1, which paints pixels (i−S1+1 … i, j−S1+1 … j).
        var expected = new bool[Size, Size];
        Connectivity g = spec.ConnectivityFor(1, pool.PooledMaps);
        for (int c = 0; c < pool.PooledMaps; c++)
        {
            if (!g[unit.Map, c]) continue;
            for (int pi = unit.Row - S2 + 1; pi <= unit.Row; pi++)
                for (int pj = unit.Col - S2 + 1; pj <= unit.Col; pj++)
                {
                    int q = switches[0]![(c * pool.PooledRows + pi) * pool.PooledCols + pj];
                    int i = q / pool.Cols % pool.Rows, j = q % pool.Cols;
                    for (int a = i - S1 + 1; a <= i; a++)
                        for (int b = j - S1 + 1; b <= j; b++)
                            if (a >= 0 && a < Size && b >= 0 && b < Size) expected[a, b] = true;
                }
        }
        PixelWindow window = FeatureProjection.Window(spec, 1, unit.Row, unit.Col);
        Assert.Equal(S2 * P + S1 - 1, window.Rows);
        Assert.Equal(S2 * P + S1 - 1, window.Cols);
        int touched = 0;
        for (int a = 0; a < Size; a++)
            for (int b = 0; b < Size; b++)
            {
                bool nonzero = pixels[0, a, b] != 0;
                Assert.True(expected[a, b] == nonzero, $"pixel ({a}, {b}): expected {(expected[a, b] ? "inside" : "outside")} the footprint.");
                if (!nonzero) continue;
                touched++;
                Assert.InRange(a, window.Row, window.Row + window.Rows - 1);
                Assert.InRange(b, window.Col, window.Col + window.Cols - 1);
            }
        Assert.True(touched >= S1 * S1);
    }

    [Fact]
    public void Window_TwoLayersWithoutPooling_IsS1PlusS2MinusOne()
    {
        var spec = new TrainingSpec { Layers = [new LayerSpec { FilterSize = 7 }, new LayerSpec { FilterSize = 5, Maps = 45, Connectivity = ConnectivityKind.SinglesAndAllDoubles }] };
        Assert.Equal((11, 11), FeatureProjection.Extent(spec, 1));
        Assert.Equal(new PixelWindow(20 - 10, 30 - 10, 11, 11), FeatureProjection.Window(spec, 1, 20, 30));
        var circular = spec with { Boundary = Boundary.Circular };
        Assert.Equal(new PixelWindow(20, 30, 11, 11), FeatureProjection.Window(circular, 1, 20, 30));
    }

    [Fact]
    public void ProjectFilter_Layer1_IsTheFilterItself()
    {
        TrainingSpec spec = Spec();
        FrozenLayer[] model = PositiveModel(spec);
        Tensor3 projected = FeatureProjection.ProjectFilter(spec, model, 0, 1, 2);
        Assert.Equal(new[] { 1, S1, S1 }, new[] { projected.Planes, projected.Rows, projected.Cols });
        for (int u = 0; u < S1; u++)
            for (int v = 0; v < S1; v++)
                Assert.Equal(model[0].Filters[2, 0, u, v] / model[0].InputScale, projected[0, u, v], 5);
    }

    [Fact]
    public void ProjectFilter_Layer2_FillsItsFootprintWithTheMeanOverSwitches()
    {
        TrainingSpec spec = Spec();
        Tensor3 projected = FeatureProjection.ProjectFilter(spec, PositiveModel(spec), 1, 1, 0);
        Assert.Equal(S2 * P + S1 - 1, projected.Rows);
        // Mean unpooling spreads every pooled value over its whole block, so the footprint is completely covered.
        Assert.All(projected.Data, v => Assert.True(v > 0));
    }

    [Fact]
    public void Strongest_SeveralImages_ReturnsTheLargestMagnitudesInOrder()
    {
        var a = new Tensor3(2, 3, 3);
        var b = new Tensor3(2, 3, 3);
        a[1, 0, 0] = 0.5f;
        a[1, 2, 1] = -4f;
        b[1, 1, 1] = 3f;
        b[1, 0, 2] = -0.5f;
        b[0, 0, 0] = 100f;   // another map: ignored
        IReadOnlyList<Activation> top = FeatureProjection.Strongest([(0, a), (1, b)], 1, 3);
        Assert.Equal(
            [new Activation(0, 1, 2, 1, -4f), new Activation(1, 1, 1, 1, 3f), new Activation(0, 1, 0, 0, 0.5f)],
            top);
        Assert.Equal(4, FeatureProjection.Strongest([(0, a), (1, b)], 1, 10).Count);   // zeros never count
    }

    [Fact]
    public void Crop_CircularWindowPastTheEdge_WrapsAround()
    {
        Tensor3 x = Synthetic.Random(1, 5, 6, 3);
        Tensor3 crop = FeatureProjection.Crop(x, new PixelWindow(4, 5, 3, 3), Boundary.Circular);
        Assert.Equal(x[0, 0, 0], crop[0, 1, 1]);
        Assert.Equal(x[0, 4, 5], crop[0, 0, 0]);
        Tensor3 valid = FeatureProjection.Crop(x, new PixelWindow(4, 5, 3, 3), Boundary.Valid);
        Assert.Equal(x[0, 4, 5], valid[0, 0, 0]);
        Assert.Equal(0f, valid[0, 1, 1]);
    }

    private static (int Rows, int Cols) SupportBox(Tensor3 pixels)
    {
        int r0 = int.MaxValue, r1 = -1, c0 = int.MaxValue, c1 = -1;
        for (int i = 0; i < pixels.Rows; i++)
            for (int j = 0; j < pixels.Cols; j++)
                if (pixels[0, i, j] != 0)
                {
                    (r0, r1) = (Math.Min(r0, i), Math.Max(r1, i));
                    (c0, c1) = (Math.Min(c0, j), Math.Max(c1, j));
                }
        return (r1 - r0 + 1, c1 - c0 + 1);
    }
}
