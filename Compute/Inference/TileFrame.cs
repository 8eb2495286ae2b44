using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// What a tile needs of the whole image to be built elsewhere: the maps over its frame (owned rectangle plus halo,
/// K × frame rows × frame cols) and the input pixels the frame's atoms cover. On a cluster this is what travels to the
/// tile instead of the image: (K·(t+2(s−1))² + C·(t+s−1)²) floats for a tile of side t.
/// </summary>
public sealed record TileFrame(Tensor3 Patch, Tensor3 Maps)
{
    /// <summary>Cuts tile <paramref name="owned"/>'s frame out of the whole image <paramref name="y"/> and its maps <paramref name="z"/>.</summary>
    public static TileFrame Cut(LayerGeometry geometry, TileRect owned, Tensor3 y, Tensor3 z)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        geometry.CheckImage(y, nameof(y));
        geometry.CheckMaps(z, nameof(z));
        int m = geometry.FilterSize - 1;
        var (rowOrigin, rows, _) = CoordinateDescentTile.Axis(owned.Row, owned.Rows, geometry.MapRows, m, geometry.Boundary);
        var (colOrigin, cols, _) = CoordinateDescentTile.Axis(owned.Col, owned.Cols, geometry.MapCols, m, geometry.Boundary);
        var maps = new Tensor3(geometry.Maps, rows, cols);
        for (int k = 0; k < geometry.Maps; k++)
        {
            ReadOnlySpan<float> plane = z.ReadPlane(k);
            Span<float> to = maps.Plane(k);
            for (int i = 0; i < rows; i++)
            {
                int gr = Mod(rowOrigin + i, geometry.MapRows);
                for (int j = 0; j < cols; j++) to[i * cols + j] = plane[gr * z.Cols + Mod(colOrigin + j, geometry.MapCols)];
            }
        }
        // Local image row x is covered by local map rows x..x+m (as in the tile): shifted by m around the torus.
        int shift = geometry.Boundary == Boundary.Circular ? m : 0;
        var patch = new Tensor3(geometry.Inputs, rows - m, cols - m);
        for (int c = 0; c < geometry.Inputs; c++)
            for (int x = 0; x < patch.Rows; x++)
            {
                int gr = Mod(rowOrigin + shift + x, geometry.Rows);
                for (int w = 0; w < patch.Cols; w++) patch[c, x, w] = y[c, gr, Mod(colOrigin + shift + w, geometry.Cols)];
            }
        return new TileFrame(patch, maps);
    }

    /// <summary>Writes a tile's owned maps (<see cref="CoordinateDescentTile.OwnedMaps"/>, K × rows × cols) into the whole image's maps.</summary>
    public static void StoreOwned(LayerGeometry geometry, TileRect owned, Tensor3 ownedMaps, Tensor3 z)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(ownedMaps);
        geometry.CheckMaps(z, nameof(z));
        if (ownedMaps.Planes != geometry.Maps || ownedMaps.Rows != owned.Rows || ownedMaps.Cols != owned.Cols || owned.Row < 0 || owned.Col < 0
            || owned.Row + owned.Rows > geometry.MapRows || owned.Col + owned.Cols > geometry.MapCols)
            throw new ArgumentException($"owned maps {ownedMaps.Planes}×{ownedMaps.Rows}×{ownedMaps.Cols} do not fit tile {owned} of {geometry.Maps} maps of {geometry.MapRows}×{geometry.MapCols}.", nameof(ownedMaps));
        for (int k = 0; k < geometry.Maps; k++)
            for (int i = 0; i < owned.Rows; i++)
                ownedMaps.ReadPlane(k).Slice(i * owned.Cols, owned.Cols).CopyTo(z.Plane(k).Slice((owned.Row + i) * z.Cols + owned.Col, owned.Cols));
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;
}
