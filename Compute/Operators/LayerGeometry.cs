using Distributed.Compute.Tensors;

namespace Distributed.Compute.Operators;

/// <summary>
/// The shapes of one layer applied to one input size: input y is [C, H, W]; maps z are [K, H+s−1, W+s−1] (valid) or
/// [K, H, W] (circular); filters f are [K, C, s, s]. Every operator checks its arguments against one of these.
/// </summary>
public sealed record LayerGeometry(int Inputs, int Maps, int FilterSize, int Rows, int Cols, Boundary Boundary)
{
    public int MapRows => Boundary == Boundary.Valid ? Rows + FilterSize - 1 : Rows;
    public int MapCols => Boundary == Boundary.Valid ? Cols + FilterSize - 1 : Cols;

    public static LayerGeometry For(Tensor3 y, FilterBank f, Boundary boundary) =>
        new(f.Inputs, f.Maps, f.FilterSizeChecked(y), y.Rows, y.Cols, boundary);

    public Tensor3 NewMaps() => new(Maps, MapRows, MapCols);
    public Tensor3 NewImage() => new(Inputs, Rows, Cols);
    public FilterBank NewFilters() => new(Maps, Inputs, FilterSize);

    public void CheckImage(Tensor3 y, string name)
    {
        if (y.Planes != Inputs || y.Rows != Rows || y.Cols != Cols)
            throw new ArgumentException($"{name} is {y}; this layer needs [{Inputs}, {Rows}, {Cols}].", name);
    }

    public void CheckMaps(Tensor3 z, string name)
    {
        if (z.Planes != Maps || z.Rows != MapRows || z.Cols != MapCols)
            throw new ArgumentException($"{name} is {z}; this layer needs [{Maps}, {MapRows}, {MapCols}] ({Boundary} boundary).", name);
    }

    public void CheckFilters(FilterBank f, string name)
    {
        if (f.Maps != Maps || f.Inputs != Inputs || f.Size != FilterSize)
            throw new ArgumentException($"{name} is {f}; this layer needs [{Maps}, {Inputs}, {FilterSize}, {FilterSize}].", name);
    }
}

internal static class FilterBankGeometry
{
    public static int FilterSizeChecked(this FilterBank f, Tensor3 y)
    {
        if (f.Inputs != y.Planes)
            throw new ArgumentException($"filters {f} expect {f.Inputs} input planes; the input is {y}.");
        if (f.Size > y.Rows || f.Size > y.Cols)
            throw new ArgumentException($"filter size {f.Size} is larger than the input {y.Rows}×{y.Cols}.");
        return f.Size;
    }
}
