using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Telemetry;

/// <summary>
/// Every name the product emits, in one place: the one ActivitySource, the one Meter, span names (short lowercase verb
/// phrases), tag keys and instrument names. Spans mark orchestration boundaries only, never inner iterations.
/// </summary>
public static class TelemetryNames
{
    /// <summary>The product's ActivitySource and Meter share this name.</summary>
    public const string Source = "Distributed";

    /// <summary>Orleans' spans for grain calls; a silo or client must listen to it for one trace to cross grain calls.</summary>
    public const string OrleansApplicationSource = "Microsoft.Orleans.Application";

    /// <summary>Orleans' runtime spans (membership, directory, messaging): noisy, off unless asked for.</summary>
    public const string OrleansRuntimeSource = "Microsoft.Orleans.Runtime";

    /// <summary>Orleans' own meter (messaging, activations, scheduler).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    public static class Spans
    {
        public const string Train = "train job";
        public const string Job = "run job";
        public const string Layer = "train layer";
        public const string Epoch = "run epoch";
        public const string PrepareLayer = "prepare layer";
        public const string InferShard = "infer shard";
        public const string ApplyGram = "apply gram";
        public const string Reduce = "reduce statistics";
        public const string UpdateFilters = "update filters";
        public const string Checkpoint = "checkpoint";
        public const string Upload = "upload images";
        public const string Report = "report images";
        public const string Extract = "extract images";
        public const string SendChunks = "send chunks";
        public const string FetchChunks = "fetch chunks";
        public const string TileSolve = "solve tiles";
        public const string TileStep = "tile step";
    }

    public static class Tags
    {
        public const string Job = "distributed.job";
        public const string Layer = "distributed.layer";
        public const string Epoch = "distributed.epoch";
        public const string FilterVersion = "distributed.filter_version";
        public const string Shard = "distributed.shard";
        public const string Shards = "distributed.shards";
        public const string Images = "distributed.images";
        public const string Objective = "distributed.objective";
        public const string DataTerm = "distributed.data_term";
        public const string SparsityTerm = "distributed.sparsity_term";
        public const string NonzeroFraction = "distributed.nonzero_fraction";
        public const string Bytes = "distributed.bytes";
        public const string Chunks = "distributed.chunks";
        public const string Silo = "distributed.silo";

        /// <summary>On tile bytes: open, step or collect.</summary>
        public const string TileKind = "distributed.tile.kind";

        /// <summary>On an epoch span: the pass from z = 0 that closes a layer (no filter update).</summary>
        public const string Final = "distributed.final";

        /// <summary>On an online filter update: the image (global index) it followed.</summary>
        public const string Image = "distributed.image";
    }

    public static class Instruments
    {
        public const string ImagesInferred = "distributed.images.inferred";
        public const string EpochsCompleted = "distributed.epochs.completed";
        public const string BytesSent = "distributed.bytes.sent";
        public const string ShardInferenceSeconds = "distributed.shard.inference.duration";
        public const string ReduceSeconds = "distributed.reduce.duration";
        public const string Objective = "distributed.job.objective";
        public const string NonzeroFraction = "distributed.job.nonzero_fraction";
        public const string TileBytes = "distributed.tile.bytes";
        public const string TileRounds = "distributed.tile.rounds";
        public const string TileRestarts = "distributed.tile.restarts";
    }
}
