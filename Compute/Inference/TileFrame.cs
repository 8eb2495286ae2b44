using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Inference;

/// <summary>
/// What a tile needs of the whole image to be built elsewhere: the input pixels its frame's atoms cover and the warm
/// start's nonzeros over its frame (owned rectangle plus halo), positions (i · frame cols + j) · K + k ascending. On a
/// cluster this travels to the tile instead of the image: C·(t+s−1)² floats plus 8 bytes a nonzero for a tile of side t.
/// </summary>
public sealed record TileFrame(Tensor3 Patch, int[] Positions, float[] Values)
{
    /// <summary>Tile <paramref name="owned"/>'s frame of the input <paramref name="y"/> and the warm start <paramref name="warm"/> (null: cold).</summary>
    public static TileFrame Cut(LayerGeometry geometry, TileRect owned, Tensor3 y, SparseMaps? warm)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        geometry.CheckImage(y, nameof(y));
        if (warm is not null && (warm.Planes != geometry.Maps || warm.Rows != geometry.MapRows || warm.Cols != geometry.MapCols))
            throw new ArgumentException($"the warm start is [{warm.Planes}, {warm.Rows}, {warm.Cols}]; the maps are [{geometry.Maps}, {geometry.MapRows}, {geometry.MapCols}].", nameof(warm));
        SweepFrame frame = CoordinateDescentTile.FrameOf(geometry, owned);
        int m = geometry.FilterSize - 1;
        // Local image row x is covered by local map rows x..x+m (as in the tile): shifted by m around the torus.
        int shift = geometry.Boundary == Boundary.Circular ? m : 0;
        var patch = new Tensor3(geometry.Inputs, frame.Rows - m, frame.Cols - m);
        for (int c = 0; c < geometry.Inputs; c++)
            for (int x = 0; x < patch.Rows; x++)
            {
                int gr = Mod(frame.OriginRow + shift + x, geometry.Rows);
                for (int w = 0; w < patch.Cols; w++) patch[c, x, w] = y[c, gr, Mod(frame.OriginCol + shift + w, geometry.Cols)];
            }
        (int[] positions, float[] values) = warm is null ? ([], []) : TiledCoordinateDescent.FrameNonzeros(geometry, geometry.Maps, owned, warm);
        return new TileFrame(patch, positions, values);
    }

    /// <summary>
    /// The whole image's compact maps from every tile's owned nonzeros (<see cref="CoordinateDescentTile.OwnedNonzeros"/>),
    /// in plan order: the same entries in the same order as the in-process tiled solve gathers.
    /// </summary>
    public static SparseMaps Gather(LayerGeometry geometry, IReadOnlyList<TileRect> plan, IReadOnlyList<(int[] Positions, float[] Values)> owned)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(owned);
        if (owned.Count != plan.Count) throw new ArgumentException($"{owned.Count} tiles' maps for a plan of {plan.Count}.", nameof(owned));
        int maps = geometry.Maps, rows = maps * geometry.MapRows;
        for (int t = 0; t < plan.Count; t++)
        {
            TileRect r = plan[t];
            long length = (long)r.Rows * r.Cols * maps;
            (int[] positions, float[] entries) = owned[t];
            if (positions.Length != entries.Length) throw new ArgumentException($"tile {t}: {positions.Length} positions but {entries.Length} values.", nameof(owned));
            for (int n = 0; n < positions.Length; n++)
                if (positions[n] < 0 || positions[n] >= length || (n > 0 && positions[n] <= positions[n - 1]))
                    throw new ArgumentException($"tile {t}: entry {n} at {positions[n]} is outside its {r} × {maps} maps or not ascending.", nameof(owned));
        }
        var rowCounts = new int[rows + 1];
        for (int t = 0; t < plan.Count; t++)
            foreach (int p in owned[t].Positions) rowCounts[p % maps * geometry.MapRows + plan[t].Row + p / maps / plan[t].Cols]++;
        return SparseMaps.FromRowCounts(maps, geometry.MapRows, geometry.MapCols, rowCounts, (cursor, columns, values) =>
        {
            // Band by band, left to right: ascending columns within every map row.
            foreach (int t in Enumerable.Range(0, plan.Count).OrderBy(t => plan[t].Row).ThenBy(t => plan[t].Col))
            {
                TileRect r = plan[t];
                (int[] ps, float[] vs) = owned[t];
                for (int n = 0; n < ps.Length; n++)
                {
                    int p = ps[n] / maps, to = cursor[ps[n] % maps * geometry.MapRows + r.Row + p / r.Cols]++;
                    columns[to] = r.Col + p % r.Cols;
                    values[to] = vs[n];
                }
            }
        });
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;
}
