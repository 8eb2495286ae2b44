using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Fixtures;

namespace Distributed.Compute.Tests.Inference;

/// <summary>Finite-difference checks of the data term D = λ/2 ‖F(f) z − y‖² in z and in f.</summary>
public class GradientTests
{
    public static TheoryData<Boundary, bool> Cases => new()
    {
        { Boundary.Valid, false }, { Boundary.Valid, true }, { Boundary.Circular, false }, { Boundary.Circular, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DataTermGradient_InZ_MatchesFiniteDifferences(Boundary boundary, bool sparse)
    {
        var (op, f, y, z) = Problem(boundary, sparse);
        const double lambda = 1.7;
        // ∇_z D = λ Fᵀ(F z − y)
        var r = op.Geometry.NewImage();
        op.Synthesize(z, f, r);
        for (int i = 0; i < r.Length; i++) r.Data[i] -= y.Data[i];
        var grad = op.Geometry.NewMaps();
        op.Adjoint(r, f, grad);
        var rng = new Random(5);
        for (int trial = 0; trial < 12; trial++)
        {
            int i = rng.Next(z.Length);
            double numeric = CentralDifference(z.Data, i, () => DataTerm(op, f, y, z, lambda));
            Assert.True(Math.Abs(numeric - lambda * grad.Data[i]) <= 2e-3 * (1 + Math.Abs(numeric)),
                $"{boundary}, sparse={sparse}: z[{i}] analytic {lambda * grad.Data[i]}, numeric {numeric}.");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DataTermGradient_InF_MatchesFiniteDifferences(Boundary boundary, bool sparse)
    {
        var (op, f, y, z) = Problem(boundary, sparse);
        const double lambda = 0.6;
        var r = op.Geometry.NewImage();
        op.Synthesize(z, f, r);
        for (int i = 0; i < r.Length; i++) r.Data[i] -= y.Data[i];
        var grad = op.Geometry.NewFilters();
        op.FilterGradient(z, r, grad);
        for (int i = 0; i < f.Data.Length; i++)
        {
            int k = i / (f.Inputs * f.PlaneLength), c = i / f.PlaneLength % f.Inputs;
            if (!op.Connectivity[k, c])
            {
                Assert.Equal(0f, grad.Data[i]);
                continue;
            }
            double numeric = CentralDifference(f.Data, i, () => DataTerm(op, f, y, z, lambda));
            Assert.True(Math.Abs(numeric - lambda * grad.Data[i]) <= 2e-3 * (1 + Math.Abs(numeric)),
                $"{boundary}, sparse={sparse}: f[{i}] analytic {lambda * grad.Data[i]}, numeric {numeric}.");
        }
    }

    private static (LayerOperator, FilterBank, Tensor3, Tensor3) Problem(Boundary boundary, bool sparse)
    {
        int inputs = 3, maps = sparse ? 6 : 4, s = 3;
        var geometry = new LayerGeometry(inputs, maps, s, 7, 6, boundary);
        Connectivity g = sparse ? Connectivity.SinglesAndAllDoubles(inputs) : Connectivity.Full(maps, inputs);
        var op = new LayerOperator(geometry, g);
        var f = geometry.NewFilters();
        Synthetic.Random(1, 1, f.Data.Length, 11).Data.CopyTo(f.Data, 0);
        return (op, f, Synthetic.Random(inputs, 7, 6, 12), Synthetic.Random(maps, geometry.MapRows, geometry.MapCols, 13, 0.5));
    }

    private static double DataTerm(LayerOperator op, FilterBank f, Tensor3 y, Tensor3 z, double lambda)
    {
        var r = op.Geometry.NewImage();
        op.Synthesize(z, f, r);
        double sum = 0;
        for (int i = 0; i < r.Length; i++) sum += ((double)r.Data[i] - y.Data[i]) * ((double)r.Data[i] - y.Data[i]);
        return lambda / 2 * sum;
    }

    private static double CentralDifference(float[] x, int i, Func<double> f)
    {
        const float h = 1e-2f;   // D is quadratic: the central difference is exact up to float rounding
        float keep = x[i];
        x[i] = keep + h;
        double plus = f();
        x[i] = keep - h;
        double minus = f();
        x[i] = keep;
        return (plus - minus) / (2 * h);
    }
}
