using Distributed.Compute.Inference;
using Distributed.Compute.Operators;
using Distributed.Compute.Tensors;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Tiles;
using Distributed.Grains.Execution;
using Distributed.Grains.Messaging.Payloads;
using Distributed.Grains.Messaging.Telemetry;
using Distributed.Grains.Messaging.Wire;
using Distributed.Grains.Placement;
using Microsoft.Extensions.DependencyInjection;

namespace Distributed.Grains.Tiles;

/// <summary>
/// Holds one <see cref="CoordinateDescentTile"/> of a large image's solve (its frame of z, c and the input pixels) for
/// the shard that owns the image. Orchestration only: it decodes, runs the tile's step and encodes. A step runs on the
/// silo's tile-step scheduler (<see cref="ComputeScheduler.TileSteps"/>), not the shard work's: the owner waits for its
/// round while holding one of those slots, so a step queued behind it there could wait forever. State is soft: a
/// fresh activation has none and answers every step with <see cref="TileLostException"/>.
/// </summary>
[ShardSpreadPlacement]
internal sealed class TileGrain(MessageLimits limits, IShardWorkGate gate, [FromKeyedServices(ComputeScheduler.TileSteps)] ComputeScheduler steps) : Grain, ITileGrain
{
    private readonly PayloadStaging _staging = new(limits);
    private readonly PayloadOutbox _outbox = new();
    private string _job = "";
    private int _shard;
    private CoordinateDescentTile? _tile;
    private FilterBank? _filters;
    private int _nextRound;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!TileKey.TryParse(this.GetPrimaryKeyString(), out _job, out _shard, out _))
            throw new ArgumentException($"'{this.GetPrimaryKeyString()}' is not a tile key (job/shard/solve/tN).");
        return Task.CompletedTask;
    }

    public Task PutChunkAsync(PayloadChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        CheckJob(chunk.Header);
        _staging.Put(chunk);
        return Task.CompletedTask;
    }

    public Task<PayloadChunk> GetChunkAsync(MessageHeader header, Guid transfer, int index)
    {
        CheckJob(header);
        return Task.FromResult(_outbox.Take(header, transfer, index, limits));
    }

    public async Task OpenAsync(TileOpen open)
    {
        ArgumentNullException.ThrowIfNull(open);
        CheckJob(open.Header);
        if (_tile is not null) throw new InvalidOperationException($"tile {this.GetPrimaryKeyString()} was opened twice; a solve opens fresh tiles.");
        byte[] filters = _staging.Resolve(open.Filters.Data), patch = _staging.Resolve(open.Patch.Data);
        byte[] positions = _staging.Resolve(open.Positions), values = _staging.Resolve(open.Values);
        _staging.Clear();
        var geometry = new LayerGeometry(open.Inputs, open.Maps, open.FilterSize, open.Rows, open.Cols, open.Boundary);
        var connectivity = new Connectivity(open.Maps, open.Inputs, open.Connectivity);
        var owned = new TileRect(open.OwnedRow, open.OwnedCol, open.OwnedRows, open.OwnedCols);
        FilterBank f = TensorWire.ToFilterBank(open.Filters, filters);
        int[] at = FloatBytes.ToInts(positions);
        var frame = new TileFrame(TensorWire.ToTensor3(open.Patch, patch), at, FloatBytes.To(values, at.Length));
        _tile = await steps.RunAsync(_ => CoordinateDescentTile.FromFrame(geometry, connectivity, f, open.Lambda, owned, frame));
        _filters = f;
        _nextRound = 0;
    }

    public async Task<TileStepReply> StepAsync(TileStepCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        CheckJob(command.Header);
        CoordinateDescentTile tile = _tile ?? throw new TileLostException($"tile {this.GetPrimaryKeyString()} holds no state (its activation is new); the solve starts again.");
        if (command.Round != _nextRound)
            throw new TileLostException($"tile {this.GetPrimaryKeyString()} expected round {_nextRound}, got {command.Round}; the solve starts again.");
        await gate.EnterAsync(command.Header, _shard, TelemetryNames.Spans.TileStep, CancellationToken.None);
        BorderMove[] incoming = BorderMoveWire.To(_staging.Resolve(command.Incoming));
        _staging.Clear();
        _outbox.Clear();
        _nextRound++;   // a step that fails half-way leaves the tile unusable: the next round is refused, the solve restarts
        TileStepResult result = await steps.RunAsync(_ => tile.Step(_filters!, new TileStep(command.Phase, command.Tolerance, command.Scale, command.Refresh, incoming)));
        return new TileStepReply
        {
            Moves = result.Moves,
            MovesSinceRestart = result.MovesSinceRestart,
            Scale = result.Scale,
            OwnedMax = result.OwnedMax,
            Outgoing = _outbox.Offer(BorderMoveWire.From(result.Outgoing), limits),
        };
    }

    public Task<TileOwnedMaps> CollectAsync(MessageHeader header)
    {
        CheckJob(header);
        CoordinateDescentTile tile = _tile ?? throw new TileLostException($"tile {this.GetPrimaryKeyString()} holds no state (its activation is new); the solve starts again.");
        _outbox.Clear();
        (int[] positions, float[] values) = tile.OwnedNonzeros();
        var budget = new InlineBudget(limits);
        return Task.FromResult(new TileOwnedMaps
        {
            Positions = _outbox.Offer(FloatBytes.From(positions), limits, budget),
            Values = _outbox.Offer(FloatBytes.From(values), limits, budget),
        });
    }

    public Task CloseAsync(MessageHeader header)
    {
        CheckJob(header);
        _tile = null;
        _filters = null;
        this.DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private void CheckJob(MessageHeader header)
    {
        if (!string.Equals(header.Job, _job, StringComparison.Ordinal))
            throw new ArgumentException($"a message for job '{header.Job}' reached tile {this.GetPrimaryKeyString()}.");
    }
}
