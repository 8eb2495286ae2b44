using Distributed.Compute.Features;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Abstractions.Shards;

/// <summary>What a shard needs before it takes images: the job's spec and how to decode what it is sent.</summary>
[GenerateSerializer, Immutable, Alias("distributed.shard-setup")]
public sealed record ShardSetup
{
    [Id(0)] public required MessageHeader Header { get; init; }

    /// <summary>The job's <see cref="Compute.Training.TrainingSpec"/> as JSON (<c>Messaging.Wire.SpecWire</c>).</summary>
    [Id(1)] public required string SpecJson { get; init; }

    /// <summary>The global image indices this shard will hold, ascending.</summary>
    [Id(2)] public required int[] Images { get; init; }

    [Id(3)] public required long MaxPixels { get; init; }
    [Id(4)] public required long MaxFileBytes { get; init; }

    /// <summary>Images in the whole job: the shard's share of the job's upload budget is its images over these.</summary>
    [Id(5)] public int JobImages { get; init; }
}

/// <summary>Files (relative to the silo's data root) a shard reads itself instead of receiving uploads.</summary>
[GenerateSerializer, Immutable, Alias("distributed.shard-files")]
public sealed record ShardFiles
{
    [Id(0)] public required MessageHeader Header { get; init; }

    /// <summary>Global index and path relative to the data root, per image.</summary>
    [Id(1)] public required int[] Indices { get; init; }
    [Id(2)] public required string[] RelativePaths { get; init; }
}

/// <summary>
/// A shard command whose finished work answers with <typeparamref name="TReply"/>: the coordinator's fan-out and the
/// shard's handler are typed by it, so a command and its reply cannot be mismatched.
/// </summary>
public interface IShardCommand<TReply>
    where TReply : ShardReply;

/// <summary>
/// One piece of shard work, started by <see cref="IImageShardGrain.StartAsync"/> and collected by
/// <see cref="IImageShardGrain.WaitAsync"/>, so no grain call lasts as long as the work.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.shard-command")]
public abstract record ShardCommand
{
    [Id(0)] public required MessageHeader Header { get; init; }

    /// <summary>Layers trained so far (filters and input scales), bottom first.</summary>
    [Id(1)] public required FrozenLayerMessage[] Frozen { get; init; }
}

/// <summary>A trained layer on the wire: filters [K, C, s, s] and the scale its input was multiplied by.</summary>
[GenerateSerializer, Immutable, Alias("distributed.frozen-layer")]
public sealed record FrozenLayerMessage
{
    [Id(0)] public required TensorBlob Filters { get; init; }
    [Id(1)] public required float InputScale { get; init; }
}

/// <summary>Build layer <see cref="ShardCommand.Header"/>.Layer's inputs and report their sums.</summary>
[GenerateSerializer, Immutable, Alias("distributed.prepare-layer")]
public sealed record PrepareLayerCommand : ShardCommand, IShardCommand<LayerInputReply>;

/// <summary>An inference pass (see <c>Compute.Training.InferRequest</c>).</summary>
[GenerateSerializer, Immutable, Alias("distributed.infer")]
public sealed record InferCommand : ShardCommand, IShardCommand<InferReply>
{
    [Id(0)] public required TensorBlob Filters { get; init; }
    [Id(1)] public required float InputScale { get; init; }

    /// <summary>Images to infer (global indices), or null for all of the shard's.</summary>
    [Id(2)] public int[]? Images { get; init; }

    [Id(3)] public required FilterStatistics Statistics { get; init; }
    [Id(4)] public required bool ColdStart { get; init; }
}

/// <summary>
/// Σ_i Z_iᵀ Z_i d over the shard's images (matrix-free filter update). The maps are those of the epoch's inference,
/// which the command repeats (its filters and input scale here, the layers below in <see cref="ShardCommand.Frozen"/>)
/// so that a shard that lost them, re-activated elsewhere mid-update, rebuilds them before it answers.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.apply-gram")]
public sealed record ApplyGramCommand : ShardCommand, IShardCommand<GramReply>
{
    [Id(0)] public required TensorBlob Direction { get; init; }

    /// <summary>The source inference's filters; null: no rebuild possible (the shard then refuses without maps).</summary>
    [Id(1)] public TensorBlob? SourceFilters { get; init; }

    [Id(2)] public float SourceInputScale { get; init; }

    [Id(3)] public bool SourceColdStart { get; init; }
}

/// <summary>Reconstructions (and maps on request) of some images under the frozen model.</summary>
[GenerateSerializer, Immutable, Alias("distributed.report")]
public sealed record ReportCommand : ShardCommand, IShardCommand<ReportReply>
{
    [Id(0)] public required int[] Images { get; init; }
    [Id(1)] public required bool IncludeMaps { get; init; }
}

/// <summary>
/// `infer` at scale (see <c>Compute.Training.ExtractRequest</c>): some images through every layer of the fixed model in
/// <see cref="ShardCommand.Frozen"/>, answered per image with totals, the feature row and, on request, a report.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.extract")]
public sealed record ExtractCommand : ShardCommand, IShardCommand<ExtractReply>
{
    [Id(0)] public required int[] Images { get; init; }
    [Id(1)] public required bool IncludeMaps { get; init; }

    /// <summary>Images whose reconstructions come back (a subset of <see cref="Images"/>).</summary>
    [Id(2)] public required int[] Reconstruct { get; init; }

    /// <summary>The feature readout; null: no feature rows.</summary>
    [Id(3)] public ReadoutMessage? Readout { get; init; }
}

/// <summary><c>Compute.Features.ReadoutSpec</c> on the wire; its enums travel as themselves.</summary>
[GenerateSerializer, Immutable, Alias("distributed.readout")]
public sealed record ReadoutMessage
{
    [Id(0)] public required Rectification Rectification { get; init; }
    [Id(1)] public required Pooling Pooling { get; init; }
    [Id(2)] public required int PoolSize { get; init; }

    /// <summary>1-based layers read; null: all.</summary>
    [Id(3)] public int[]? Layers { get; init; }
}

/// <summary>
/// A finished piece of shard work; payloads over the limit are pulled with <see cref="IPayloadSource.GetChunkAsync"/>.
/// A command's handler writes the derived part; the shard grain stamps these common fields on every reply.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.shard-reply")]
public abstract record ShardReply
{
    [Id(0)] public MessageHeader Header { get; init; }
    [Id(1)] public int Shard { get; init; }

    /// <summary>Wall time of the work on the shard, seconds.</summary>
    [Id(2)] public double Seconds { get; init; }

    /// <summary>The silo that did the work.</summary>
    [Id(3)] public string Silo { get; init; } = "";
}

[GenerateSerializer, Immutable, Alias("distributed.layer-input-reply")]
public sealed record LayerInputReply : ShardReply
{
    [Id(0)] public required int Images { get; init; }
    [Id(1)] public required double SumSquares { get; init; }
    [Id(2)] public required long Values { get; init; }
    [Id(3)] public required int Planes { get; init; }
}

[GenerateSerializer, Immutable, Alias("distributed.infer-reply")]
public sealed record InferReply : ShardReply
{
    [Id(0)] public required TotalsMessage Totals { get; init; }

    /// <summary>A's blocks [pairs, s², s²] when normal equations were asked for.</summary>
    [Id(1)] public TensorBlob? Gram { get; init; }

    /// <summary>b [K, C, s, s] with normal equations or the right-hand side alone.</summary>
    [Id(2)] public TensorBlob? B { get; init; }

    /// <summary>Σ‖y‖² and image count behind A and b (normal equations only).</summary>
    [Id(3)] public double SumSquaredInputs { get; init; }
    [Id(4)] public long StatisticsImages { get; init; }
}

[GenerateSerializer, Immutable, Alias("distributed.gram-reply")]
public sealed record GramReply : ShardReply
{
    [Id(0)] public required TensorBlob Product { get; init; }
}

[GenerateSerializer, Immutable, Alias("distributed.report-reply")]
public sealed record ReportReply : ShardReply
{
    [Id(0)] public required ImageReportMessage[] Reports { get; init; }
}

[GenerateSerializer, Immutable, Alias("distributed.extract-reply")]
public sealed record ExtractReply : ShardReply
{
    [Id(0)] public required ImageExtractionMessage[] Images { get; init; }
}

/// <summary>One image under a fixed model (see <c>Compute.Training.ImageExtraction</c>).</summary>
[GenerateSerializer, Immutable, Alias("distributed.image-extraction")]
public sealed record ImageExtractionMessage
{
    [Id(0)] public required int Image { get; init; }
    [Id(1)] public required string Name { get; init; }

    /// <summary>Per layer, bottom first.</summary>
    [Id(2)] public required TotalsMessage[] Layers { get; init; }

    /// <summary>Per layer: maps, rows, cols.</summary>
    [Id(3)] public required int[] MapShapes { get; init; }

    /// <summary>The feature row as float32 bytes; null without a readout.</summary>
    [Id(4)] public TensorBlob? Features { get; init; }

    /// <summary>Input and reconstructions, for the images asked for.</summary>
    [Id(5)] public ImageReportMessage? Report { get; init; }

    /// <summary>Each layer's maps [K, rows, cols], when asked for.</summary>
    [Id(6)] public TensorBlob[]? Maps { get; init; }
}

/// <summary>One image under the trained model (see <c>Compute.Training.ImageReport</c>).</summary>
[GenerateSerializer, Immutable, Alias("distributed.image-report")]
public sealed record ImageReportMessage
{
    [Id(0)] public required int Image { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required TensorBlob Input { get; init; }
    [Id(3)] public required TensorBlob[] Reconstructions { get; init; }
    [Id(4)] public TensorBlob[]? Maps { get; init; }
}

/// <summary>
/// A shard's answer to <see cref="IImageShardGrain.WaitAsync"/>: done (with the reply), still working, or lost: this
/// activation never had the ticket (the shard was re-activated, e.g. on another silo after its own died), so the
/// caller starts the command again.
/// </summary>
[GenerateSerializer, Immutable, Alias("distributed.shard-wait")]
public sealed record ShardWaitResult
{
    [Id(0)] public required bool Done { get; init; }
    [Id(1)] public ShardReply? Reply { get; init; }
    [Id(2)] public bool Lost { get; init; }
}
