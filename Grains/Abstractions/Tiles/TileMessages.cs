using Distributed.Compute.Operators;
using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Abstractions.Tiles;

/// <summary>What a tile is built from: the layer's geometry and filters, λ, the owned rectangle and the frame's data.</summary>
[GenerateSerializer, Immutable, Alias("distributed.tile-open")]
public sealed record TileOpen
{
    [Id(0)] public required MessageHeader Header { get; init; }

    /// <summary>The whole image's layer: input planes, maps, filter size, image rows and columns, boundary.</summary>
    [Id(1)] public required int Inputs { get; init; }
    [Id(2)] public required int Maps { get; init; }
    [Id(3)] public required int FilterSize { get; init; }
    [Id(4)] public required int Rows { get; init; }
    [Id(5)] public required int Cols { get; init; }
    [Id(6)] public required Boundary Boundary { get; init; }

    /// <summary>Which maps see which input planes, [K, C] row-major.</summary>
    [Id(7)] public required bool[] Connectivity { get; init; }

    /// <summary>The filters [K, C, s, s].</summary>
    [Id(8)] public required TensorBlob Filters { get; init; }
    [Id(9)] public required double Lambda { get; init; }

    /// <summary>The owned rectangle of map positions.</summary>
    [Id(10)] public required int OwnedRow { get; init; }
    [Id(11)] public required int OwnedCol { get; init; }
    [Id(12)] public required int OwnedRows { get; init; }
    [Id(13)] public required int OwnedCols { get; init; }

    /// <summary>The input pixels the frame covers [C, rows, cols].</summary>
    [Id(14)] public required TensorBlob Patch { get; init; }

    /// <summary>The warm start's nonzeros over the frame: positions (i · frame cols + j) · K + k ascending (int32), and values (float32).</summary>
    [Id(15)] public required Payload Positions { get; init; }
    [Id(16)] public required Payload Values { get; init; }
}

/// <summary>A tile's owned nonzeros: positions (i · cols + j) · K + k over its rectangle, ascending (int32), and values (float32).</summary>
[GenerateSerializer, Immutable, Alias("distributed.tile-owned")]
public sealed record TileOwnedMaps
{
    [Id(0)] public required Payload Positions { get; init; }
    [Id(1)] public required Payload Values { get; init; }
}

/// <summary>One round for one tile: Compute's <c>TileStep</c>, the incoming border moves as raw bytes (20 a move).</summary>
[GenerateSerializer, Immutable, Alias("distributed.tile-step")]
public sealed record TileStepCommand
{
    [Id(0)] public required MessageHeader Header { get; init; }

    /// <summary>The round's number within the solve, from 0: a tile refuses a round out of sequence (one was lost).</summary>
    [Id(1)] public required int Round { get; init; }
    [Id(2)] public required int Phase { get; init; }
    [Id(3)] public required float Tolerance { get; init; }
    [Id(4)] public required float Scale { get; init; }
    [Id(5)] public required bool Refresh { get; init; }
    [Id(6)] public required Payload Incoming { get; init; }
}

/// <summary>A tile's answer to a round: Compute's <c>TileStepResult</c>, the outgoing border moves as raw bytes.</summary>
[GenerateSerializer, Immutable, Alias("distributed.tile-step-reply")]
public sealed record TileStepReply
{
    [Id(0)] public required int Moves { get; init; }
    [Id(1)] public required int MovesSinceRestart { get; init; }
    [Id(2)] public required float Scale { get; init; }
    [Id(3)] public required float OwnedMax { get; init; }
    [Id(4)] public required Payload Outgoing { get; init; }
}

/// <summary>
/// A tile activation does not hold the state a call needs (it was never opened here, its silo died, or a round went
/// missing): the owner solves the image again over fresh tiles. Not an error of the job.
/// </summary>
[GenerateSerializer, Alias("distributed.tile-lost")]
public sealed class TileLostException : Exception
{
    public TileLostException(string message)
        : base(message)
    {
    }
}
