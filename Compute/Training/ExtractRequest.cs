using Distributed.Compute.Features;
using Distributed.Compute.Inference;

namespace Distributed.Compute.Training;

/// <summary>
/// Applies a fixed model to some images, one image through all its layers after another (each layer from z = 0 with the
/// frozen filters and the model's stored input scale, as <see cref="ModelInference"/> does layer by layer), and returns
/// what `infer` writes per image: each layer's totals, the feature row (<see cref="Readout"/>), each layer's dense maps
/// (<see cref="IncludeMaps"/>), and a report with the reconstructions (images in <see cref="Reconstruct"/> only: they
/// cost a synthesis per layer and level). The shard
/// forgets the images' maps afterwards, so its memory does not grow with the images it has been asked for.
/// </summary>
public sealed record ExtractRequest(
    IReadOnlyList<FrozenLayer> Model,
    IReadOnlyList<int> Images,
    ReadoutSpec? Readout,
    bool IncludeMaps,
    IReadOnlyList<int> Reconstruct) : IShardRequest<IReadOnlyList<ImageExtraction>>
{
    IReadOnlyList<int>? IShardRequest<IReadOnlyList<ImageExtraction>>.Images => Images;

    public IReadOnlyList<ImageExtraction> RunOn(ImageShard shard, CancellationToken cancellationToken) => shard.Extract(this, cancellationToken);
}

/// <summary>
/// One image under a fixed model: per-layer totals (summed by the caller in image order, so the set's totals do not
/// depend on the shard plan), each layer's map shape [K, rows, cols], the feature row when a readout was asked for, each
/// layer's maps when asked for, and the report (input and reconstructions, without maps) when asked for.
/// </summary>
public sealed record ImageExtraction(
    int Image,
    string Name,
    IReadOnlyList<InferenceTotals> Layers,
    IReadOnlyList<(int Maps, int Rows, int Cols)> MapShapes,
    float[]? Features,
    IReadOnlyList<Tensors.Tensor3>? Maps,
    ImageReport? Report);
