namespace Distributed.Compute.Adaptive;

/// <summary>
/// The switches of one pooling, as a value that can leave the process: the pool size, the shape [Maps, Rows, Cols] of
/// the maps that were pooled, and for each pooled cell (in [⌈Maps/pk⌉, ⌈Rows/pr⌉, ⌈Cols/pc⌉] order) the flat index of
/// its maximum in those maps. <see cref="MaxPool3D.For"/> checks every index lies in its block.
/// </summary>
public sealed record PoolSwitches(PoolSize Size, int Maps, int Rows, int Cols, int[] Indices);
