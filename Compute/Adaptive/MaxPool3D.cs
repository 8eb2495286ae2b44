using Distributed.Compute.Tensors;

namespace Distributed.Compute.Adaptive;

/// <summary>
/// 3-D max pooling with switches over non-overlapping blocks of a map stack z [K, H, W] (Zeiler, Taylor, Fergus 2011).
/// Legend: pool size (pr, pc, pk) = rows × cols × maps; p the pooled stack; s the switches, one flat index into z per
/// pooled cell. Output size: p is [⌈K/pk⌉, ⌈H/pr⌉, ⌈W/pc⌉]; the last block along an axis is partial when the extent
/// is not a multiple of the pool (ragged edges: a block never reaches past z). Pooled cell (kp, ip, jp) owns maps
/// kp·pk … min(K, kp·pk+pk)−1, rows ip·pr … min(H, ip·pr+pr)−1 and cols jp·pc … min(W, jp·pc+pc)−1.
/// <list type="bullet">
/// <item><see cref="Pool"/>: p[c] = z[s[c]] with s[c] = argmax over block(c) of |z| (signed maps: the largest magnitude
/// keeps its sign; ties go to the first position in (map, row, col) order, so an all-zero block switches to its first
/// position).</item>
/// <item><see cref="Gather"/> (P_s, pooling by fixed switches) and <see cref="Unpool"/> (U_s: p back at the switches,
/// zero elsewhere) are linear for fixed s, and U_s = P_sᵀ exactly, because each switch lies in its own block.</item>
/// </list>
/// Kernels validate shapes at the top and allocate nothing.
/// </summary>
public sealed class MaxPool3D
{
    public MaxPool3D(PoolSize size, int maps, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(size);
        size.Validate("pool");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        Size = size;
        Maps = maps;
        Rows = rows;
        Cols = cols;
        PooledMaps = Ceiling(maps, size.Maps);
        PooledRows = Ceiling(rows, size.Rows);
        PooledCols = Ceiling(cols, size.Cols);
    }

    public PoolSize Size { get; }

    /// <summary>The shape of the maps that are pooled: [Maps, Rows, Cols].</summary>
    public int Maps { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>⌈Maps / pk⌉.</summary>
    public int PooledMaps { get; }

    /// <summary>⌈Rows / pr⌉.</summary>
    public int PooledRows { get; }

    /// <summary>⌈Cols / pc⌉.</summary>
    public int PooledCols { get; }

    /// <summary>Pooled cells, and so the length of a switch array.</summary>
    public int PooledLength => PooledMaps * PooledRows * PooledCols;

    public Tensor3 NewMaps() => new(Maps, Rows, Cols);
    public Tensor3 NewPooled() => new(PooledMaps, PooledRows, PooledCols);
    public int[] NewSwitches() => new int[PooledLength];

    /// <summary>This pooling for the shape a set of switches was recorded on.</summary>
    public static MaxPool3D For(PoolSwitches switches)
    {
        ArgumentNullException.ThrowIfNull(switches);
        var pool = new MaxPool3D(switches.Size, switches.Maps, switches.Rows, switches.Cols);
        pool.CheckSwitches(switches.Indices, nameof(switches));
        return pool;
    }

    /// <summary>
    /// Effectively computes <c>s[c] = argmax_{q ∈ block(c)} |z[q]|</c> and <c>p[c] = z[s[c]]</c> (first maximum wins).
    /// </summary>
    public void Pool(Tensor3 z, Tensor3 pooled, int[] switches)
    {
        CheckMaps(z, nameof(z));
        CheckPooled(pooled, nameof(pooled));
        CheckLength(switches, nameof(switches));
        float[] zd = z.Data;
        int c = 0;
        for (int kp = 0; kp < PooledMaps; kp++)
        {
            int k0 = kp * Size.Maps, k1 = Math.Min(Maps, k0 + Size.Maps);
            for (int ip = 0; ip < PooledRows; ip++)
            {
                int i0 = ip * Size.Rows, i1 = Math.Min(Rows, i0 + Size.Rows);
                for (int jp = 0; jp < PooledCols; jp++, c++)
                {
                    int j0 = jp * Size.Cols, j1 = Math.Min(Cols, j0 + Size.Cols);
                    int best = (k0 * Rows + i0) * Cols + j0;
                    float bestAbs = MathF.Abs(zd[best]);
                    for (int k = k0; k < k1; k++)
                        for (int i = i0; i < i1; i++)
                        {
                            int row = (k * Rows + i) * Cols;
                            for (int j = j0; j < j1; j++)
                            {
                                float a = MathF.Abs(zd[row + j]);
                                if (a > bestAbs)
                                {
                                    bestAbs = a;
                                    best = row + j;
                                }
                            }
                        }
                    switches[c] = best;
                    pooled.Data[c] = zd[best];
                }
            }
        }
    }

    /// <summary>Pooling by fixed switches, P_s: effectively computes <c>p[c] = z[s[c]]</c>.</summary>
    public void Gather(Tensor3 z, int[] switches, Tensor3 pooled)
    {
        CheckMaps(z, nameof(z));
        CheckLength(switches, nameof(switches));
        CheckPooled(pooled, nameof(pooled));
        float[] zd = z.Data, pd = pooled.Data;
        for (int c = 0; c < pd.Length; c++) pd[c] = zd[switches[c]];
    }

    /// <summary>Unpooling, U_s = P_sᵀ: effectively computes <c>z = 0; z[s[c]] = p[c]</c> for every pooled cell c.</summary>
    public void Unpool(Tensor3 pooled, int[] switches, Tensor3 z)
    {
        CheckPooled(pooled, nameof(pooled));
        CheckLength(switches, nameof(switches));
        CheckMaps(z, nameof(z));
        if (ReferenceEquals(pooled.Data, z.Data)) throw new ArgumentException("destination must not alias an input.", nameof(z));
        float[] zd = z.Data, pd = pooled.Data;
        Array.Clear(zd);
        for (int c = 0; c < pd.Length; c++) zd[switches[c]] = pd[c];
    }

    /// <summary>
    /// The mean of <see cref="Unpool"/> over every switch setting, drawn uniformly and independently per block:
    /// effectively computes <c>z[q] = p[c(q)] / |block(c(q))|</c>. Linear and free of switches, so it projects a unit
    /// without an image (a filter's expected footprint).
    /// </summary>
    public void UnpoolMean(Tensor3 pooled, Tensor3 z)
    {
        CheckPooled(pooled, nameof(pooled));
        CheckMaps(z, nameof(z));
        if (ReferenceEquals(pooled.Data, z.Data)) throw new ArgumentException("destination must not alias an input.", nameof(z));
        for (int k = 0; k < Maps; k++)
        {
            int kp = k / Size.Maps, bk = Math.Min(Maps, kp * Size.Maps + Size.Maps) - kp * Size.Maps;
            for (int i = 0; i < Rows; i++)
            {
                int ip = i / Size.Rows, bi = Math.Min(Rows, ip * Size.Rows + Size.Rows) - ip * Size.Rows;
                for (int j = 0; j < Cols; j++)
                {
                    int jp = j / Size.Cols, bj = Math.Min(Cols, jp * Size.Cols + Size.Cols) - jp * Size.Cols;
                    z[k, i, j] = pooled[kp, ip, jp] / (bk * bi * bj);
                }
            }
        }
    }

    /// <summary>The pooled cell whose block holds the flat map index <paramref name="q"/>.</summary>
    public int BlockOf(int q)
    {
        int j = q % Cols, i = q / Cols % Rows, k = q / (Rows * Cols);
        return ((k / Size.Maps) * PooledRows + i / Size.Rows) * PooledCols + j / Size.Cols;
    }

    /// <summary>Pooled cell c's block: maps K0 … K1−1, rows I0 … I1−1, cols J0 … J1−1 (partial at ragged edges).</summary>
    public (int K0, int K1, int I0, int I1, int J0, int J1) Bounds(int c)
    {
        int jp = c % PooledCols, ip = c / PooledCols % PooledRows, kp = c / (PooledRows * PooledCols);
        int k0 = kp * Size.Maps, i0 = ip * Size.Rows, j0 = jp * Size.Cols;
        return (k0, Math.Min(Maps, k0 + Size.Maps), i0, Math.Min(Rows, i0 + Size.Rows), j0, Math.Min(Cols, j0 + Size.Cols));
    }

    /// <summary>The first position (map, row, col order) of pooled cell c's block: the switch an all-zero block records.</summary>
    public int FirstOf(int c)
    {
        int jp = c % PooledCols, ip = c / PooledCols % PooledRows, kp = c / (PooledRows * PooledCols);
        return ((kp * Size.Maps) * Rows + ip * Size.Rows) * Cols + jp * Size.Cols;
    }

    /// <summary>Throws unless there is one switch per pooled cell and each lies inside its own block.</summary>
    public void CheckSwitches(int[] switches, string name)
    {
        CheckLength(switches, name);
        int length = Maps * Rows * Cols;
        for (int c = 0; c < switches.Length; c++)
            if ((uint)switches[c] >= (uint)length || BlockOf(switches[c]) != c)
                throw new ArgumentException($"switch {c} = {switches[c]} is not inside its pooling block ({Size} over [{Maps}, {Rows}, {Cols}]).", name);
    }

    public override string ToString() => $"{Size} over [{Maps}, {Rows}, {Cols}] → [{PooledMaps}, {PooledRows}, {PooledCols}]";

    private void CheckMaps(Tensor3 z, string name)
    {
        ArgumentNullException.ThrowIfNull(z, name);
        if (z.Planes != Maps || z.Rows != Rows || z.Cols != Cols)
            throw new ArgumentException($"{name} is {z}; pooling {Size} here reads [{Maps}, {Rows}, {Cols}].", name);
    }

    private void CheckPooled(Tensor3 p, string name)
    {
        ArgumentNullException.ThrowIfNull(p, name);
        if (p.Planes != PooledMaps || p.Rows != PooledRows || p.Cols != PooledCols)
            throw new ArgumentException($"{name} is {p}; pooling {Size} of [{Maps}, {Rows}, {Cols}] gives [{PooledMaps}, {PooledRows}, {PooledCols}].", name);
    }

    private void CheckLength(int[] switches, string name)
    {
        ArgumentNullException.ThrowIfNull(switches, name);
        if (switches.Length != PooledLength)
            throw new ArgumentException($"{name} has {switches.Length} entries; pooling {Size} of [{Maps}, {Rows}, {Cols}] has {PooledLength} cells.", name);
    }

    private static int Ceiling(int a, int b) => (a + b - 1) / b;
}
