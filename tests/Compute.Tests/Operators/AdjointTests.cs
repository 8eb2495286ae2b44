using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Compute.Tests.Reference;

namespace Distributed.Compute.Tests.Operators;

/// <summary>Dot-product tests: each operator pair satisfies ⟨A x, y⟩ = ⟨x, Aᵀ y⟩, summed in double here.</summary>
public class AdjointTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<int, int, int, int> Cases() => LayerCases.Sparse();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adjoint_ValidBoundarySparseConnectivity_IsTransposeOfSynthesize(int h, int w, int s, int layout) =>
        AssertMapSideAdjoint(h, w, s, layout, Boundary.Valid);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adjoint_CircularBoundarySparseConnectivity_IsTransposeOfSynthesize(int h, int w, int s, int layout) =>
        AssertMapSideAdjoint(h, w, s, layout, Boundary.Circular);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_ValidBoundarySparseConnectivity_IsTransposeOfFilterSide(int h, int w, int s, int layout) =>
        AssertFilterSideAdjoint(h, w, s, layout, Boundary.Valid);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FilterGradient_CircularBoundarySparseConnectivity_IsTransposeOfFilterSide(int h, int w, int s, int layout) =>
        AssertFilterSideAdjoint(h, w, s, layout, Boundary.Circular);

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(5, 7, 2)]
    [InlineData(3, 3, 6)]   // margin wider than the map: the pad wraps more than once
    [InlineData(16, 9, 10)]
    public void FoldWrapPadding_AnyMargin_IsTransposeOfWrapPad(int h, int w, int margin)
    {
        Tensor3 z = TestData.Random(2, h, w, seed: 31);
        Tensor3 p = TestData.Random(2, h + margin, w + margin, seed: 32);
        var padded = new Tensor3(2, h + margin, w + margin);
        var folded = new Tensor3(2, h, w);
        LayerOperator.WrapPad(z, padded, margin);
        LayerOperator.FoldWrapPadding(p, folded, margin);
        TestData.AssertRelative(TestData.Dot(padded.Data, p.Data), TestData.Dot(z.Data, folded.Data), Tolerance, "⟨pad z, p⟩ vs ⟨z, fold p⟩");
    }

    /// <summary>r += F z: keeps ⟨F z, r⟩ well away from zero, so the relative error measures the operators, not cancellation.</summary>
    private static void AddInto(Tensor3 fz, Tensor3 r)
    {
        for (int i = 0; i < r.Length; i++) r.Data[i] += fz.Data[i];
    }

    private static void AssertMapSideAdjoint(int h, int w, int s, int layout, Boundary boundary)
    {
        var (op, z, f, r) = LayerOperatorTests.Setup(h, w, s, layout, boundary, seed: 41);
        Tensor3 fz = op.Geometry.NewImage();
        Tensor3 ftr = op.Geometry.NewMaps();
        op.Synthesize(z, f, fz);
        AddInto(fz, r);
        op.Adjoint(r, f, ftr);
        TestData.AssertRelative(TestData.Dot(fz.Data, r.Data), TestData.Dot(z.Data, ftr.Data), Tolerance,
            $"⟨F z, r⟩ vs ⟨z, Fᵀ r⟩, {boundary} {h}×{w} s={s} layout {layout}");
    }

    private static void AssertFilterSideAdjoint(int h, int w, int s, int layout, Boundary boundary)
    {
        var (op, z, f, r) = LayerOperatorTests.Setup(h, w, s, layout, boundary, seed: 42);
        Tensor3 fz = op.Geometry.NewImage();
        FilterBank gradient = op.Geometry.NewFilters();
        op.Synthesize(z, f, fz); // F(z) f: the same product seen as linear in f
        AddInto(fz, r);
        op.FilterGradient(z, r, gradient);
        TestData.AssertRelative(TestData.Dot(fz.Data, r.Data), TestData.Dot(f.Data, gradient.Data), Tolerance,
            $"⟨F(z) f, r⟩ vs ⟨f, ∇_f⟩, {boundary} {h}×{w} s={s} layout {layout}");
    }
}
