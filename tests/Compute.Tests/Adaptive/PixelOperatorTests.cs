using Distributed.Compute.Adaptive;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;

namespace Distributed.Compute.Tests.Adaptive;

/// <summary>R_l = F_1 U_1 … F_l: dot-product adjoint tests and finite-difference gradients through fixed switches.</summary>
public class PixelOperatorTests
{
    public static TheoryData<Boundary, int> Cases => new()
    {
        { Boundary.Valid, 1 }, { Boundary.Valid, 2 }, { Boundary.Valid, 3 }, { Boundary.Circular, 2 }, { Boundary.Circular, 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adjoint_RandomFiltersAndSwitches_PassesTheDotProductTest(Boundary boundary, int depth)
    {
        PixelOperator op = AdaptiveCases.Operator(boundary, depth);
        FilterBank[] f = AdaptiveCases.Filters(op, 100);
        int[]?[] s = AdaptiveCases.Switches(op, 101);
        LayerGeometry top = op.Top, bottom = op.Bottom;
        Tensor3 z = Synthetic.Random(top.Maps, top.MapRows, top.MapCols, 102);
        Tensor3 r = Synthetic.Random(bottom.Inputs, bottom.Rows, bottom.Cols, 103);
        Tensor3 rz = op.NewImage(), rtr = op.NewMaps();
        op.Synthesize(z, f, s, rz);
        op.Adjoint(r, f, s, rtr);
        double left = Synthetic.Dot(rz.Data, r.Data), right = Synthetic.Dot(z.Data, rtr.Data);
        Assert.True(Math.Abs(left - right) <= 1e-4 * (Math.Abs(left) + Synthetic.Norm(rz.Data) * Synthetic.Norm(r.Data) * 1e-2),
            $"{boundary}, {depth} layers: ⟨R z, r⟩ = {left}, ⟨z, Rᵀ r⟩ = {right}.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_RandomDirection_IsTheAdjointOfTheTopFiltersMap(Boundary boundary, int depth)
    {
        // J d = R_l(f_l := d) z is linear in d; FilterGradient must be Jᵀ.
        PixelOperator op = AdaptiveCases.Operator(boundary, depth);
        FilterBank[] f = AdaptiveCases.Filters(op, 110);
        FilterBank[] d = AdaptiveCases.Filters(op, 120);
        FilterBank[] withD = [.. f[..^1], d[^1]];
        int[]?[] s = AdaptiveCases.Switches(op, 111);
        LayerGeometry top = op.Top, bottom = op.Bottom;
        Tensor3 z = Synthetic.Random(top.Maps, top.MapRows, top.MapCols, 112);
        Tensor3 r = Synthetic.Random(bottom.Inputs, bottom.Rows, bottom.Cols, 113);
        Tensor3 jd = op.NewImage();
        op.Synthesize(z, withD, s, jd);
        FilterBank jtr = top.NewFilters();
        op.FilterGradient(z, r, f, s, jtr);
        double left = Synthetic.Dot(jd.Data, r.Data), right = Synthetic.Dot(d[^1].Data, jtr.Data);
        Assert.True(Math.Abs(left - right) <= 1e-4 * (Math.Abs(left) + Synthetic.Norm(jd.Data) * Synthetic.Norm(r.Data) * 1e-2),
            $"{boundary}, {depth} layers: ⟨J d, r⟩ = {left}, ⟨d, Jᵀ r⟩ = {right}.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DataTermGradient_InZ_MatchesFiniteDifferencesThroughPooling(Boundary boundary, int depth)
    {
        var (op, f, s, y, z) = Problem(boundary, depth, 200);
        Tensor3 r = op.NewImage(), grad = op.NewMaps();
        op.Synthesize(z, f, s, r);
        for (int i = 0; i < r.Length; i++) r.Data[i] -= y.Data[i];
        op.Adjoint(r, f, s, grad);
        var rng = new Random(7);
        for (int trial = 0; trial < 16; trial++)
        {
            int i = rng.Next(z.Length);
            double numeric = CentralDifference(z.Data, i, () => DataTerm(op, f, s, y, z));
            Assert.True(Math.Abs(numeric - grad.Data[i]) <= 2e-3 * (1 + Math.Abs(numeric)),
                $"{boundary}, {depth} layers: z[{i}] analytic {grad.Data[i]}, numeric {numeric}.");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DataTermGradient_InTopFilters_MatchesFiniteDifferencesThroughPooling(Boundary boundary, int depth)
    {
        var (op, f, s, y, z) = Problem(boundary, depth, 300);
        Tensor3 r = op.NewImage();
        op.Synthesize(z, f, s, r);
        for (int i = 0; i < r.Length; i++) r.Data[i] -= y.Data[i];
        FilterBank grad = op.Top.NewFilters();
        op.FilterGradient(z, r, f, s, grad);
        FilterBank top = f[^1];
        int checkedEntries = 0;
        for (int i = 0; i < top.Data.Length; i++)
        {
            int k = i / (top.Inputs * top.PlaneLength), c = i / top.PlaneLength % top.Inputs;
            if (!op.Layers[^1].Connectivity[k, c])
            {
                Assert.Equal(0f, grad.Data[i]);
                continue;
            }
            double numeric = CentralDifference(top.Data, i, () => DataTerm(op, f, s, y, z));
            Assert.True(Math.Abs(numeric - grad.Data[i]) <= 2e-3 * (1 + Math.Abs(numeric)),
                $"{boundary}, {depth} layers: f_l[{i}] analytic {grad.Data[i]}, numeric {numeric}.");
            checkedEntries++;
        }
        Assert.True(checkedEntries > 0);
    }

    [Fact]
    public void Synthesize_OneLayer_EqualsTheLayerOperator()
    {
        PixelOperator op = AdaptiveCases.Operator(Boundary.Valid, 1);
        FilterBank[] f = AdaptiveCases.Filters(op, 400);
        Tensor3 z = Synthetic.Random(op.Top.Maps, op.Top.MapRows, op.Top.MapCols, 401);
        Tensor3 a = op.NewImage(), b = op.NewImage();
        op.Synthesize(z, f, [], a);
        op.Layers[0].Synthesize(z, f[0], b);
        Assert.Equal(b.Data, a.Data);
    }

    [Fact]
    public void Synthesize_MissingSwitchesForAPooledLayer_Throws()
    {
        PixelOperator op = AdaptiveCases.Operator(Boundary.Valid, 2);
        FilterBank[] f = AdaptiveCases.Filters(op, 500);
        Assert.Throws<ArgumentException>(() => op.Synthesize(op.NewMaps(), f, [null], op.NewImage()));
    }

    private static (PixelOperator, FilterBank[], int[]?[], Tensor3, Tensor3) Problem(Boundary boundary, int depth, int seed)
    {
        PixelOperator op = AdaptiveCases.Operator(boundary, depth);
        FilterBank[] f = AdaptiveCases.Filters(op, seed);
        int[]?[] s = AdaptiveCases.Switches(op, seed + 1);
        Tensor3 y = Synthetic.Random(op.Bottom.Inputs, op.Bottom.Rows, op.Bottom.Cols, seed + 2);
        Tensor3 z = Synthetic.Random(op.Top.Maps, op.Top.MapRows, op.Top.MapCols, seed + 3, 0.5);
        return (op, f, s, y, z);
    }

    private static double DataTerm(PixelOperator op, FilterBank[] f, int[]?[] s, Tensor3 y, Tensor3 z)
    {
        Tensor3 r = op.NewImage();
        op.Synthesize(z, f, s, r);
        double sum = 0;
        for (int i = 0; i < r.Length; i++) sum += ((double)r.Data[i] - y.Data[i]) * ((double)r.Data[i] - y.Data[i]);
        return sum / 2;
    }

    private static double CentralDifference(float[] x, int i, Func<double> f)
    {
        const float h = 1e-2f;   // the data term is quadratic in z and in f_l: central differences are exact up to rounding
        float keep = x[i];
        x[i] = keep + h;
        double plus = f();
        x[i] = keep - h;
        double minus = f();
        x[i] = keep;
        return (plus - minus) / (2 * h);
    }
}
