using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// One image's maps [K, H, W] as a shard keeps them between passes: the nonzeros (positions and values, gathered in
/// storage order, see <see cref="SparseMaps"/>) whenever that is smaller than dense, else a dense copy. At d nonzero
/// the compact form takes 8d + 4/W bytes per coefficient instead of 4, so it wins below about 50 % density; at the
/// 1–2 % of sparse coding it is 1/25 to 1/50 of dense. The round trip is exact: every value comes back equal (a −0,
/// which the gather skips like any zero, comes back as +0; no sum can tell them apart). Immutable once built.
/// </summary>
public sealed class ResidentMaps
{
    [ThreadStatic] private static SparseMaps? s_scratch;

    private readonly SparseMaps? _sparse;
    private readonly Tensor3? _dense;

    private ResidentMaps(SparseMaps? sparse, Tensor3? dense, int planes, int rows, int cols)
    {
        _sparse = sparse;
        _dense = dense;
        Planes = planes;
        Rows = rows;
        Cols = cols;
    }

    public int Planes { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>The compact form, or null when the maps are kept dense.</summary>
    public SparseMaps? Sparse => _sparse;

    public bool IsCompact => _sparse is not null;

    /// <summary>Bytes held: the compact buffers, or 4 per coefficient dense.</summary>
    public long Bytes => _sparse?.ResidentBytes ?? 4L * _dense!.Length;

    /// <summary>Bytes of the dense form, for comparison.</summary>
    public long DenseBytes => 4L * Planes * Rows * Cols;

    /// <summary>
    /// Keeps <paramref name="z"/>: compact when smaller than dense. <paramref name="gathered"/>, when given, holds z's
    /// nonzeros already (a gather the caller made for the sparse kernels) and saves the scan.
    /// </summary>
    public static ResidentMaps Keep(Tensor3 z, SparseMaps? gathered = null)
    {
        ArgumentNullException.ThrowIfNull(z);
        long dense = 4L * z.Length;
        long fixedBytes = SparseMaps.CompactedBytes(z.Planes, z.Rows, 0);
        long limit = (dense - fixedBytes) / 8;   // most nonzeros for which compact is smaller than dense
        if (limit > 0)
        {
            if (gathered is not null && gathered.Planes == z.Planes && gathered.Rows == z.Rows && gathered.Cols == z.Cols && gathered.Count <= limit)
                return new ResidentMaps(gathered.Compacted(), null, z.Planes, z.Rows, z.Cols);
            SparseMaps scratch = s_scratch ??= new SparseMaps();
            if (scratch.TryGather(z, (int)Math.Min(limit, int.MaxValue - 64)))
                return new ResidentMaps(scratch.Compacted(), null, z.Planes, z.Rows, z.Cols);
        }
        return new ResidentMaps(null, z.Clone(), z.Planes, z.Rows, z.Cols);
    }

    /// <summary>
    /// Keeps maps that are already nonzeros (a tiled solve's result, taken over, not copied): compact when smaller than
    /// dense, else scattered into a dense copy.
    /// </summary>
    public static ResidentMaps Keep(SparseMaps z)
    {
        ArgumentNullException.ThrowIfNull(z);
        long dense = 4L * z.Planes * z.Rows * z.Cols;
        if (SparseMaps.CompactedBytes(z.Planes, z.Rows, z.Count) < dense) return new ResidentMaps(z, null, z.Planes, z.Rows, z.Cols);
        var copy = new Tensor3(z.Planes, z.Rows, z.Cols);
        z.Scatter(copy);
        return new ResidentMaps(null, copy, z.Planes, z.Rows, z.Cols);
    }

    /// <summary>The maps as nonzeros: the compact form itself, or a gather of the dense copy.</summary>
    public SparseMaps ToSparse()
    {
        if (_sparse is not null) return _sparse;
        var gathered = new SparseMaps();
        gathered.Gather(_dense!);
        return gathered;
    }

    /// <summary>Writes the maps into <paramref name="destination"/> (same shape), every coefficient.</summary>
    public void CopyTo(Tensor3 destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Planes != Planes || destination.Rows != Rows || destination.Cols != Cols)
            throw new ArgumentException($"these maps are [{Planes}, {Rows}, {Cols}]; the destination is {destination}.", nameof(destination));
        if (_sparse is not null) _sparse.Scatter(destination);
        else _dense!.Data.CopyTo(destination.Data, 0);
    }

    /// <summary>A new dense tensor holding the maps.</summary>
    public Tensor3 ToDense()
    {
        var z = new Tensor3(Planes, Rows, Cols);
        CopyTo(z);
        return z;
    }
}
