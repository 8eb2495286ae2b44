namespace Distributed.Compute.Convolution;

/// <summary>
/// The shapes of one strided convolution x [Channels, Rows, Cols] → y [Filters, OutputRows, OutputCols] with weights
/// [Filters, Channels, KernelRows, KernelCols], stride S and zero padding P on every side:
/// <c>OutputRows = 1 + (Rows + 2P − KernelRows) / S</c>. Its transpose maps y-shaped planes back to x-shaped ones, so a
/// transposed ("deconvolution") layer from J×J to S·(J−1) + M − 2P is described by the convolution it transposes
/// (<see cref="Transposed"/>). Sizes that do not fit or do not divide are errors naming the numbers, never rounded.
/// </summary>
public sealed record StridedGeometry
{
    private StridedGeometry(int channels, int rows, int cols, int filters, int kernelRows, int kernelCols, int stride, int padding)
    {
        Channels = channels;
        Rows = rows;
        Cols = cols;
        Filters = filters;
        KernelRows = kernelRows;
        KernelCols = kernelCols;
        Stride = stride;
        Padding = padding;
    }

    /// <summary>C: planes of the convolution's input (the transposed convolution's output).</summary>
    public int Channels { get; }
    /// <summary>H: rows of the convolution's input.</summary>
    public int Rows { get; }
    /// <summary>W: columns of the convolution's input.</summary>
    public int Cols { get; }
    /// <summary>K: planes of the convolution's output (the transposed convolution's input).</summary>
    public int Filters { get; }
    /// <summary>M.</summary>
    public int KernelRows { get; }
    /// <summary>N.</summary>
    public int KernelCols { get; }
    /// <summary>S ≥ 1.</summary>
    public int Stride { get; }
    /// <summary>P ≥ 0: zeros on each side of the convolution's input.</summary>
    public int Padding { get; }

    /// <summary>1 + (H + 2P − M) / S.</summary>
    public int OutputRows => 1 + (Rows + 2 * Padding - KernelRows) / Stride;
    /// <summary>1 + (W + 2P − N) / S.</summary>
    public int OutputCols => 1 + (Cols + 2 * Padding - KernelCols) / Stride;

    /// <summary>Weights [K, C, M, N].</summary>
    public int WeightLength => Filters * Channels * KernelRows * KernelCols;
    public int InputLength => Channels * Rows * Cols;
    public int OutputLength => Filters * OutputRows * OutputCols;

    /// <summary>A convolution of [channels, rows, cols] by filters × channels kernels of kernelRows × kernelCols.</summary>
    public static StridedGeometry Convolution(int channels, int rows, int cols, int filters, int kernelRows, int kernelCols, int stride, int padding)
    {
        CheckCommon(channels, filters, kernelRows, kernelCols, stride, padding);
        CheckAxis("rows", rows, kernelRows, stride, padding);
        CheckAxis("cols", cols, kernelCols, stride, padding);
        return new StridedGeometry(channels, rows, cols, filters, kernelRows, kernelCols, stride, padding);
    }

    /// <summary>
    /// A transposed convolution of [channels, rows, cols] to [filters, S·(rows−1) + M − 2P, S·(cols−1) + N − 2P]: the
    /// returned geometry is the convolution it transposes, so its Channels are the transposed output's planes and its
    /// Filters the transposed input's. Weights stay [transposed input planes, transposed output planes, M, N].
    /// </summary>
    public static StridedGeometry Transposed(int channels, int rows, int cols, int filters, int kernelRows, int kernelCols, int stride, int padding)
    {
        CheckCommon(channels, filters, kernelRows, kernelCols, stride, padding);
        if (rows <= 0 || cols <= 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"a transposed convolution needs a positive input; got {rows}×{cols}.");
        long outRows = (long)stride * (rows - 1) + kernelRows - 2L * padding;
        long outCols = (long)stride * (cols - 1) + kernelCols - 2L * padding;
        if (outRows <= 0 || outCols <= 0 || outRows > int.MaxValue || outCols > int.MaxValue)
            throw new ArgumentException($"a transposed convolution of {rows}×{cols} by {kernelRows}×{kernelCols}/{stride} with padding {padding} gives {outRows}×{outCols}, not a plane.");
        return new StridedGeometry(filters, (int)outRows, (int)outCols, channels, kernelRows, kernelCols, stride, padding);
    }

    private static void CheckCommon(int channels, int filters, int kernelRows, int kernelCols, int stride, int padding)
    {
        if (channels <= 0 || filters <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels), $"planes must be positive; got {channels} in and {filters} out.");
        if (kernelRows <= 0 || kernelCols <= 0)
            throw new ArgumentOutOfRangeException(nameof(kernelRows), $"a kernel must be at least 1×1; got {kernelRows}×{kernelCols}.");
        if (stride <= 0)
            throw new ArgumentOutOfRangeException(nameof(stride), $"stride must be at least 1; got {stride}.");
        if (padding < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), $"padding must not be negative; got {padding}.");
    }

    private static void CheckAxis(string axis, int length, int kernel, int stride, int padding)
    {
        if (length <= 0)
            throw new ArgumentOutOfRangeException(axis, $"input {axis} must be positive; got {length}.");
        long span = (long)length + 2L * padding - kernel;
        if (span < 0)
            throw new ArgumentException($"a kernel of {kernel} {axis} does not fit in {length} + 2·{padding} padded {axis}.", axis);
        if (span % stride != 0)
            throw new ArgumentException($"stride {stride} does not divide {length} + 2·{padding} − {kernel} = {span} ({axis}): the last window would hang over the edge.", axis);
    }
}
